//! `vmswarm policies` end to end on a tiny map: the verdict files beside
//! the regime map's, verdicts that agree with the CSV's own numbers and
//! the targets, and a map without the policy judged refused before any run.

use std::fs;
use std::path::{Path, PathBuf};

use vmswarm::app::commands::{PoliciesOptions, RegimesOptions, policies};

/// 2 lifetimes x 1 u_c x 2 popularities x 2 rates of 3 tiny images.
const TINY: &str = r#"
seed = 3
policies = ["iso", "cross-equ", "cross-prop", "cross-opt", "cross-oldest"]
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
[[sweep.axis]]
key = "workload.popularity"
values = ["zipf", "uniform"]
[[sweep.axis]]
key = "workload"
values = [{ lifetime_min_s = 0.0, lifetime_max_s = 2.0 }, { lifetime_min_s = 5.0, lifetime_max_s = 10.0 }]
[[sweep.axis]]
key = "peers.upload_mbps"
values = [64.0]
[[sweep.axis]]
key = "workload.rate_per_s"
values = [0.5, 1.0]
"#;

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vmswarm-policies-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

fn options(text: &str, out: &Path) -> PoliciesOptions {
    let configs = out.with_extension("configs");
    fs::create_dir_all(&configs).unwrap();
    fs::write(configs.join("policies.toml"), text).unwrap();
    PoliciesOptions {
        map: RegimesOptions {
            quick: false,
            threads: Some(2),
            out: Some(out.to_path_buf()),
            config_dir: Some(configs),
            quiet: true,
        },
        ours: None,
    }
}

#[test]
fn tiny_map_writes_verdicts_that_match_its_numbers() {
    let out = out_dir("tiny");
    policies(&options(TINY, &out)).unwrap();
    for file in ["policies.md", "policies.csv", "policies.svg", "regimes.csv"] {
        assert!(out.join(file).exists(), "{file} missing");
    }
    let mut reader = csv::Reader::from_path(out.join("policies.csv")).unwrap();
    let head = reader.headers().unwrap().clone();
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8, "one row per cell");
    for row in &rows {
        let num = |name: &str| row[col(name)].parse::<f64>().unwrap();
        let flag = |name: &str| row[col(name)].parse::<bool>().unwrap();
        // The paired difference averages ours - best, so it is the
        // difference of the means.
        let d = num("mean_ours_s") - num("mean_best_s");
        assert!((num("mean_diff_s") - d).abs() < 1e-9 * num("mean_best_s").max(1.0));
        assert!(num("mean_diff_ci_low_s") <= num("mean_diff_s"));
        let rel = num("mean_relative");
        let split = flag("split");
        assert_eq!(split, num("spread") > 0.10);
        assert_eq!(
            flag("mean_met"),
            if split { rel <= -0.10 } else { rel <= 0.02 }
        );
        assert_eq!(flag("p95_met"), num("p95_relative") <= 0.05);
        assert!(["iso", "cross-equ", "cross-prop", "cross-opt"].contains(&&row[col("mean_best")]));
    }
    let md = fs::read_to_string(out.join("policies.md")).unwrap();
    assert!(md.contains("cross-oldest") && md.contains("| verdict |"));
    let svg = fs::read_to_string(out.join("policies.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("p95_s"));
    let _ = fs::remove_dir_all(&out);
}

#[test]
fn a_map_without_the_policy_judged_is_refused_before_running() {
    let out = out_dir("missing");
    let text = TINY.replace(", \"cross-oldest\"]", "]");
    let err = policies(&options(&text, &out)).unwrap_err().to_string();
    assert!(err.contains("cross-oldest"), "{err}");
    assert!(!out.join(".jobs").exists(), "ran before refusing");
    let _ = fs::remove_dir_all(&out);
}
