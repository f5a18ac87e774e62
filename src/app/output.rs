//! Tidy CSV files and a manifest for a run (docs/model.md section 6).
//!
//! Files are written under temporary names and renamed only when all of
//! them are complete, so an interrupted or failed write leaves no file that
//! looks finished.

use std::io;
use std::path::Path;

use serde::Serialize;

use crate::atomic_file::{PartialFile, write_files_with};
use crate::experiments::sweep_output::{csv_err, csv_writer, flush};
use crate::plot::{Chart, Series, render_svg};
use crate::scenario::{PolicyRun, Scenario};
use crate::sim::metrics::{VmRecord, server_egress};

/// An output file that could not be written, naming the path.
pub use crate::atomic_file::WriteError as OutputError;

#[derive(Serialize)]
struct SummaryRow<'a> {
    policy: &'a str,
    swarms: String,
    groups: String,
    rule: String,
    seed: u64,
    vms: usize,
    mean_vm_s: f64,
    mean_image_s: f64,
    p95_s: f64,
    max_s: f64,
    server_utilisation: f64,
    peer_utilisation: f64,
    leecher_efficiency: f64,
    seeder_efficiency: f64,
    makespan_s: f64,
    events: u64,
    block_transfers: u64,
    server_sent_mb: f64,
    peer_sent_mb: f64,
    received_mb: f64,
    waste_mb: f64,
    flows_cut: u64,
    endgame_switches: u64,
    duplicate_deliveries: u64,
    max_uploads_per_peer: u32,
    max_peer_utilisation: f64,
    /// The data center's columns, only with `[topology]` (so that runs
    /// without one write the same file as before).
    #[serde(skip_serializing_if = "Option::is_none")]
    p50_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p99_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    p999_s: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cross_rack_mb: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_peak_egress_mbps: Option<f64>,
    /// Empty when the run has no max-min network.
    #[serde(skip_serializing_if = "Option::is_none")]
    max_link_utilisation: Option<Option<f64>>,
}

#[derive(Serialize)]
struct EgressRow<'a> {
    policy: &'a str,
    time_s: f64,
    server_egress_mbps: f64,
}

#[derive(Serialize)]
struct ImageRow<'a> {
    policy: &'a str,
    image: usize,
    name: &'a str,
    popularity: f64,
    count: usize,
    mean_s: f64,
    p50_s: f64,
    p95_s: f64,
    p99_s: f64,
    max_s: f64,
}

#[derive(Serialize)]
struct VmRow<'a> {
    policy: &'a str,
    vm: usize,
    image: usize,
    arrival_s: f64,
    completion_s: f64,
    download_s: f64,
    from_server_mb: f64,
    from_peers_mb: f64,
    uploaded_as_leecher_mb: f64,
    upload_mbps: f64,
    counted: bool,
}

#[derive(Serialize)]
struct TickRow<'a> {
    policy: &'a str,
    time_s: f64,
    group: usize,
    label: &'a str,
    u_s_g_mbps: f64,
    leechers: usize,
    seeders: usize,
    remaining_mb: f64,
    peer_upload_mbps: f64,
    server_only_mb: f64,
    t_r_s: f64,
    server_sent_mb: f64,
    iterations: u32,
    gap: Option<f64>,
}

#[derive(Serialize)]
struct Manifest<'a> {
    vmswarm_version: &'a str,
    seed: u64,
    policies: Vec<&'a str>,
    content: ContentSection,
    workload: WorkloadSection,
    config: &'a crate::input::config::Config,
}

#[derive(Serialize)]
struct ContentSection {
    unique_chunks: usize,
    pairwise_common_mean: f64,
    pairwise_common_min: f64,
    pairwise_common_max: f64,
    all_image_intersection: usize,
}

#[derive(Serialize)]
struct WorkloadSection {
    requests: usize,
    warmup_s: f64,
    popularity: Vec<f64>,
}

/// The names of the files [`write_run`] produces.
pub const RUN_FILES: [&str; 5] = [
    "summary.csv",
    "images.csv",
    "vms.csv",
    "ticks.csv",
    "manifest.toml",
];

/// `vms.csv` written row by row as VMs complete (`workload.stream`), under
/// its temporary name until [`write_run_streamed`] renames it into place
/// with the run's other files. Rows come policy by policy, in the order the
/// VMs completed (a kept `vms.csv` is in request order).
pub struct StreamedVms {
    // The writer first: dropped (flushed and closed) before the partial
    // file is removed.
    writer: csv::Writer<io::BufWriter<std::fs::File>>,
    partial: PartialFile,
    error: Option<io::Error>,
}

impl StreamedVms {
    /// Start `dir/vms.csv` (`dir` created if missing).
    pub fn create(dir: &Path) -> Result<StreamedVms, OutputError> {
        let (partial, file) = PartialFile::create(dir, "vms.csv")?;
        Ok(StreamedVms {
            writer: csv::Writer::from_writer(io::BufWriter::with_capacity(1 << 20, file)),
            partial,
            error: None,
        })
    }

    /// Append one VM's row; false once a row could not be written (the
    /// first failure is kept for [`Self::finish`]).
    pub fn push(&mut self, policy: &str, vm: &VmRecord) -> bool {
        if self.error.is_none()
            && let Err(e) = self.writer.serialize(vm_row(policy, vm))
        {
            self.error = Some(csv_err(e));
        }
        self.error.is_none()
    }

    /// Flush it; the error of the first failed row, if any. Dropping the
    /// file it returns removes it.
    pub fn finish(mut self) -> Result<PartialFile, OutputError> {
        let flushed = self.writer.flush();
        match self.error.take().map_or(flushed, Err) {
            Ok(()) => Ok(self.partial),
            Err(e) => Err(OutputError::new(self.partial.path(), e)),
        }
    }
}

/// Write `summary.csv`, `images.csv`, `vms.csv`, `ticks.csv` and
/// `manifest.toml` for a scenario's runs into `dir` (created if missing).
pub fn write_run(dir: &Path, scenario: &Scenario, runs: &[PolicyRun]) -> Result<(), OutputError> {
    write_run_with(dir, scenario, runs, None)
}

/// [`write_run`] for streamed runs: `vms.csv` is the rows written as the
/// VMs completed.
pub fn write_run_streamed(
    dir: &Path,
    scenario: &Scenario,
    runs: &[PolicyRun],
    vms: StreamedVms,
) -> Result<(), OutputError> {
    write_run_with(dir, scenario, runs, Some(vms.finish()?))
}

fn write_run_with(
    dir: &Path,
    scenario: &Scenario,
    runs: &[PolicyRun],
    streamed_vms: Option<PartialFile>,
) -> Result<(), OutputError> {
    let render = |name: &str, f: &dyn Fn(&mut Vec<u8>) -> io::Result<()>| {
        let mut buf = Vec::new();
        f(&mut buf).map_err(|e| OutputError::new(&dir.join(name), e))?;
        Ok::<_, OutputError>((name.to_string(), buf))
    };
    let mut files = vec![
        render("summary.csv", &|w| summary_csv(w, scenario, runs))?,
        render("images.csv", &|w| images_csv(w, scenario, runs))?,
        render("ticks.csv", &|w| ticks_csv(w, runs))?,
        render("manifest.toml", &|w| manifest(w, scenario))?,
    ];
    if streamed_vms.is_none() {
        files.insert(2, render("vms.csv", &|w| vms_csv(w, runs))?);
    }
    if scenario.config.topology.is_some() {
        files.push(render("egress.csv", &|w| egress_csv(w, scenario, runs))?);
        files.push(render("egress.svg", &|w| egress_svg(w, scenario, runs))?);
    }
    write_files_with(dir, &files, streamed_vms.into_iter().collect())
}

/// The server's egress per tick, per policy (docs/model.md section 9).
fn egress_csv(out: &mut Vec<u8>, scenario: &Scenario, runs: &[PolicyRun]) -> io::Result<()> {
    let mut w = csv_writer(out);
    for run in runs {
        for (time_s, server_egress_mbps) in
            server_egress(&run.output.ticks, scenario.config.server.tick_s)
        {
            w.serialize(EgressRow {
                policy: &run.policy.name,
                time_s,
                server_egress_mbps,
            })
            .map_err(csv_err)?;
        }
    }
    flush(w)
}

/// `egress.csv` as a chart: one line per policy.
fn egress_svg(out: &mut Vec<u8>, scenario: &Scenario, runs: &[PolicyRun]) -> io::Result<()> {
    let series = runs
        .iter()
        .map(|run| Series {
            label: run.policy.name.clone(),
            points: server_egress(&run.output.ticks, scenario.config.server.tick_s)
                .into_iter()
                .map(|(t, mbps)| (t, mbps, mbps, mbps))
                .collect(),
        })
        .collect();
    let chart = Chart {
        title: format!("{}: the server's egress per tick", scenario.config.name),
        x_label: "time (s)".into(),
        y_label: "server egress (Mb/s)".into(),
        series,
    };
    let svg = render_svg(&chart).unwrap_or_default();
    out.extend_from_slice(svg.as_bytes());
    Ok(())
}

/// The largest per-tick server egress of a run (Mb/s), 0 without ticks.
fn peak_egress_mbps(run: &PolicyRun, tick_s: f64) -> f64 {
    server_egress(&run.output.ticks, tick_s)
        .iter()
        .map(|e| e.1)
        .fold(0.0, f64::max)
}

fn kebab<T: Serialize>(value: &T) -> String {
    toml::Value::try_from(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn summary_csv(out: &mut Vec<u8>, scenario: &Scenario, runs: &[PolicyRun]) -> io::Result<()> {
    let mut w = csv_writer(out);
    let dc = scenario.config.topology.is_some();
    for run in runs {
        let c = &run.output.counters;
        let s = &run.summary;
        let tick_s = scenario.config.server.tick_s;
        w.serialize(SummaryRow {
            p50_s: dc.then_some(s.p50_s),
            p99_s: dc.then_some(s.p99_s),
            p999_s: dc.then_some(s.p999_s),
            cross_rack_mb: dc.then_some(c.cross_rack_mb),
            server_peak_egress_mbps: dc.then(|| peak_egress_mbps(run, tick_s)),
            max_link_utilisation: dc.then_some(c.max_link_utilisation),
            policy: &run.policy.name,
            swarms: kebab(&run.policy.swarms),
            groups: kebab(&run.policy.groups),
            rule: kebab(&run.policy.rule),
            seed: scenario.config.seed,
            vms: s.vms,
            mean_vm_s: s.mean_vm_s,
            mean_image_s: s.mean_image_s,
            p95_s: s.p95_s,
            max_s: s.max_s,
            server_utilisation: s.server_utilisation,
            peer_utilisation: s.peer_utilisation,
            makespan_s: c.makespan_s,
            events: c.events,
            block_transfers: c.block_transfers,
            server_sent_mb: c.server_sent_mb,
            peer_sent_mb: c.peer_sent_mb,
            received_mb: c.received_mb,
            waste_mb: c.waste_mb,
            flows_cut: c.flows_cut,
            endgame_switches: c.endgame_switches,
            duplicate_deliveries: c.duplicate_deliveries,
            max_uploads_per_peer: c.max_uploads_per_peer,
            max_peer_utilisation: c.max_peer_utilisation,
            leecher_efficiency: c.leecher_efficiency(),
            seeder_efficiency: c.seeder_efficiency(),
        })
        .map_err(csv_err)?;
    }
    flush(w)
}

fn images_csv(out: &mut Vec<u8>, scenario: &Scenario, runs: &[PolicyRun]) -> io::Result<()> {
    let mut w = csv_writer(out);
    for run in runs {
        for s in &run.per_image {
            w.serialize(ImageRow {
                policy: &run.policy.name,
                image: s.image + 1,
                name: &scenario.content.images[s.image].name,
                popularity: scenario.workload.popularity[s.image],
                count: s.count,
                mean_s: s.mean_s,
                p50_s: s.p50_s,
                p95_s: s.p95_s,
                p99_s: s.p99_s,
                max_s: s.max_s,
            })
            .map_err(csv_err)?;
        }
    }
    flush(w)
}

fn vm_row<'a>(policy: &'a str, v: &VmRecord) -> VmRow<'a> {
    VmRow {
        policy,
        vm: v.vm,
        image: v.image + 1,
        arrival_s: v.arrival_s,
        completion_s: v.completion_s,
        download_s: v.download_s(),
        from_server_mb: v.from_server_mb,
        from_peers_mb: v.from_peers_mb,
        uploaded_as_leecher_mb: v.uploaded_as_leecher_mb,
        upload_mbps: v.upload_mbps,
        counted: v.counted,
    }
}

fn vms_csv(out: &mut Vec<u8>, runs: &[PolicyRun]) -> io::Result<()> {
    let mut w = csv_writer(out);
    for run in runs {
        for v in &run.output.vms {
            w.serialize(vm_row(&run.policy.name, v)).map_err(csv_err)?;
        }
    }
    flush(w)
}

fn ticks_csv(out: &mut Vec<u8>, runs: &[PolicyRun]) -> io::Result<()> {
    let mut w = csv_writer(out);
    for run in runs {
        for t in &run.output.ticks {
            w.serialize(TickRow {
                policy: &run.policy.name,
                time_s: t.time_s,
                group: t.group,
                label: &run.output.group_labels[t.group],
                u_s_g_mbps: t.u_s_g_mbps,
                leechers: t.leechers,
                seeders: t.seeders,
                remaining_mb: t.remaining_mb,
                peer_upload_mbps: t.peer_upload_mbps,
                server_only_mb: t.server_only_mb,
                t_r_s: t.t_r_s,
                server_sent_mb: t.server_sent_mb,
                iterations: t.iterations,
                gap: t.gap,
            })
            .map_err(csv_err)?;
        }
    }
    flush(w)
}

fn manifest(out: &mut Vec<u8>, scenario: &Scenario) -> io::Result<()> {
    let r = scenario.content_report();
    let m = Manifest {
        vmswarm_version: env!("CARGO_PKG_VERSION"),
        seed: scenario.config.seed,
        policies: scenario
            .config
            .policies
            .iter()
            .map(String::as_str)
            .collect(),
        content: ContentSection {
            unique_chunks: r.unique_chunks,
            pairwise_common_mean: r.pairwise_common_mean,
            pairwise_common_min: r.pairwise_common_min,
            pairwise_common_max: r.pairwise_common_max,
            all_image_intersection: r.all_image_intersection,
        },
        workload: WorkloadSection {
            requests: scenario.workload.request_count(),
            warmup_s: scenario.workload.warmup_s,
            popularity: scenario.workload.popularity.clone(),
        },
        config: &scenario.config,
    };
    let text = toml::to_string_pretty(&m).map_err(io::Error::other)?;
    out.extend_from_slice(text.as_bytes());
    Ok(())
}

/// A short human-readable table of the runs' headline numbers and speed;
/// with `[topology]`, a second table of the data center's numbers.
pub fn summary_table(runs: &[PolicyRun], scenario: &Scenario) -> String {
    let mut s = format!(
        "{:<18} {:>6} {:>11} {:>13} {:>9} {:>8} {:>6} {:>6} {:>10} {:>12} {:>8} {:>10}\n",
        "policy",
        "vms",
        "mean_vm_s",
        "mean_image_s",
        "p95_s",
        "server%",
        "peer%",
        "eta%",
        "events",
        "transfers",
        "wall_s",
        "blocks/s"
    );
    for run in runs {
        let c = &run.output.counters;
        let r = &run.summary;
        s.push_str(&format!(
            "{:<18} {:>6} {:>11.2} {:>13.2} {:>9.2} {:>8.1} {:>6.1} {:>6.1} {:>10} {:>12} {:>8.2} {:>10.0}\n",
            run.policy.name,
            r.vms,
            r.mean_vm_s,
            r.mean_image_s,
            r.p95_s,
            100.0 * r.server_utilisation,
            100.0 * r.peer_utilisation,
            100.0 * c.leecher_efficiency(),
            c.events,
            c.block_transfers,
            c.wall_s,
            c.block_transfers as f64 / c.wall_s.max(1e-9),
        ));
    }
    if scenario.config.topology.is_some() {
        s.push_str(&datacenter_table(runs, scenario.config.server.tick_s));
    }
    s
}

/// The data center's numbers (docs/model.md section 9), one row per policy.
fn datacenter_table(runs: &[PolicyRun], tick_s: f64) -> String {
    let mut s = format!(
        "{:<18} {:>9} {:>9} {:>9} {:>14} {:>17} {:>10}\n",
        "policy", "p50_s", "p99_s", "p99.9_s", "cross_rack_Mb", "server_peak_Mbps", "max_link%"
    );
    for run in runs {
        let (c, r) = (&run.output.counters, &run.summary);
        let link = c
            .max_link_utilisation
            .map_or("-".to_string(), |u| format!("{:.1}", 100.0 * u));
        s.push_str(&format!(
            "{:<18} {:>9.2} {:>9.2} {:>9.2} {:>14.0} {:>17.0} {:>10}\n",
            run.policy.name,
            r.p50_s,
            r.p99_s,
            r.p999_s,
            c.cross_rack_mb,
            peak_egress_mbps(run, tick_s),
            link
        ));
    }
    s
}
