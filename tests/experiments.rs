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
            let lines: Vec<&str> = csv.lines().collect();
            if fig == "fig6" {
                // Per-image means, as before: no metric column.
                assert_eq!(
                    lines[0],
                    format!("{x},policy,mean_s,ci_low_s,ci_high_s,replications")
                );
                // images x 5 policies (the four and cross-opt-exact).
                assert_eq!(lines.len(), 1 + rows * 5, "{fig}{panel}");
            } else {
                assert_eq!(
                    lines[0],
                    format!("{x},policy,metric,mean_s,ci_low_s,ci_high_s,replications")
                );
                // x values x 5 policies x both metrics.
                assert_eq!(lines.len(), 1 + rows * 5 * 2, "{fig}{panel}");
                for metric in ["mean_vm_s", "mean_image_s"] {
                    let n = lines
                        .iter()
                        .filter(|l| l.split(',').nth(2) == Some(metric))
                        .count();
                    assert_eq!(n, rows * 5, "{fig}{panel}: {metric}");
                }
            }
            assert!(!csv.contains("NaN"), "{fig}{panel}.csv has NaN");
            assert!(
                lines.iter().skip(1).all(|l| l.ends_with(",2")),
                "quick mode runs 2 replications"
            );
            let svg = fs::read_to_string(out.join(format!("{fig}{panel}.svg"))).unwrap();
            assert!(svg.starts_with("<svg") && svg.contains("cross-opt-exact"));
            if fig != "fig6" {
                // The default metric is the mean over VM downloads.
                assert!(svg.contains("mean download time over VMs"), "{fig}{panel}");
            }
        }
    }
    let claims = claim_verdicts(&out);
    assert_eq!(claims.len(), 11, "{claims:?}");
    for (id, verdict) in &claims {
        assert!(
            ["holds", "fails", "inconclusive"].contains(&verdict.as_str()),
            "{id}: {verdict}"
        );
    }
    let md = fs::read_to_string(out.join("claims.md")).unwrap();
    assert!(md.contains("Quick run"), "the report says it is quick");
    for k in 1..=11 {
        assert!(
            md.contains(&format!("\n| C{k} |")),
            "C{k} missing from claims.md"
        );
    }
}

/// `claims.csv`'s verdict per claim (the CSV has a row per comparison).
fn claim_verdicts(out: &Path) -> std::collections::BTreeMap<String, String> {
    claims_csv(out)
        .iter()
        .map(|r| (r[0].to_string(), r[2].to_string()))
        .collect()
}

/// `claims.csv`'s records, its header checked.
fn claims_csv(out: &Path) -> Vec<csv::StringRecord> {
    let mut csv = csv::Reader::from_path(out.join("claims.csv")).unwrap();
    let header = csv.headers().unwrap().clone();
    assert_eq!(
        header.iter().take(7).collect::<Vec<_>>(),
        [
            "claim",
            "figure",
            "verdict",
            "comparison",
            "mean",
            "ci_low",
            "ci_high"
        ]
    );
    csv.records().map(Result::unwrap).collect()
}

#[test]
fn one_figure_judges_its_claims_and_marks_the_others_not_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(
        dir.join("fig5.toml"),
        small("workload.rate_per_s", "[0.5, 1.0]", ""),
    )
    .unwrap();
    let out = dir.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args([
            "figures",
            "--quick",
            "--fig",
            "5",
            "--metric",
            "mean_image_s",
        ])
        .args(["--quiet", "--configs"])
        .arg(dir)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let svg = fs::read_to_string(out.join("fig5a.svg")).unwrap();
    assert!(svg.contains("mean of per-image mean download times"));
    let claims = claim_verdicts(&out);
    assert_eq!(claims.len(), 11);
    for (id, verdict) in &claims {
        let judged = ["C1", "C2", "C3", "C4", "C5"].contains(&id.as_str());
        assert_eq!(verdict != "not run", judged, "{id}: {verdict}");
    }
    // Figs. 5 and 7 are judged on the metric chosen, Fig. 6 on per-image means.
    for r in claims_csv(&out) {
        let metric = if r[1].starts_with('6') {
            "image_k_mean_s"
        } else {
            "mean_image_s"
        };
        assert_eq!(&r[10], metric, "{r:?}");
    }
}

#[test]
fn a_bad_figure_metric_is_one_line_naming_the_option_and_the_values() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args(["figures", "--quick", "--metric", "p95_s", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for part in ["--metric", "`p95_s`", "mean_vm_s", "mean_image_s"] {
        assert!(stderr.contains(part), "{part} missing: {stderr}");
    }
    assert!(!out.exists(), "nothing is written");
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
