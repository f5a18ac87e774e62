//! `vmswarm regimes` end to end on a tiny map: the files, winners that agree
//! with the CSV's numbers, valid verdicts, byte-identical output for any
//! thread count, and bad maps refused with one line and nothing written.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use vmswarm::app::commands::{RegimesOptions, regimes};
use vmswarm::experiments::regimes::NOT_JUDGED;

/// 2 lifetimes x 2 u_c x 2 popularities x 2 rates of 3 tiny images, six
/// policies (one of our own, defined here: the list comes from the config).
const TINY: &str = r#"
seed = 3
policies = ["iso", "cross-equ", "cross-prop", "cross-opt", "cross-opt-exact", "iso-exact"]

[[policy]]
name = "iso-exact"
swarms = "isolated"
groups = "image"
rule = "exact"

[content]
images = 3
chunks_per_image = 4
blocks_per_chunk = 8
[workload]
rate_per_s = 1.0
window_s = 30.0
[server]
u_s_mbps = 300.0
[sweep]
replications = 3
baseline = "cross-opt"
[[sweep.axis]]
key = "workload.popularity"
values = ["zipf", "uniform"]
[[sweep.axis]]
key = "workload"
values = [{ lifetime_min_s = 0.0, lifetime_max_s = 2.0 }, { lifetime_min_s = 5.0, lifetime_max_s = 10.0 }]
[[sweep.axis]]
key = "peers.upload_mbps"
values = [32.0, 128.0]
[[sweep.axis]]
key = "workload.rate_per_s"
values = [0.5, 1.0]
[sweep.quick]
replications = 2
set = { "workload.window_s" = 20.0 }
[[sweep.quick.axis]]
key = "workload.rate_per_s"
values = [1.0, 2.0]
"#;

const POLICIES: usize = 6;
const FILES: [&str; 5] = [
    "regimes.csv",
    "regimes-claims.csv",
    "regimes.md",
    "regimes-mean_vm_s.svg",
    "regimes-p95_s.svg",
];

/// Run the map of `text` into `out` through the library.
fn run(text: &str, out: &Path, threads: usize, quick: bool) -> BTreeMap<String, Vec<u8>> {
    let configs = out.with_extension("configs");
    fs::create_dir_all(&configs).unwrap();
    fs::write(configs.join("regimes.toml"), text).unwrap();
    regimes(&RegimesOptions {
        quick,
        threads: Some(threads),
        out: Some(out.to_path_buf()),
        config_dir: Some(configs),
        quiet: true,
    })
    .unwrap();
    FILES
        .iter()
        .map(|f| (f.to_string(), fs::read(out.join(f)).unwrap()))
        .collect()
}

/// CSV text as header-keyed rows.
fn rows(bytes: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(bytes);
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}: {}", row[key]))
}

#[test]
fn the_map_is_identical_with_one_and_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let one = run(TINY, &tmp.path().join("one"), 1, false);
    let two = run(TINY, &tmp.path().join("two"), 2, false);
    for (name, bytes) in &one {
        assert!(!bytes.is_empty(), "{name} is empty");
        assert_eq!(bytes, &two[name], "{name} differs between 1 and 2 threads");
    }
    // Nothing else is left in the output but the stored runs.
    let mut names: Vec<String> = fs::read_dir(tmp.path().join("one"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut expected: Vec<String> = FILES.iter().map(|s| s.to_string()).collect();
    expected.push(".jobs".into());
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn winners_agree_with_the_numbers_in_the_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let files = run(TINY, &tmp.path().join("out"), 2, false);
    let rows = rows(&files["regimes.csv"]);
    // 16 cells x 6 policies x 3 metrics.
    assert_eq!(rows.len(), 16 * POLICIES * 3);
    let mut groups: BTreeMap<Vec<String>, Vec<&BTreeMap<String, String>>> = BTreeMap::new();
    for r in &rows {
        let key = [
            "lifetime",
            "upload_mbps",
            "popularity",
            "rate_per_s",
            "metric",
        ]
        .map(|k| r[k].clone())
        .to_vec();
        groups.entry(key).or_default().push(r);
    }
    assert_eq!(groups.len(), 16 * 3);
    let mut ties = 0;
    for (key, g) in &groups {
        assert_eq!(g.len(), POLICIES, "{key:?}");
        let best = g
            .iter()
            .min_by(|a, b| num(a, "mean").total_cmp(&num(b, "mean")))
            .unwrap();
        for r in g {
            assert_eq!(r["best"], best["policy"], "{key:?}");
            assert_eq!(num(r, "n"), 3.0);
            assert!(num(r, "ci_low") <= num(r, "mean") && num(r, "mean") <= num(r, "ci_high"));
            let status = r["status"].as_str();
            if r["policy"] == best["policy"] {
                assert_eq!((status, r["rank"].as_str()), ("best", "1"), "{key:?}");
                assert_eq!(num(r, "diff_to_best"), 0.0);
            } else {
                // Paired: the mean difference is the difference of means.
                let d = num(r, "mean") - num(best, "mean");
                assert!((num(r, "diff_to_best") - d).abs() < 1e-9, "{key:?}");
                let clear = num(r, "diff_ci_low") > 0.0;
                assert_eq!(status, if clear { "behind" } else { "tie" }, "{key:?}");
                ties += usize::from(!clear);
            }
        }
        let mut ranks: Vec<usize> = g.iter().map(|r| r["rank"].parse().unwrap()).collect();
        ranks.sort();
        assert_eq!(ranks, (1..=POLICIES).collect::<Vec<_>>());
    }
    assert!(
        ties > 0,
        "some policies are indistinguishable in a tiny map"
    );
    let key = ["0-2 s", "32", "zipf", "1", "mean_vm_s"]
        .map(String::from)
        .to_vec();
    check_reports(&files, &groups[&key][0]["best"]);
}

/// The Markdown names `winner` first for zipf at the claims rate (1 req/s),
/// lifetime 0-2 s and u_c 32 Mb/s; it has a section per regime, and the
/// heatmaps their labels and the config's own policy.
fn check_reports(files: &BTreeMap<String, Vec<u8>>, winner: &str) {
    let md = String::from_utf8(files["regimes.md"].clone()).unwrap();
    let grid = md
        .split("### Lowest mean_vm_s, zipf popularity, 1 req/s")
        .nth(1)
        .unwrap();
    let row = grid.lines().find(|l| l.starts_with("| 0-2 s |")).unwrap();
    let first = row.split('|').nth(2).unwrap().trim();
    assert!(
        first.starts_with(&format!("{winner} (")) || first.starts_with(&format!("tie: {winner} ~")),
        "{first} vs {winner}"
    );
    for regime in [
        "lifetime 0-2 s, u_c 32 Mb/s",
        "lifetime 5-10 s, u_c 128 Mb/s",
    ] {
        assert!(md.contains(&format!("## {regime}")), "{regime}");
    }
    for svg in ["regimes-mean_vm_s.svg", "regimes-p95_s.svg"] {
        let text = String::from_utf8(files[svg].clone()).unwrap();
        for label in [
            "0-2 s",
            "5-10 s",
            "zipf, 0.5 req/s",
            "uniform, 1 req/s",
            "iso-exact",
        ] {
            assert!(text.contains(label), "{svg}: no {label}");
        }
    }
}

#[test]
fn every_regime_has_eleven_claims_with_valid_verdicts() {
    let tmp = tempfile::tempdir().unwrap();
    let files = run(TINY, &tmp.path().join("out"), 2, true);
    let rows = rows(&files["regimes-claims.csv"]);
    let mut claims: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for r in &rows {
        let regime = (r["lifetime"].clone(), r["upload_mbps"].clone());
        let ids = claims.entry(regime).or_default();
        if !ids.contains(&r["claim"]) {
            ids.push(r["claim"].clone());
        }
        let verdict = r["verdict"].as_str();
        assert!(
            ["holds", "fails", "inconclusive", "not run"].contains(&verdict),
            "{verdict}"
        );
        assert_eq!(r["quick"], "true");
        match r["claim"].as_str() {
            "C10" | "C11" => {
                assert_eq!(
                    (verdict, r["explanation"].as_str()),
                    ("not run", NOT_JUDGED)
                )
            }
            _ => {
                assert_ne!(verdict, "not run", "{r:?}");
                // An image without a counted VM in a replication has no mean
                // there (a tiny map), so per-image comparisons may have one.
                let n = r["replications"].as_str();
                assert!(
                    n == "2" || (r["figure"].starts_with('6') && n == "1"),
                    "{r:?}"
                );
                assert!(
                    ["holds", "fails", "inconclusive"].contains(&r["comparison_verdict"].as_str())
                );
            }
        }
    }
    assert_eq!(claims.len(), 4);
    let ids: Vec<String> = (1..=11).map(|k| format!("C{k}")).collect();
    assert!(claims.values().all(|v| *v == ids), "{claims:?}");
    // The quick map's own rates: 1 and 2 req/s.
    let md = String::from_utf8(files["regimes.md"].clone()).unwrap();
    assert!(md.contains("**Quick run**") && md.contains("(1, 2 req/s)"));
}

fn binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args(args)
        .output()
        .expect("the binary runs")
}

#[test]
fn bad_maps_fail_with_one_line_naming_the_file_and_key() {
    let cases: [(&str, String, &str); 4] = [
        (
            "claims rate not swept",
            TINY.replace("rate_per_s = 1.0", "rate_per_s = 1.5"),
            "field `workload.rate_per_s`",
        ),
        (
            "an axis over another key",
            format!("{TINY}[[sweep.axis]]\nkey = \"content.common_ratio\"\nvalues = [0.2, 0.4]\n"),
            "field `sweep.axis`",
        ),
        (
            "a lifetime pair out of order",
            TINY.replace("lifetime_min_s = 5.0", "lifetime_min_s = 50.0"),
            "field `workload.lifetime_max_s`",
        ),
        (
            "an unknown policy",
            TINY.replace("\"iso-exact\"]", "\"iso-best\"]"),
            "field `policies[5]`",
        ),
    ];
    for (name, text, key) in cases {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("regimes.toml"), &text).unwrap();
        let out: PathBuf = tmp.path().join("out");
        let o = binary(&[
            "regimes",
            "--configs",
            tmp.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{name}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{name}: {stderr}");
        assert!(
            stderr.contains("regimes.toml") && stderr.contains(key),
            "{name}: {stderr}"
        );
        assert!(!out.exists(), "{name}: output left behind");
    }
    // No regimes.toml in the directory.
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = binary(&[
        "regimes",
        "--configs",
        tmp.path().to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("regimes.toml"));
    assert!(!out.exists());
}
