//! A sweep's output: `runs.csv` (one row per job and policy), `sweep.csv`
//! (the summary with confidence intervals and paired differences) and
//! `manifest.toml`, and the table printed after a sweep.

use std::io;

use serde::Serialize;

use crate::experiments::sweep::{JobResult, PointStat, Sweep, replication_seed};
use crate::input::config::Config;

/// A CSV writer into a buffer (output files are rendered whole, then
/// written atomically).
pub(crate) fn csv_writer(out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::Writer::from_writer(out)
}

/// Flush a buffered CSV writer.
pub(crate) fn flush(mut w: csv::Writer<&mut Vec<u8>>) -> io::Result<()> {
    w.flush()
}

/// A CSV error as an I/O error.
pub(crate) fn csv_err(e: csv::Error) -> io::Error {
    io::Error::other(e)
}

/// A grid value as a CSV cell: strings without quotes, numbers as TOML writes them.
pub fn value_cell(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `runs.csv`, `sweep.csv` and `manifest.toml` of a sweep.
pub fn sweep_files(
    sweep: &Sweep,
    results: &[JobResult],
    stats: &[PointStat],
) -> io::Result<Vec<(String, Vec<u8>)>> {
    Ok(vec![
        ("runs.csv".into(), runs_csv(sweep, results)?),
        ("sweep.csv".into(), summary_csv(sweep, stats)?),
        ("manifest.toml".into(), manifest(sweep)?.into_bytes()),
    ])
}

/// `runs.csv`: one row per job and policy.
fn runs_csv(sweep: &Sweep, results: &[JobResult]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = csv_writer(&mut out);
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(sweep.keys.iter().cloned());
    header.extend(
        [
            "replication",
            "seed",
            "policy",
            "vms",
            "mean_vm_s",
            "mean_image_s",
            "p95_s",
            "server_utilisation",
            "peer_utilisation",
            "events",
            "block_transfers",
        ]
        .map(String::from),
    );
    w.write_record(&header).map_err(csv_err)?;
    for job in results {
        let point = &sweep.points[job.point];
        for r in &job.runs {
            let mut row: Vec<String> = vec![job.point.to_string()];
            row.extend(point.values.iter().map(|(_, v)| value_cell(v)));
            row.extend([
                job.replication.to_string(),
                job.seed.to_string(),
                r.policy.clone(),
                r.vms.to_string(),
                r.mean_vm_s.to_string(),
                r.mean_image_s.to_string(),
                r.p95_s.to_string(),
                r.server_utilisation.to_string(),
                r.peer_utilisation.to_string(),
                r.events.to_string(),
                r.block_transfers.to_string(),
            ]);
            w.write_record(&row).map_err(csv_err)?;
        }
    }
    flush(w)?;
    Ok(out)
}

/// `sweep.csv`: one row per grid point, policy and metric.
fn summary_csv(sweep: &Sweep, stats: &[PointStat]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut w = csv_writer(&mut out);
    let mut header: Vec<String> = vec!["point".into()];
    header.extend(sweep.keys.iter().cloned());
    header.extend(
        [
            "policy",
            "metric",
            "n",
            "mean",
            "sd",
            "ci_low",
            "ci_high",
            "baseline",
            "diff_mean",
            "diff_ci_low",
            "diff_ci_high",
        ]
        .map(String::from),
    );
    w.write_record(&header).map_err(csv_err)?;
    for s in stats {
        let point = &sweep.points[s.point];
        let mut row: Vec<String> = vec![s.point.to_string()];
        row.extend(point.values.iter().map(|(_, v)| value_cell(v)));
        let (e, d) = (&s.estimate, &s.vs_baseline);
        row.extend([
            s.policy.clone(),
            s.metric.clone(),
            e.n.to_string(),
            e.mean.to_string(),
            e.sd.to_string(),
            e.ci_low.to_string(),
            e.ci_high.to_string(),
            sweep.baseline.clone(),
            d.mean.to_string(),
            d.ci_low.to_string(),
            d.ci_high.to_string(),
        ]);
        w.write_record(&row).map_err(csv_err)?;
    }
    flush(w)?;
    Ok(out)
}

/// `manifest.toml`: the version, seeds, grid size, baseline and config.
fn manifest(sweep: &Sweep) -> io::Result<String> {
    #[derive(Serialize)]
    struct SweepManifest<'a> {
        vmswarm_version: &'a str,
        seed: u64,
        replications: usize,
        replication_seeds: Vec<u64>,
        grid_points: usize,
        baseline: &'a str,
        config: &'a Config,
    }
    toml::to_string_pretty(&SweepManifest {
        vmswarm_version: env!("CARGO_PKG_VERSION"),
        seed: sweep.config.seed,
        replications: sweep.replications,
        replication_seeds: (0..sweep.replications)
            .map(|r| replication_seed(sweep.config.seed, r))
            .collect(),
        grid_points: sweep.points.len(),
        baseline: &sweep.baseline,
        config: &sweep.config,
    })
    .map_err(io::Error::other)
}

/// A table of one metric per grid point and policy: mean +- CI half-width.
pub fn sweep_table(sweep: &Sweep, stats: &[PointStat], metric: &str) -> String {
    let mut s = format!(
        "{metric} (mean +- 95% CI half-width over {} replications)\n",
        sweep.replications
    );
    let policies = &sweep.config.policies;
    s.push_str(&format!("{:<40}", "point"));
    for p in policies {
        s.push_str(&format!(" {p:>18}"));
    }
    s.push('\n');
    for point in &sweep.points {
        let label: Vec<String> = point
            .values
            .iter()
            .map(|(k, v)| format!("{}={}", k.rsplit('.').next().unwrap_or(k), value_cell(v)))
            .collect();
        s.push_str(&format!("{:<40}", label.join(" ")));
        for p in policies {
            let cell = stats
                .iter()
                .find(|st| st.point == point.index && &st.policy == p && st.metric == metric)
                .map(|st| {
                    let e = &st.estimate;
                    if e.n > 1 {
                        format!("{:.2} +- {:.2}", e.mean, e.half_width())
                    } else {
                        format!("{:.2}", e.mean)
                    }
                })
                .unwrap_or_default();
            s.push_str(&format!(" {cell:>18}"));
        }
        s.push('\n');
    }
    s
}
