//! The `vmswarm` binary end to end: runs that succeed. Bad inputs, which
//! must fail with one line naming the file and the field and leave no
//! output, are in `tests/bad_inputs.rs`.

use std::fs;
use std::process::{Command, Output};

fn vmswarm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args(args)
        .output()
        .expect("the binary runs")
}

const TINY: &str = r#"
name = "tiny"
seed = 5
[content]
images = 3
chunks_per_image = 2
blocks_per_chunk = 8
[workload]
rate_per_s = 1.0
window_s = 20.0
lifetime_min_s = 2.0
lifetime_max_s = 4.0
[server]
u_s_mbps = 200.0
"#;

#[test]
fn run_writes_every_file_and_prints_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("tiny.toml");
    fs::write(&cfg, TINY).unwrap();
    let out = tmp.path().join("out");
    let o = vmswarm(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for policy in [
        "iso",
        "cross-equ",
        "cross-prop",
        "cross-opt",
        "cross-opt-exact",
    ] {
        assert!(stdout.contains(policy), "summary lacks {policy}: {stdout}");
    }
    assert!(stdout.contains("events"));
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("policy,swarms,groups,rule,seed,vms,mean_vm_s,mean_image_s"));
    assert_eq!(summary.lines().count(), 6);
    let ticks = fs::read_to_string(out.join("ticks.csv")).unwrap();
    assert!(
        ticks.starts_with("policy,time_s,group,label,u_s_g_mbps,leechers,seeders,remaining_mb")
    );
    let images = fs::read_to_string(out.join("images.csv")).unwrap();
    assert_eq!(images.lines().count(), 1 + 5 * 3);
    let manifest = fs::read_to_string(out.join("manifest.toml")).unwrap();
    assert!(manifest.contains("seed = 5"));
    assert!(manifest.contains("vmswarm_version"));
    assert!(out.join("vms.csv").exists());
}

#[test]
fn policy_and_seed_flags_override_the_config() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("tiny.toml");
    fs::write(&cfg, TINY).unwrap();
    let out = tmp.path().join("o");
    let o = vmswarm(&[
        "run",
        cfg.to_str().unwrap(),
        "--policy",
        "iso",
        "--policy",
        "cross-opt-exact",
        "--seed",
        "99",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let policies: Vec<&str> = summary
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(policies, ["iso", "cross-opt-exact"]);
    assert!(summary.lines().nth(1).unwrap().contains(",99,"));
}

#[test]
fn manifest_and_trace_inputs_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(
        dir.join("m.toml"),
        "[[chunk]]\nid = \"base\"\nblocks = 8\n[[image]]\nname = \"ubuntu\"\nchunks = [\"base\", \"u1\"]\n[[image]]\nname = \"debian\"\nchunks = [\"base\", \"d1\", \"d2\"]\n",
    )
    .unwrap();
    fs::write(
        dir.join("t.csv"),
        "time_s,image\n0.0,ubuntu\n0.5,2\n1.0,debian\n",
    )
    .unwrap();
    let cfg = dir.join("c.toml");
    fs::write(
        &cfg,
        "[content]\nkind = \"manifest\"\nmanifest = \"m.toml\"\nblocks_per_chunk = 4\n[workload]\narrivals = \"trace\"\ntrace = \"t.csv\"\nlifetime_min_s = 1.0\nlifetime_max_s = 2.0\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = vmswarm(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let vms = fs::read_to_string(out.join("vms.csv")).unwrap();
    assert_eq!(vms.lines().count(), 1 + 5 * 3);
}

#[test]
fn bench_prints_its_table_and_writes_bench_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench");
    // --tiny shortens the paper's default to 30 s of arrivals, so that this
    // stays quick in a debug build too. Only the outputs are checked: timing
    // belongs in benchmarks, never in tests.
    let o = vmswarm(&[
        "bench",
        "--tiny",
        "--hosts",
        "200",
        "--policy",
        "cross-equ",
        "--rounds",
        "2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for fragment in [
        "blocks/s",
        "events/s",
        "peak_MB",
        "machine at start",
        "load average",
        "round 2 of 2: dependent loads",
        "(64 MiB)",
        "64MiB_ns",
        "fastest of 2 rounds",
        "paper-default ",
        "paper-at-5rps ",
        "flash-crowd ",
    ] {
        assert!(stdout.contains(fragment), "no `{fragment}` in {stdout}");
    }
    let text = fs::read_to_string(out.join("bench.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "scenario",
            "policy",
            "hosts",
            "vms",
            "events",
            "block_transfers",
            "wall_s",
            "blocks_per_s",
            "events_per_s",
            "peak_rss_mb",
            "peak_rss_per_run",
            "load_1m",
            "cores",
            "status",
            "finished_rounds",
            "chase_256kib_ns",
            "chase_8mib_ns",
            "chase_64mib_ns",
            "note"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let scenarios: Vec<(&str, &str, &str)> = rows.iter().map(|r| (&r[0], &r[1], &r[2])).collect();
    assert_eq!(scenarios[2], ("flash-crowd", "cross-equ", "200"));
    assert_eq!(scenarios.len(), 3);
    assert_eq!(scenarios[0].0, "paper-default");
    assert_eq!(scenarios[1].0, "paper-at-5rps");
    // The same 30 s window at 5 requests/s rather than 2: more VMs.
    let vms = |r: &csv::StringRecord| r[3].parse::<usize>().unwrap();
    assert!(vms(&rows[1]) > vms(&rows[0]), "{rows:?}");
    // 200 hosts: 20 preheated seeders and 180 VMs, each fetching 50 blocks.
    assert_eq!(&rows[2][3], "180");
    assert_eq!(&rows[2][5], "9000");
    for r in &rows {
        assert_eq!(&r[13], "done", "{r:?}");
        assert_eq!(&r[14], "2", "both rounds finished: {r:?}");
        let blocks_per_s: f64 = r[7].parse().unwrap();
        assert!(blocks_per_s > 0.0, "{r:?}");
        // Each row carries its round's memory latency, one per span.
        for column in 15..18 {
            let ns: f64 = r[column].parse().unwrap();
            assert!(ns.is_finite() && ns > 0.0, "{r:?}");
        }
    }
}
