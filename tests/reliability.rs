//! Resumable sweeps, shards and merge, run guards and invariant checks.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

use vmswarm::input::config::Config;
use vmswarm::scenario::Scenario;
use vmswarm::sim::{RunError, RunSetup, check_invariants, simulate};

fn vmswarm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// A sweep of 2 x 2 grid points x 3 replications = 12 jobs, small enough
/// to run in well under a second.
const SWEEP: &str = r#"
seed = 9
policies = ["iso", "cross-opt"]
[content]
images = 3
chunks_per_image = 4
blocks_per_chunk = 8
[workload]
rate_per_s = 1.0
window_s = 30.0
lifetime_min_s = 5.0
lifetime_max_s = 10.0
[server]
u_s_mbps = 300.0
[sweep]
replications = 3
[[sweep.axis]]
key = "workload.popularity"
values = ["zipf", "uniform"]
[[sweep.axis]]
key = "content.common_ratio"
values = [0.25, 0.5]
"#;

const FILES: [&str; 3] = ["runs.csv", "sweep.csv", "manifest.toml"];

fn assert_same_files(a: &Path, b: &Path) {
    for name in FILES {
        let x =
            fs::read(a.join(name)).unwrap_or_else(|e| panic!("{}: {e}", a.join(name).display()));
        let y =
            fs::read(b.join(name)).unwrap_or_else(|e| panic!("{}: {e}", b.join(name).display()));
        assert_eq!(
            x,
            y,
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn sweep(cfg: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "sweep",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    vmswarm(&args)
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("s.toml");
    fs::write(&cfg, SWEEP).unwrap();
    let whole = tmp.path().join("whole");
    assert!(sweep(&cfg, &whole, &[]).status.success());

    let resumed = tmp.path().join("resumed");
    let o = sweep(&cfg, &resumed, &["--stop-after", "4", "--threads", "1"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("interrupted: 4 of 12 runs are kept"),
        "{stderr}"
    );
    assert!(
        stderr.contains("run the same command again to resume"),
        "{stderr}"
    );
    // Nothing that looks finished is left behind.
    for name in FILES {
        assert!(
            !resumed.join(name).exists(),
            "{name} written by an interrupted sweep"
        );
    }
    let o = sweep(&cfg, &resumed, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_same_files(&whole, &resumed);
}

#[test]
fn merged_shards_equal_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("s.toml");
    fs::write(&cfg, SWEEP).unwrap();
    let whole = tmp.path().join("whole");
    assert!(sweep(&cfg, &whole, &[]).status.success());
    for n in 1..=3 {
        let dirs: Vec<String> = (0..n)
            .map(|i| {
                tmp.path()
                    .join(format!("n{n}-shard{i}"))
                    .display()
                    .to_string()
            })
            .collect();
        for (i, dir) in dirs.iter().enumerate() {
            let shard = format!("{i}/{n}");
            let o = sweep(&cfg, Path::new(dir), &["--shard", &shard]);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let merged = tmp.path().join(format!("merged{n}"));
        let mut args = vec!["merge"];
        args.extend(dirs.iter().map(String::as_str));
        args.extend(["--out", merged.to_str().unwrap(), "-q"]);
        let o = vmswarm(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert_same_files(&whole, &merged);
    }
}

#[test]
fn merging_an_incomplete_set_of_shards_names_what_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("s.toml");
    fs::write(&cfg, SWEEP).unwrap();
    let shard = tmp.path().join("shard0");
    assert!(sweep(&cfg, &shard, &["--shard", "0/3"]).status.success());
    let out = tmp.path().join("merged");
    let o = vmswarm(&[
        "merge",
        shard.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr.contains("8 of 12 runs are missing"), "{stderr}");
    assert!(!out.exists());
    let o = vmswarm(&["sweep", cfg.to_str().unwrap(), "--shard", "3/3"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains("0 <= i < n"));
}

#[test]
fn guards_stop_a_runaway_run_with_its_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("g.toml");
    fs::write(&cfg, SWEEP).unwrap();
    let out = tmp.path().join("out");
    let o = vmswarm(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-events",
        "500",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("with seed 9 stopped") && stderr.contains("--max-events"),
        "{stderr}"
    );
    assert!(!out.exists());
    let o = vmswarm(&[
        "run",
        cfg.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--max-sim-time",
        "5",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("simulated time passed") && stderr.contains("--max-sim-time"),
        "{stderr}"
    );
    assert!(!out.exists());
}

#[test]
fn an_injected_invariant_violation_is_an_error() {
    let config = Config::parse(SWEEP, Path::new("i.toml")).unwrap();
    let scenario = Scenario::build(&config).unwrap();
    let policy = &config.resolved_policies()[0];
    let setup = RunSetup {
        content: &scenario.content,
        workload: &scenario.workload,
        peers: &config.peers,
        server: &config.server,
        topology: None,
        policy,
        subgradient: config.subgradient.params(),
        seed: config.seed,
        limits: &config.limits,
        stop: &[],
    };
    let out = simulate(setup, &mut |_| {}).expect("a correct run passes its checks");
    let requests = scenario.workload.requests.len();
    assert!(check_invariants(&out, requests, &config.peers, &config.server).is_ok());

    // Each injected fault is caught.
    let mut lost = out.clone();
    lost.vms.pop();
    assert!(
        check_invariants(&lost, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("VMs completed")
    );
    let mut twice = out.clone();
    twice.counters.duplicate_deliveries = 1;
    assert!(
        check_invariants(&twice, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("twice")
    );
    let mut leak = out.clone();
    leak.counters.received_mb -= 4.0;
    assert!(
        check_invariants(&leak, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("Mb sent")
    );
    let mut crowded = out.clone();
    crowded.counters.max_uploads_per_peer = config.peers.upload_slots + 1;
    assert!(
        check_invariants(&crowded, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("upload_slots")
    );
    let mut greedy = out.clone();
    greedy.counters.max_peer_utilisation = 1.01;
    assert!(
        check_invariants(&greedy, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("upload capacity")
    );
    let mut overloaded = out.clone();
    overloaded.counters.max_link_utilisation = Some(1.01);
    assert!(
        check_invariants(&overloaded, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("a link carried")
    );
    let mut far = out.clone();
    far.counters.cross_rack_mb = far.counters.peer_sent_mb + 1.0;
    assert!(
        check_invariants(&far, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("crossed racks")
    );
    let mut over = out.clone();
    let t = over
        .ticks
        .iter_mut()
        .find(|t| t.server_sent_mb > 0.0)
        .expect("the server sent something");
    t.server_sent_mb += 1e3;
    assert!(
        check_invariants(&over, requests, &config.peers, &config.server)
            .unwrap_err()
            .contains("above its")
    );

    // And reported with the run's policy and seed.
    let e = RunError::Invariant {
        policy: policy.name.clone(),
        seed: config.seed,
        message: "x".into(),
    };
    assert!(e.to_string().contains("policy `iso` with seed 9"));
}
