//! The `vmswarm` binary end to end: a tiny run, and bad inputs that must
//! fail with a message naming the file and the field, leaving no output.

use std::fs;
use std::path::Path;
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

/// Run a bad config; it must fail, name the file and each fragment, and
/// leave no output directory behind.
fn rejects(name: &str, text: &str, fragments: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join(format!("{name}.toml"));
    fs::write(&cfg, text).unwrap();
    let out = tmp.path().join("out");
    let o = vmswarm(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{name}: accepted");
    assert_eq!(o.status.code(), Some(1), "{name}: {stderr}");
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    assert!(
        stderr.contains(&format!("{name}.toml")),
        "{name}: no file name in {stderr}"
    );
    for f in fragments {
        assert!(stderr.contains(f), "{name}: `{f}` not in {stderr}");
    }
    assert!(!out.exists(), "{name}: output left behind");
}

#[test]
fn bad_configs_fail_with_a_clear_message() {
    rejects("syntax", "seed = \n", &["line 1"]);
    rejects(
        "unknown-key",
        "[peers]\nupload = 3\n",
        &["line 2", "unknown field `upload`"],
    );
    rejects(
        "wrong-type",
        "[server]\nu_s_mbps = \"fast\"\n",
        &["line 2", "u_s_mbps"],
    );
    rejects(
        "negative-rate",
        "[workload]\nrate_per_s = -2.0\n",
        &["workload.rate_per_s", "> 0"],
    );
    rejects(
        "zero-chunks",
        "[content]\nchunks_per_image = 0\n",
        &["content.chunks_per_image", "at least 1"],
    );
    rejects(
        "ratio",
        "[content]\ncommon_ratio = 1.5\n",
        &["content.common_ratio", "(0, 1]"],
    );
    rejects(
        "policy",
        "policies = [\"iso\", \"fastest\"]\n",
        &["policies[1]", "unknown policy `fastest`", "cross-opt"],
    );
    rejects(
        "nan",
        "[peers]\nupload_mbps = nan\n",
        &["peers.upload_mbps"],
    );
    rejects(
        "lifetimes",
        "[workload]\nlifetime_min_s = 9.0\nlifetime_max_s = 1.0\n",
        &["workload.lifetime_max_s"],
    );
    rejects("seed", "seed = -1\n", &["seed"]);
    rejects(
        "no-manifest",
        "[content]\nkind = \"manifest\"\n",
        &["content.manifest", "required"],
    );
    rejects(
        "missing-trace",
        "[workload]\narrivals = \"trace\"\ntrace = \"nope.csv\"\n",
        &["workload.trace", "nope.csv", "No such file"],
    );
}

#[test]
fn a_missing_config_file_is_named() {
    let o = vmswarm(&["run", "/definitely/not/here.toml"]);
    assert!(!o.status.success());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("/definitely/not/here.toml"), "{stderr}");
    assert!(stderr.contains("cannot read the config"), "{stderr}");
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

    // A trace naming an unknown image is rejected with its line.
    fs::write(dir.join("t.csv"), "time_s,image\n0.0,ubuntu\n0.5,fedora\n").unwrap();
    let out2 = dir.join("out2");
    let o = vmswarm(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        stderr.contains("t.csv") && stderr.contains("line 3") && stderr.contains("fedora"),
        "{stderr}"
    );
    assert!(!Path::new(&out2).exists());
}
