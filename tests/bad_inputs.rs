//! Bad inputs through the real binary (issue 5): configs, manifests, traces,
//! sweeps, analytic configs and command lines. Every case must exit with
//! code 1, print one line on stderr naming the file at fault and the
//! expected fragments (the line or field, and what is allowed), never
//! panic, and leave no output behind.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Every case fails at once; this only stops a regression that hangs.
const TIMEOUT: Duration = Duration::from_secs(60);

/// One bad input: files written into a fresh directory (the working
/// directory of the run), the arguments (split on spaces; `--out out` is
/// added unless given), the file the message must name, and fragments it
/// must contain.
struct Case {
    name: &'static str,
    files: Vec<(&'static str, String)>,
    args: &'static str,
    blame: &'static str,
    expect: &'static [&'static str],
}

fn case(
    name: &'static str,
    files: &[(&'static str, &str)],
    args: &'static str,
    blame: &'static str,
    expect: &'static [&'static str],
) -> Case {
    Case {
        name,
        files: files.iter().map(|&(f, t)| (f, t.to_string())).collect(),
        args,
        blame,
        expect,
    }
}

/// `run c.toml` on a config alone.
fn config(name: &'static str, text: &str, expect: &'static [&'static str]) -> Case {
    case(name, &[("c.toml", text)], "run c.toml", "c.toml", expect)
}

/// `sweep c.toml` on a config alone.
fn sweep(name: &'static str, text: &str, expect: &'static [&'static str]) -> Case {
    case(name, &[("c.toml", text)], "sweep c.toml", "c.toml", expect)
}

/// A small config reading the trace `t.csv` (3 generated images).
const TRACE: &str = "[content]\nimages = 3\nchunks_per_image = 2\nblocks_per_chunk = 4\n\
                     [workload]\narrivals = \"trace\"\ntrace = \"t.csv\"\n";

/// A trace case: `t.csv` holds `text`; the message must name `t.csv`.
fn trace(name: &'static str, text: &str, expect: &'static [&'static str]) -> Case {
    case(
        name,
        &[("c.toml", TRACE), ("t.csv", text)],
        "run c.toml",
        "t.csv",
        expect,
    )
}

/// A small config reading the manifest `m.toml`.
const MANIFEST: &str = "[content]\nkind = \"manifest\"\nmanifest = \"m.toml\"\nblocks_per_chunk = 4\n\
                        [workload]\nrate_per_s = 1.0\nwindow_s = 5.0\n";

/// A manifest case: `m.toml` holds `text`; the message must name `m.toml`.
fn manifest(name: &'static str, text: &str, expect: &'static [&'static str]) -> Case {
    case(
        name,
        &[("c.toml", MANIFEST), ("m.toml", text)],
        "run c.toml",
        "m.toml",
        expect,
    )
}

/// A fixed-rule policy `x` with `shares`, run alone.
fn fixed(shares: &str) -> String {
    format!(
        "policies = [\"x\"]\n[content]\nimages = 3\n[[policy]]\nname = \"x\"\nswarms = \"cross\"\n\
         groups = \"image\"\nrule = \"fixed\"\n{shares}\n"
    )
}

/// The bundled analytic config with `from` replaced by `to` (once).
/// `line N` for the line of configs/analytic.toml that starts with `key`,
/// plus `offset` (the lines a case inserts before it).
fn analytic_line(key: &str, offset: usize) -> String {
    let text = include_str!("../configs/analytic.toml");
    let n = text
        .lines()
        .position(|l| l.starts_with(key))
        .expect("key in analytic.toml");
    format!("line {}", n + 1 + offset)
}

fn analytic(from: &str, to: &str) -> String {
    let text = include_str!("../configs/analytic.toml");
    assert!(text.contains(from), "analytic.toml has no `{from}`");
    text.replacen(from, to, 1)
}

/// A config that runs (tiny), for cases that fail late.
const TINY: &str = "seed = 5\n[content]\nimages = 2\nchunks_per_image = 2\nblocks_per_chunk = 4\n\
                    [workload]\nrate_per_s = 1.0\nwindow_s = 5.0\nlifetime_min_s = 1.0\n\
                    lifetime_max_s = 2.0\n";

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    vec![
        // Configs: syntax, keys and types.
        config("syntax", "seed = \n", &["line 1", "`seed =`"]),
        config("unclosed-table", "[peers\nupload_mbps = 3\n", &["line 1", "expected `]`"]),
        config("unknown-key", "[peers]\nupload = 3\n", &["line 2", "unknown field `upload`", "`upload_mbps`"]),
        config("unknown-table", "[network]\nspeed = 3\n", &["line 1", "unknown field `network`", "`workload`"]),
        config("wrong-type", "[server]\nu_s_mbps = \"fast\"\n", &["line 2", "`u_s_mbps = \"fast\"`", "expected f64"]),
        config("float-for-integer", "[content]\nimages = 2.5\n", &["line 2", "`images = 2.5`", "expected usize"]),
        config("duplicate-key", "seed = 1\nseed = 2\n", &["line 2", "duplicate key"]),
        config("unknown-kind", "[content]\nkind = \"zip\"\n", &["line 2", "unknown variant `zip`", "`shared-core`"]),
        // Configs: ranges.
        config("negative-rate", "[workload]\nrate_per_s = -2.0\n", &["field `workload.rate_per_s`", "> 0", "got -2"]),
        config("zero-rate", "[workload]\nrate_per_s = 0\n", &["field `workload.rate_per_s`", "> 0", "got 0"]),
        config("zero-tick", "[server]\ntick_s = 0\n", &["field `server.tick_s`", "> 0"]),
        config("no-server-no-seeder", "[server]\nu_s_mbps = 0.0\n", &["field `server.u_s_mbps`", "> 0 when workload.initial_seeders = 0"]),
        config("upload-spread", "[peers]\nupload_spread = 1.5\n", &["field `peers.upload_spread`", "[0, 1]", "got 1.5"]),
        config("upload-slots-huge", "[peers]\nupload_slots = 70000\n", &["field `peers.upload_slots`", "1..=32767", "got 70000"]),
        config("pool-ratio-zero", "[content]\ncommon_ratio = 0.0\n", &["field `content.common_ratio`", "(0, 1]", "pool"]),
        config("pool-ratio-high", "[content]\ncommon_ratio = 1.5\n", &["field `content.common_ratio`", "(0, 1]", "got 1.5"]),
        config("shared-core-beta", "[content]\nkind = \"shared-core\"\ncommon_ratio = -0.1\n", &["field `content.common_ratio`", "[0, 1]", "shared-core"]),
        config("nan", "[peers]\nupload_mbps = nan\n", &["field `peers.upload_mbps`", "finite", "NaN"]),
        config("nan-ratio", "[content]\ncommon_ratio = nan\n", &["field `content.common_ratio`", "(0, 1]", "NaN"]),
        config("inf", "[workload]\nwindow_s = inf\n", &["field `workload.window_s`", "finite", "inf"]),
        config("window-too-long", "[workload]\nwindow_s = 1e12\n", &["field `workload.window_s`", "at most 1e7 ticks"]),
        config("warmup-past-window", "[workload]\nwarmup_s = 400.0\n", &["field `workload.warmup_s`", "< workload.window_s"]),
        config("lifetimes", "[workload]\nlifetime_min_s = 9.0\nlifetime_max_s = 1.0\n", &["field `workload.lifetime_max_s`", ">= workload.lifetime_min_s"]),
        config("zero-images", "[content]\nimages = 0\n", &["field `content.images`", "at least 1"]),
        config("zero-chunks", "[content]\nchunks_per_image = 0\n", &["field `content.chunks_per_image`", "at least 1"]),
        config("zero-blocks", "[content]\nblocks_per_chunk = 0\n", &["field `content.blocks_per_chunk`", "at least 1"]),
        config("zero-block-mb", "[content]\nblock_mb = 0.0\n", &["field `content.block_mb`", "> 0"]),
        config("manifest-required", "[content]\nkind = \"manifest\"\n", &["field `content.manifest`", "required"]),
        // Configs: estimated cost above [limits] (issue 9).
        config("rate-typo", "[workload]\nrate_per_s = 1e6\n", &["field `workload.rate_per_s`", "GB for 3.0e8 requests", "the limit is 8 GB (limits.max_memory_gb)", "lower the rate or the window"]),
        config("million-images", "[content]\nimages = 1000000\n", &["field `content.images`", "GB for 1000000 images of 16 chunks of 64 blocks", "limits.max_memory_gb"]),
        config("million-images-cross", "policies = [\"cross-equ\"]\n[content]\nimages = 1000000\n", &["field `content.images`", "block transfers to compare 5.0e11 pairs of images", "limits.max_block_transfers"]),
        config("burst-typo", "[workload]\narrivals = \"burst\"\nburst_count = 100000000\n", &["field `workload.burst_count`", "GB for 1.0e8 requests", "lower the burst count"]),
        config("memory-limit-lowered", "[limits]\nmax_memory_gb = 0.001\n", &["field `server.tick_s`", "ticks of server.tick_s = 1 s", "the limit is 0.001 GB (limits.max_memory_gb)"]),
        config("work-limit-lowered", "[limits]\nmax_block_transfers = 1000\n", &["field `workload.rate_per_s`", "block transfers for 600 requests x 1024 blocks x 5 policies", "the limit is 1.0e3 (limits.max_block_transfers)"]),
        config("memory-limit-zero", "[limits]\nmax_memory_gb = 0\n", &["field `limits.max_memory_gb`", "> 0"]),
        config("tiny-racks", "[workload]\nrate_per_s = 20.0\n[peers]\nlocality = \"rack\"\n[topology]\nhosts_per_rack = 2\n[limits]\nmax_memory_gb = 0.5\n", &["field `topology.hosts_per_rack`", "listed per key in each of 3000 racks", "use fewer, larger racks"]),
        case("trace-too-long-for-memory", &[("c.toml", &format!("{TRACE}[limits]\nmax_memory_gb = 0.01\n")), ("t.csv", &format!("time_s,image\n{}", "0.0,1\n".repeat(20000)))], "run c.toml", "c.toml", &["field `workload.trace`", "GB for 20000 requests", "use a shorter trace"]),
        // Configs: policies.
        config("no-policy", "policies = []\n", &["field `policies`", "at least one"]),
        config("unknown-policy", "policies = [\"iso\", \"fastest\"]\n", &["field `policies[1]`", "unknown policy `fastest`", "cross-opt-exact"]),
        config("policy-twice", "policies = [\"iso\", \"cross-equ\", \"iso\"]\n", &["field `policies[2]`", "`iso` is listed twice"]),
        config("unknown-rule", "[[policy]]\nname = \"x\"\nswarms = \"cross\"\ngroups = \"image\"\nrule = \"magic\"\n", &["line 5", "unknown variant `magic`", "`fixed`"]),
        config("policy-missing-field", "[[policy]]\nname = \"x\"\nswarms = \"cross\"\n", &["line 1", "missing field `groups`"]),
        config("policy-shadows-preset", "[[policy]]\nname = \"iso\"\nswarms = \"cross\"\ngroups = \"image\"\nrule = \"equal\"\n", &["field `policy[0].name`", "preset's name"]),
        config("fixed-without-shares", &fixed(""), &["field `policy[0].shares`", "required when rule = \"fixed\""]),
        config("shares-above-one", &fixed("shares = [0.5, 0.4, 0.3]"), &["field `policy[0].shares`", "at most 1", "1.2"]),
        config("negative-share", &fixed("shares = [0.5, -0.1, 0.3]"), &["field `policy[0].shares`", ">= 0"]),
        config("shares-wrong-length", &fixed("shares = [0.5, 0.5]"), &["field `policy[0].shares`", "3 server groups", "exactly 3 shares"]),
        // Configs: seeds.
        config("seed-negative", "seed = -1\n", &["line 1", "`seed = -1`", "from 0 to 9223372036854775807"]),
        config("seed-above-i64", "seed = 9223372036854775808\n", &["line 1", "from 0 to 9223372036854775807"]),
        config("seed-toml-overflow", "seed = 99999999999999999999999\n", &["line 1", "from 0 to 9223372036854775807"]),
        case("seed-flag-above-i64", &[("c.toml", "")], "run c.toml --seed 9223372036854775808", "c.toml", &["--seed 9223372036854775808", "must be at most 9223372036854775807"]),
        case("policy-flag-unknown", &[("c.toml", "")], "run c.toml --policy nope", "c.toml", &["--policy `nope`", "unknown policy", "cross-opt-exact"]),
        // Sweeps.
        sweep("sweep-unknown-key", "[[sweep.axis]]\nkey = \"workload.rate\"\nvalues = [1.0]\n", &["field `workload.rate`", "unknown field `rate`", "`rate_per_s`"]),
        sweep("sweep-unknown-table", "[[sweep.axis]]\nkey = \"network.speed\"\nvalues = [1.0]\n", &["field `network.speed`", "not a table of the config"]),
        sweep("sweep-out-of-range", "[[sweep.axis]]\nkey = \"workload.rate_per_s\"\nvalues = [1.0, -1.0]\n", &["field `workload.rate_per_s`", "> 0", "got -1"]),
        sweep("sweep-ratio-out-of-range", "[[sweep.axis]]\nkey = \"content.common_ratio\"\nvalues = [0.2, 2.0]\n", &["field `content.common_ratio`", "(0, 1]"]),
        sweep("sweep-bad-variant", "[[sweep.axis]]\nkey = \"workload.popularity\"\nvalues = [\"pareto\"]\n", &["field `workload.popularity`", "unknown variant `pareto`", "`uniform`"]),
        sweep("sweep-no-values", "[[sweep.axis]]\nkey = \"workload.rate_per_s\"\nvalues = []\n", &["field `sweep.axis[0].values`", "no value"]),
        sweep("sweep-zero-replications", "[sweep]\nreplications = 0\n", &["field `sweep.replications`", "at least 1"]),
        sweep("sweep-unknown-baseline", "[sweep]\nbaseline = \"nope\"\n", &["field `sweep.baseline`", "unknown policy `nope`"]),
        sweep("sweep-unknown-sweep-key", "[sweep]\nreps = 3\n", &["line 2", "unknown field `reps`", "`replications`"]),
        // Traces.
        trace("trace-unsorted", "time_s,image\n1.0,1\n0.5,2\n", &["line 3", "time_s", "non-decreasing", "0.5 after 1"]),
        trace("trace-unknown-image", "time_s,image\n0.0,1\n0.5,fedora\n", &["line 3", "unknown image `fedora`", "1..=3 or an image name"]),
        trace("trace-image-zero", "time_s,image\n0.0,0\n", &["line 2", "unknown image `0`", "1..=3"]),
        trace("trace-negative-time", "time_s,image\n-1.0,1\n", &["line 2", "time_s", ">= 0", "got -1"]),
        trace("trace-nan-time", "time_s,image\nnan,1\n", &["line 2", "time_s", "finite", "NaN"]),
        trace("trace-header", "time,image\n1.0,1\n", &["header", "`time_s,image`", "got `time,image`"]),
        trace("trace-too-many-fields", "time_s,image\n0.0,1\n1.0,1,3\n", &["line 3", "expected 2 fields `time_s,image`, got 3"]),
        trace("trace-too-few-fields", "time_s,image\n0.0,1\n\n1.0\n", &["line 4", "expected 2 fields `time_s,image`, got 1"]),
        trace("trace-non-numeric-time", "time_s,image\nsoon,1\n", &["line 2", "time_s", "`soon` is not a number"]),
        trace("trace-header-only", "time_s,image\n", &["holds no request", "after the header"]),
        trace("trace-empty-file", "", &["the trace is empty", "`time_s,image`"]),
        trace("trace-too-late", "time_s,image\n0.0,1\n1e12,2\n", &["time_s", "at most 1e7 ticks"]),
        case("trace-missing", &[("c.toml", TRACE)], "run c.toml", "c.toml", &["field `workload.trace`", "t.csv", "No such file"]),
        // Manifests.
        case("manifest-missing", &[("c.toml", MANIFEST)], "run c.toml", "c.toml", &["field `content.manifest`", "m.toml", "No such file"]),
        manifest("manifest-no-image", "[[chunk]]\nid = \"a\"\n", &["field `image`", "lists no image", "[[image]]"]),
        manifest("manifest-empty-file", "", &["field `image`", "lists no image"]),
        manifest("manifest-empty-chunk-list", "[[image]]\nname = \"a\"\nchunks = []\n", &["field `image[0].chunks`", "at least one chunk"]),
        manifest("manifest-duplicate-image", "[[image]]\nname = \"a\"\nchunks = [\"x\"]\n[[image]]\nname = \"a\"\nchunks = [\"y\"]\n", &["field `image[1].name`", "duplicate image name `a`", "unique"]),
        manifest("manifest-duplicate-chunk-id", "[[chunk]]\nid = \"x\"\n[[chunk]]\nid = \"x\"\n[[image]]\nname = \"a\"\nchunks = [\"x\"]\n", &["field `chunk[1].id`", "duplicate chunk id `x`", "unique"]),
        manifest("manifest-chunk-twice-in-image", "[[image]]\nname = \"a\"\nchunks = [\"x\", \"x\"]\n", &["field `image[0].chunks`", "chunk `x` is listed twice"]),
        manifest("manifest-zero-blocks", "[[chunk]]\nid = \"x\"\nblocks = 0\n[[image]]\nname = \"a\"\nchunks = [\"x\"]\n", &["field `chunk[0].blocks`", "at least 1"]),
        manifest("manifest-negative-blocks", "[[chunk]]\nid = \"x\"\nblocks = -2\n[[image]]\nname = \"a\"\nchunks = [\"x\"]\n", &["line 3", "`blocks = -2`", "expected u32"]),
        manifest("manifest-zero-block-mb", "[[chunk]]\nid = \"x\"\nblock_mb = 0.0\n[[image]]\nname = \"a\"\nchunks = [\"x\"]\n", &["field `chunk[0].block_mb`", "> 0", "got 0"]),
        manifest("manifest-negative-block-mb", "[[chunk]]\nid = \"x\"\nblock_mb = -2.0\n[[image]]\nname = \"a\"\nchunks = [\"x\"]\n", &["field `chunk[0].block_mb`", "> 0", "got -2"]),
        // Streamed requests (workload.stream).
        config("stream-burst", "[workload]\narrivals = \"burst\"\nstream = true\n", &["field `workload.stream`", "only with workload.arrivals = \"poisson\""]),
        config("stream-topology", "[workload]\nstream = true\n[topology]\nhosts_per_rack = 10\n", &["field `workload.stream`", "[topology]", "allowed: stream = false"]),
        config("stream-download-cap", "[workload]\nstream = true\n[peers]\ndownload_cap_mbps = 500.0\n", &["field `workload.stream`", "peers.download_cap_mbps"]),
        // The data center: [topology] and peers.locality.
        config("topology-zero-hosts", "[topology]\nhosts_per_rack = 0\n", &["field `topology.hosts_per_rack`", "at least 1"]),
        config("topology-negative-uplink", "[topology]\nuplink_mbps = -5.0\n", &["field `topology.uplink_mbps`", "> 0", "got -5"]),
        config("topology-huge-downlink", "[topology]\ndownlink_mbps = 1e12\n", &["field `topology.downlink_mbps`", "at most 1e9"]),
        config("topology-zero-ratio", "[topology]\noversubscription = 0.0\n", &["field `topology.oversubscription`", "> 0", "got 0"]),
        config("topology-ratio-and-uplink", "[topology]\noversubscription = 4.0\nuplink_mbps = 100.0\n", &["field `topology.oversubscription`", "cannot be given with topology.uplink_mbps"]),
        config("topology-ratio-without-upload", "[peers]\nupload_mbps = 0.0\n[topology]\noversubscription = 4.0\n", &["field `topology.oversubscription`", "peers.upload_mbps > 0"]),
        config("topology-nan-resolve", "[topology]\nresolve_s = nan\n", &["field `topology.resolve_s`", ">= 0", "NaN"]),
        config("topology-negative-resolve", "[topology]\nresolve_s = -0.01\n", &["field `topology.resolve_s`", ">= 0"]),
        config("topology-unknown-placement", "[topology]\nplacement = \"striped\"\n", &["line 2", "unknown variant `striped`", "`round-robin`"]),
        config("topology-unknown-key", "[topology]\nracks = 4\n", &["line 2", "unknown field `racks`", "`hosts_per_rack`"]),
        config("topology-wrong-type", "[topology]\nhosts_per_rack = \"forty\"\n", &["line 2", "`hosts_per_rack = \"forty\"`", "expected usize"]),
        config("locality-without-topology", "[peers]\nlocality = \"rack\"\n", &["field `peers.locality`", "[topology]"]),
        config("locality-unknown", "[peers]\nlocality = \"zone\"\n", &["line 2", "unknown variant `zone`", "`rack`"]),
        manifest("manifest-unknown-key", "[[image]]\nname = \"a\"\nchunks = [\"x\"]\nsize = 3\n", &["line 4", "unknown field `size`", "`chunks`"]),
        manifest("manifest-unknown-table", "[[images]]\nname = \"a\"\nchunks = [\"x\"]\n", &["line 1", "unknown field `images`", "`image`"]),
        manifest("manifest-syntax", "[[image]\nname = \"a\"\n", &["line 1", "expected `]`"]),
        // Command line.
        case("missing-config", &[], "run nope.toml", "nope.toml", &["cannot read the config", "No such file"]),
        case("unwritable-out", &[("c.toml", TINY), ("file.txt", "not a directory\n")], "run c.toml --out file.txt/out", "file.txt/out", &["cannot write output", "file.txt is not a directory"]),
        case("bench-too-few-hosts", &[], "bench --hosts 5", "configs/flash-crowd.toml", &["--hosts 5", "must be from 10", "to 10000000"]),
        case("bench-zero-budget", &[], "bench --max-wall-s 0", "configs/flash-crowd.toml", &["--max-wall-s 0", "> 0", "inf for no budget"]),
        case("bench-unknown-policy", &[], "bench --policy nope", "configs/flash-crowd.toml", &["--policy `nope`", "unknown policy", "cross-opt-exact"]),
        // Analytic configs (`vmswarm analyze`).
        case("analytic-unknown-key", &[("a.toml", &analytic("eta = 0.8", "eta = 0.8\nspeed = 3"))], "analyze a.toml", "a.toml", &["(`speed = 3`)", "unknown field `speed`", "`eta_common`"]),
        case("analytic-wrong-type", &[("a.toml", &analytic("images = 10", "images = \"ten\""))], "analyze a.toml", "a.toml", &["(`images = \"ten\"`)", "expected usize"]),
        case("analytic-beta", &[("a.toml", &analytic("beta = 0.3", "beta = 1.5"))], "analyze a.toml", "a.toml", &["field `beta`", "(0, 1)", "got 1.5"]),
        case("analytic-nan", &[("a.toml", &analytic("eta = 0.8", "eta = nan"))], "analyze a.toml", "a.toml", &["field `eta`", "(0, 1]", "NaN"]),
        case("analytic-zipf-too-large", &[("a.toml", &analytic("zipf_exponent = 1.0", "zipf_exponent = 400.0"))], "analyze a.toml", "a.toml", &["field `zipf_exponent`", "from 0 to 10", "got 400"]),
        case("analytic-huge-file", &[("a.toml", &analytic("file_mb = 4096.0", "file_mb = 1e308"))], "analyze a.toml", "a.toml", &["field `file_mb`", "to 1e9"]),
        case("analytic-empty-figure", &[("a.toml", &analytic("u_s_mbps = 1024.0", "u_s_mbps = 1e6"))], "analyze a.toml", "a.toml", &["field `rates_per_s`", "Figure 3", "would be empty"]),
        case("analytic-missing-key", &[("a.toml", &analytic("images = 10\n", ""))], "analyze a.toml", "a.toml", &["missing field `images`"]),
        case("analytic-missing-file", &[], "analyze nope.toml", "nope.toml", &["cannot read the analytic config", "No such file"]),
    ]
}

fn files_under(dir: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path.clone());
            }
            out.insert(path.strip_prefix(dir).unwrap().display().to_string());
        }
    }
    out
}

/// Run one case; an `Err` says what is wrong with its handling.
fn check(case: &Case) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for (name, text) in &case.files {
        fs::write(dir.join(name), text).unwrap();
    }
    let before = files_under(dir);
    let mut args: Vec<&str> = case.args.split(' ').collect();
    if !args.contains(&"--out") {
        args.extend(["--out", "out"]);
    }
    // Output goes to files outside `dir`, and a run that hangs is killed.
    let logs = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args(&args)
        .current_dir(dir)
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("the binary runs");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > TIMEOUT {
            child.kill().unwrap();
            child.wait().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let stderr = fs::read_to_string(&err_path).unwrap();
    let mut problems = Vec::new();
    match status {
        None => problems.push(format!("still running after {TIMEOUT:?}")),
        Some(s) if s.code() != Some(1) => {
            problems.push(format!("exit status {:?}, not 1", s.code()))
        }
        Some(_) => {}
    }
    if stderr.contains("panicked") {
        problems.push("panicked".into());
    }
    if stderr.trim().lines().count() != 1 {
        problems.push("stderr is not one line".into());
    }
    for f in std::iter::once(&case.blame).chain(case.expect) {
        if !stderr.contains(f) {
            problems.push(format!("no `{f}`"));
        }
    }
    let after = files_under(dir);
    if after != before {
        let left: Vec<_> = after.difference(&before).collect();
        problems.push(format!("left behind: {left:?}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}: {}\n    stderr: {}",
            case.name,
            problems.join("; "),
            stderr.trim()
        ))
    }
}

#[test]
fn bad_inputs_fail_with_one_clear_line_and_leave_nothing() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut names = BTreeSet::new();
    for c in &cases {
        assert!(names.insert(c.name), "case `{}` twice", c.name);
    }
    // Cases are independent processes: run them on a few threads.
    let failures: Vec<String> = std::thread::scope(|s| {
        let chunks: Vec<&[Case]> = cases.chunks(cases.len().div_ceil(4)).collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .filter_map(|c| check(c).err())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    assert!(
        failures.is_empty(),
        "{} of {} cases mishandled:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn analytic_errors_give_the_line() {
    // The table above checks the quoted line; here, its number.
    let tmp = tempfile::tempdir().unwrap();
    for (from, to, key, offset) in [
        ("eta = 0.8", "eta = 0.8\nspeed = 3", "eta = 0.8", 1),
        ("images = 10", "images = \"ten\"", "images = 10", 0),
    ] {
        let path = tmp.path().join("a.toml");
        std::fs::write(&path, analytic(from, to)).unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
            .args([
                "analyze",
                path.to_str().unwrap(),
                "--out",
                tmp.path().join("o").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        let line = analytic_line(key, offset);
        assert!(
            stderr.contains(&format!("{line} (")),
            "{line} not in {stderr}"
        );
    }
}
