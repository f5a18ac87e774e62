//! Streamed requests (`workload.stream`, issue 9): drawn as the run reaches
//! them, a departed peer's slot taken by the next arrival, records handed
//! out as VMs complete. The requests are the kept ones, and slot reuse must
//! not change what happens, so a streamed run equals the kept run: the same
//! statistics, ticks and per-VM records (in completion order). (Kept runs
//! reuse slots too: both hold about the peers present at once.)

mod common;

use common::{SMALL, config, run_all};
use vmswarm::scenario::Scenario;
use vmswarm::sim::metrics::VmRecord;

/// Stream the requests of a config.
fn streamed(text: &str) -> String {
    text.replace("[workload]\n", "[workload]\nstream = true\n")
}

/// Purge departed holders as soon as they outnumber present ones or more
/// peers left since the last purge than are present: slots are then free
/// for reuse all along `SMALL`'s short runs (seeders stay 5-15 s in a 60 s
/// window).
const PURGE_OFTEN: &str = "[limits]\npurge_stale_holders = 0\npurge_departed_peers = 0\n";

#[test]
fn a_streamed_run_equals_the_kept_run_in_as_few_slots() {
    for seed in [7, 8, 9] {
        for rate in ["1.5", "4.0"] {
            let text = SMALL
                .replace("seed = 7", &format!("seed = {seed}"))
                .replace("rate_per_s = 1.5", &format!("rate_per_s = {rate}"))
                + PURGE_OFTEN;
            let (kept_scenario, kept) = run_all(&config(&text));
            let streamed_config = config(&streamed(&text));
            let scenario = Scenario::build(&streamed_config).unwrap();
            assert!(scenario.workload.requests.is_empty());
            let requests = kept_scenario.workload.requests.len();
            assert_eq!(scenario.workload.request_count(), requests);
            for (policy, k) in streamed_config.resolved_policies().iter().zip(&kept) {
                let mut records: Vec<VmRecord> = Vec::new();
                let s = scenario
                    .run_policy(policy, &mut |vm| records.push(vm.clone()))
                    .unwrap();
                let what = format!("seed {seed}, rate {rate}, {}", policy.name);
                assert!(s.output.vms.is_empty() && s.output.vms_streamed, "{what}");
                assert_eq!(s.output.completed, requests, "{what}");
                // Handed out in completion order; the same records as kept.
                assert!(
                    records
                        .windows(2)
                        .all(|w| w[0].completion_s <= w[1].completion_s)
                );
                records.sort_by_key(|v| v.vm);
                assert_eq!(records, k.output.vms, "{what}");
                assert_eq!(
                    format!("{:?}", s.summary),
                    format!("{:?}", k.summary),
                    "{what}"
                );
                assert_eq!(format!("{:?}", s.per_image), format!("{:?}", k.per_image));
                assert_eq!(s.output.ticks, k.output.ticks, "{what}");
                let (sc, kc) = (&s.output.counters, &k.output.counters);
                assert_eq!(sc.block_transfers, kc.block_transfers, "{what}");
                assert_eq!(sc.peer_sent_mb, kc.peer_sent_mb, "{what}");
                assert_eq!(sc.waste_mb, kc.waste_mb, "{what}");
                assert!(kc.holder_purges > 0, "{what}");
                assert_eq!(sc.holder_purges, kc.holder_purges, "{what}");
                // Both reuse departed peers' slots: about the peers
                // present at once, not a slot per VM.
                assert_eq!(kc.peer_slots, sc.peer_slots, "{what}");
                assert!(
                    sc.peer_slots * 2 < requests,
                    "{what}: {} slots for {requests} VMs",
                    sc.peer_slots
                );
            }
        }
    }
}

#[test]
fn purging_departed_holders_changes_draws_not_the_model() {
    let text = SMALL.replace("rate_per_s = 1.5", "rate_per_s = 4.0");
    let (_, purged) = run_all(&config(&(text.clone() + PURGE_OFTEN)));
    let (_, lazy) = run_all(&config(&text));
    for (p, l) in purged.iter().zip(&lazy) {
        let name = &p.policy.name;
        assert!(p.output.counters.holder_purges > 0, "{name}");
        assert_eq!(l.output.counters.holder_purges, 0, "{name}");
        // The same VMs complete, and the mean stays close to the lazy run's.
        assert_eq!(p.output.completed, l.output.completed);
        let (a, b) = (p.summary.mean_vm_s, l.summary.mean_vm_s);
        assert!(
            (a - b).abs() < 0.25 * b,
            "{name}: {a} vs {b} without purges"
        );
    }
}

#[test]
fn streamed_runs_write_every_vm_row_and_the_same_summary() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join(name);
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_vmswarm"))
            .args(["run", path.to_str().unwrap(), "--quiet", "--out"])
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        out
    };
    let kept = write("kept", &(SMALL.to_string() + PURGE_OFTEN));
    let streamed = write("streamed", &streamed(&(SMALL.to_string() + PURGE_OFTEN)));
    for file in ["summary.csv", "images.csv", "ticks.csv"] {
        let a = std::fs::read(kept.join(file)).unwrap();
        let b = std::fs::read(streamed.join(file)).unwrap();
        assert!(a == b, "{file} differs");
    }
    let rows = |dir: &std::path::Path| {
        let text = std::fs::read_to_string(dir.join("vms.csv")).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let (k, s) = (rows(&kept), rows(&streamed));
    assert!(k.len() > 100);
    assert_eq!(k, s);
    let names: Vec<String> = std::fs::read_dir(&streamed)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn a_failed_streamed_run_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.toml");
    std::fs::write(&path, streamed(SMALL)).unwrap();
    let out = dir.path().join("out");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args([
            "run",
            path.to_str().unwrap(),
            "--quiet",
            "--max-events",
            "500",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("limits.max_events"), "{stderr}");
    assert!(!out.exists(), "the run left {}", out.display());
}

#[test]
fn a_set_stop_flag_ends_a_run_with_an_error() {
    use std::sync::atomic::AtomicBool;
    let config = config(&streamed(SMALL));
    let scenario = Scenario::build(&config).unwrap();
    let policy = &config.resolved_policies()[0];
    let stop = AtomicBool::new(true);
    let e = scenario
        .run_policy_until(policy, &mut |_| {}, &[&stop])
        .unwrap_err();
    assert!(e.to_string().contains("interrupted at t = "), "{e}");
    let unset = AtomicBool::new(false);
    let run = scenario.run_policy_until(policy, &mut |_| {}, &[&unset]);
    assert!(run.is_ok());
}
