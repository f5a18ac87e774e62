//! Sweeps, figures and policy comparison end to end, on small configs.

use std::fs;
use std::path::Path;
use std::process::Command;

use vmswarm::app::commands::with_threads;
use vmswarm::experiments::sweep::{Sweep, summarize};
use vmswarm::experiments::sweep_output::sweep_files;
use vmswarm::input::config::Config;
use vmswarm::progress::NoProgress;

/// A small figure-like config: 3 images x 4 chunks x 8 blocks, 40 s of arrivals.
fn small(axis: &str, values: &str, extra: &str) -> String {
    format!(
        r#"
seed = 3
policies = ["iso", "cross-equ", "cross-prop", "cross-opt"]
[content]
images = 3
chunks_per_image = 4
blocks_per_chunk = 8
{extra}
[workload]
rate_per_s = 1.0
window_s = 40.0
lifetime_min_s = 5.0
lifetime_max_s = 10.0
[server]
u_s_mbps = 300.0
[sweep]
replications = 3
baseline = "cross-opt"
[[sweep.axis]]
key = "workload.popularity"
values = ["zipf", "uniform"]
{axis_block}
[sweep.quick]
replications = 2
"#,
        axis_block = if axis.is_empty() {
            String::new()
        } else {
            format!("[[sweep.axis]]\nkey = \"{axis}\"\nvalues = {values}\n")
        }
    )
}

#[test]
fn sweep_output_is_identical_with_one_and_two_threads() {
    let text = small("workload.rate_per_s", "[0.5, 1.5]", "");
    let config = Config::parse(&text, Path::new("s.toml")).unwrap();
    let sweep = Sweep::new(&config, false, Path::new("s.toml")).unwrap();
    let files = |threads| {
        let results = with_threads(Some(threads), || sweep.run(&NoProgress)).unwrap();
        let stats = summarize(&sweep, &results);
        sweep_files(&sweep, &results, &stats).unwrap()
    };
    let one = files(1);
    let two = files(2);
    assert_eq!(one.len(), 3);
    for ((name, a), (_, b)) in one.iter().zip(&two) {
        assert!(!a.is_empty());
        assert_eq!(a, b, "{name} differs between 1 and 2 threads");
    }
    // 2 popularities x 2 rates x 3 replications x 4 policies, plus a header.
    let runs = String::from_utf8(one[0].1.clone()).unwrap();
    assert_eq!(runs.lines().count(), 1 + 2 * 2 * 3 * 4);
}

#[test]
fn figures_quick_writes_six_csvs_and_svgs_without_nan() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(
        dir.join("fig5.toml"),
        small("workload.rate_per_s", "[0.5, 1.0]", ""),
    )
    .unwrap();
    fs::write(dir.join("fig6.toml"), small("", "", "")).unwrap();
    fs::write(
        dir.join("fig7.toml"),
        small("content.common_ratio", "[0.25, 0.5, 0.75]", ""),
    )
    .unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args([
            "figures",
            "--quick",
            "--configs",
            dir.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--extra",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (fig, x, rows) in [
        ("fig5", "rate_per_s", 2),
        ("fig6", "image", 3),
        ("fig7", "common_ratio", 3),
    ] {
        for panel in ["a", "b"] {
            let csv = fs::read_to_string(out.join(format!("{fig}{panel}.csv"))).unwrap();
            assert_eq!(
                csv.lines().next().unwrap(),
                format!("{x},policy,mean_s,ci_low_s,ci_high_s,replications")
            );
            // x values x 5 policies (the four and cross-opt-exact).
            assert_eq!(csv.lines().count(), 1 + rows * 5, "{fig}{panel}");
            assert!(!csv.contains("NaN"), "{fig}{panel}.csv has NaN");
            assert!(
                csv.lines().skip(1).all(|l| l.ends_with(",2")),
                "quick mode runs 2 replications"
            );
            let svg = fs::read_to_string(out.join(format!("{fig}{panel}.svg"))).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("cross-opt-exact"));
        }
    }
}

#[test]
fn compare_tables_every_policy_under_both_popularities() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("c.toml");
    fs::write(
        &cfg,
        small("", "", "").replace(
            "policies = [\"iso\", \"cross-equ\", \"cross-prop\", \"cross-opt\"]\n",
            "",
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args([
            "compare",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("best"), "{stdout}");
    let csv = fs::read_to_string(out.join("compare.csv")).unwrap();
    // 2 popularities x 5 presets x 3 metrics.
    assert_eq!(csv.lines().count(), 1 + 2 * 5 * 3);
    assert!(!csv.contains("NaN"));
    // The best policy's difference to itself is exactly zero.
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[1] == f[7] {
            assert_eq!(f[8], "0");
        }
    }
}
