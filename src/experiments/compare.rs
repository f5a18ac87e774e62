//! `vmswarm compare`: every policy under Zipf and uniform popularity on one
//! config, with confidence intervals and paired differences to the best.

use std::path::Path;

use crate::experiments::sweep::{JobResult, PolicyResult, Sweep, SweepError};
use crate::experiments::sweep_output::value_cell;
use crate::input::config::{Axis, Config, ConfigError};
use crate::progress::Progress;
use crate::stats::{Estimate, estimate, paired_difference};

/// The metrics compared.
pub const METRICS: [&str; 3] = ["mean_image_s", "mean_vm_s", "p95_s"];

/// One policy under one popularity.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `zipf` or `uniform`.
    pub popularity: String,
    /// Policy name.
    pub policy: String,
    /// Per metric (in [`METRICS`] order): the estimate over replications.
    pub estimates: Vec<Estimate>,
    /// Per metric: paired difference to the best policy of this popularity
    /// (by the mean of that metric).
    pub vs_best: Vec<Estimate>,
    /// Per metric: the best policy's name.
    pub best: Vec<String>,
}

/// The comparison's sweep: the config's own grid is replaced by the
/// popularity axis; replications come from `[sweep] replications`.
pub fn sweep(config: &Config, file: &Path) -> Result<Sweep, ConfigError> {
    let mut c = config.clone();
    c.sweep.axis = vec![Axis {
        key: "workload.popularity".into(),
        values: vec!["zipf".into(), "uniform".into()],
    }];
    c.sweep.quick = None;
    c.sweep.baseline = None;
    Sweep::new(&c, false, file)
}

/// Run the comparison on the current rayon pool.
pub fn run(
    config: &Config,
    file: &Path,
    progress: &dyn Progress,
) -> Result<(Sweep, Vec<Row>), SweepError> {
    let sweep = sweep(config, file)?;
    let results = sweep.run(progress)?;
    let rows = rows(&sweep, &results);
    Ok((sweep, rows))
}

fn metric(r: &PolicyResult, m: &str) -> f64 {
    match m {
        "mean_image_s" => r.mean_image_s,
        "mean_vm_s" => r.mean_vm_s,
        _ => r.p95_s,
    }
}

/// Estimates and paired differences to the best, per popularity and policy.
pub fn rows(sweep: &Sweep, results: &[JobResult]) -> Vec<Row> {
    let policies = &sweep.config.policies;
    let mut out = Vec::new();
    for point in &sweep.points {
        let popularity = value_cell(&point.values[0].1);
        let jobs: Vec<&JobResult> = results.iter().filter(|j| j.point == point.index).collect();
        let values = |policy: &str, m: &str| -> Vec<f64> {
            jobs.iter()
                .filter_map(|j| j.runs.iter().find(|r| r.policy == policy))
                .map(|r| metric(r, m))
                .collect()
        };
        let best: Vec<String> = METRICS
            .iter()
            .map(|m| {
                policies
                    .iter()
                    .min_by(|a, b| {
                        estimate(&values(a, m))
                            .mean
                            .total_cmp(&estimate(&values(b, m)).mean)
                    })
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        for policy in policies {
            out.push(Row {
                popularity: popularity.clone(),
                policy: policy.clone(),
                estimates: METRICS
                    .iter()
                    .map(|m| estimate(&values(policy, m)))
                    .collect(),
                vs_best: METRICS
                    .iter()
                    .zip(&best)
                    .map(|(m, b)| paired_difference(&values(policy, m), &values(b, m)))
                    .collect(),
                best: best.clone(),
            });
        }
    }
    out
}

/// The rows as CSV: one row per popularity, policy and metric.
pub fn csv(rows: &[Row]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "popularity",
        "policy",
        "metric",
        "n",
        "mean",
        "ci_low",
        "ci_high",
        "best",
        "diff_to_best",
        "diff_ci_low",
        "diff_ci_high",
    ])
    .expect("memory");
    for r in rows {
        for (k, m) in METRICS.iter().enumerate() {
            let (e, d) = (&r.estimates[k], &r.vs_best[k]);
            w.write_record([
                r.popularity.clone(),
                r.policy.clone(),
                m.to_string(),
                e.n.to_string(),
                e.mean.to_string(),
                e.ci_low.to_string(),
                e.ci_high.to_string(),
                r.best[k].clone(),
                d.mean.to_string(),
                d.ci_low.to_string(),
                d.ci_high.to_string(),
            ])
            .expect("memory");
        }
    }
    w.into_inner().expect("memory")
}

/// The rows as a table for the terminal.
pub fn table(rows: &[Row], replications: usize) -> String {
    let mut s = format!(
        "mean +- 95% CI half-width over {replications} replications; diff: paired difference to the best policy (by mean_image_s)\n"
    );
    s.push_str(&format!(
        "{:<9} {:<18} {:>16} {:>16} {:>16} {:>22}\n",
        "pop.", "policy", "mean_image_s", "mean_vm_s", "p95_s", "diff mean_image_s"
    ));
    let pm = |e: &Estimate| format!("{:.2} +- {:.2}", e.mean, e.half_width());
    for r in rows {
        let d = &r.vs_best[0];
        let diff = if r.policy == r.best[0] {
            "best".to_string()
        } else {
            format!("{:+.2} [{:+.2}, {:+.2}]", d.mean, d.ci_low, d.ci_high)
        };
        s.push_str(&format!(
            "{:<9} {:<18} {:>16} {:>16} {:>16} {:>22}\n",
            r.popularity,
            r.policy,
            pm(&r.estimates[0]),
            pm(&r.estimates[1]),
            pm(&r.estimates[2]),
            diff
        ));
    }
    s
}
