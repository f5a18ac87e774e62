//! What a run measures (docs/model.md section 6), and the statistics made of it.

/// One VM's download.
#[derive(Debug, Clone, PartialEq)]
pub struct VmRecord {
    /// Index of the request in the workload.
    pub vm: usize,
    /// Index of its image.
    pub image: usize,
    /// Arrival time (s).
    pub arrival_s: f64,
    /// Time it held every block (s).
    pub completion_s: f64,
    /// Mb received from the image server.
    pub from_server_mb: f64,
    /// Mb received from peers.
    pub from_peers_mb: f64,
    /// Mb it uploaded to others while a leecher.
    pub uploaded_as_leecher_mb: f64,
    /// Its host's upload capacity (Mb/s).
    pub upload_mbps: f64,
    /// Whether it arrived after the warm-up and so counts in the statistics.
    pub counted: bool,
}

impl VmRecord {
    /// Download time: completion minus arrival (s).
    pub fn download_s(&self) -> f64 {
        self.completion_s - self.arrival_s
    }
}

/// A counted VM's download, all the statistics need of it: kept for every
/// counted VM even when its record is streamed out (`workload.stream`), at
/// 16 bytes a VM, so quantiles stay exact.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Download {
    /// Index of its image.
    pub image: u32,
    /// Its download time (s).
    pub download_s: f64,
}

impl Download {
    /// The counted downloads of `vms`.
    pub fn of_counted(vms: &[VmRecord]) -> Vec<Download> {
        vms.iter()
            .filter(|v| v.counted)
            .map(|v| Download {
                image: v.image as u32,
                download_s: v.download_s(),
            })
            .collect()
    }
}

/// One server group at one tick.
#[derive(Debug, Clone, PartialEq)]
pub struct TickRecord {
    /// Time of the tick (s).
    pub time_s: f64,
    /// Group index (an image or a chunk of the policy's chunk space).
    pub group: usize,
    /// `u_s^g` set for the coming tick (Mb/s).
    pub u_s_g_mbps: f64,
    /// Leechers in the group.
    pub leechers: usize,
    /// Seeders holding the group's data.
    pub seeders: usize,
    /// `R^g` (Mb).
    pub remaining_mb: f64,
    /// `P^g` measured over the last tick (Mb/s).
    pub peer_upload_mbps: f64,
    /// `S^g`: Mb of `R^g` that no present peer holds.
    pub server_only_mb: f64,
    /// `T_r^g` under the allocation (s); infinite when the group has demand
    /// but no bandwidth.
    pub t_r_s: f64,
    /// Mb the server sent in this group during the tick that just ended.
    pub server_sent_mb: f64,
    /// Iterations the rule used at this tick.
    pub iterations: u32,
    /// `(M - M*) / M*` of the rule against the exact optimum, for iterative rules.
    pub gap: Option<f64>,
}

/// Counters and totals of a run, for conservation checks and speed reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunCounters {
    /// Events the engine processed.
    pub events: u64,
    /// Blocks delivered.
    pub block_transfers: u64,
    /// Wall-clock time of the simulation (s). Not part of the deterministic outputs.
    pub wall_s: f64,
    /// Time the last VM completed (s).
    pub makespan_s: f64,
    /// Mb the server sent (including cut-off partial blocks).
    pub server_sent_mb: f64,
    /// Mb peers sent (including cut-off partial blocks).
    pub peer_sent_mb: f64,
    /// Mb received in whole blocks.
    pub received_mb: f64,
    /// Mb sent but lost: partial blocks cut off by a departing seeder or by
    /// a server group whose rate fell to zero.
    pub waste_mb: f64,
    /// Flows cut off before delivery (departures, preemptions, end-game
    /// switches); their partial data is in `waste_mb`.
    pub flows_cut: u64,
    /// Server blocks in flight the end game moved to a peer.
    pub endgame_switches: u64,
    /// Most uploads any peer had at once (never above `upload_slots`).
    pub max_uploads_per_peer: u32,
    /// Peer slots the run allocated: about the most peers present at once
    /// (a departed peer's slot goes to a later arrival), or every peer's
    /// on a data center's hosts (`[topology]` or a download cap), which
    /// keep theirs. Not part of the CSV outputs.
    pub peer_slots: usize,
    /// Times departed peers' holder entries were purged (see `holders`).
    /// Not part of the CSV outputs.
    pub holder_purges: u64,
    /// Blocks a leecher received that it already held (must be 0).
    pub duplicate_deliveries: u64,
    /// Largest `sent / (u_j * time present)` over peers (must be <= 1).
    pub max_peer_utilisation: f64,
    /// Sum over peers of `u_j * time present up to the makespan` (Mb).
    pub peer_capacity_mb: f64,
    /// Mb counted VMs uploaded while leechers.
    pub leecher_sent_mb: f64,
    /// `u_j * download time` summed over counted VMs (Mb): with
    /// `leecher_sent_mb`, the leechers' upload efficiency `eta` of eq. (1).
    pub leecher_capacity_mb: f64,
    /// Mb counted VMs uploaded while seeders (until they left or the run ended).
    pub seeder_sent_mb: f64,
    /// `u_j * seeding time` summed over counted VMs (Mb).
    pub seeder_capacity_mb: f64,
    /// Mb peers sent to hosts of another rack, partial blocks included
    /// (docs/model.md section 9); 0 without `[topology]`.
    pub cross_rack_mb: f64,
    /// The highest load / capacity any link of the max-min network ever had
    /// (at most 1); `None` when the run has no network (no download cap and
    /// no capped rack link).
    pub max_link_utilisation: Option<f64>,
}

impl RunCounters {
    /// Measured `eta`: the fraction of their upload that leechers used.
    pub fn leecher_efficiency(&self) -> f64 {
        self.leecher_sent_mb / self.leecher_capacity_mb
    }

    /// The fraction of their upload that seeders used.
    pub fn seeder_efficiency(&self) -> f64 {
        self.seeder_sent_mb / self.seeder_capacity_mb
    }
}

/// Per-image download-time statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageStats {
    /// Image index.
    pub image: usize,
    /// VMs counted.
    pub count: usize,
    /// Mean download time (s); NaN when no VM is counted.
    pub mean_s: f64,
    /// Median (s).
    pub p50_s: f64,
    /// 95th percentile (s).
    pub p95_s: f64,
    /// 99th percentile (s).
    pub p99_s: f64,
    /// Maximum (s).
    pub max_s: f64,
}

/// One run's headline numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// VMs counted (after warm-up).
    pub vms: usize,
    /// Mean download time over counted VMs (s).
    pub mean_vm_s: f64,
    /// Unweighted mean of the per-image means (s): the paper's "average
    /// download time of all image files".
    pub mean_image_s: f64,
    /// Median over counted VMs (s).
    pub p50_s: f64,
    /// 95th percentile over counted VMs (s).
    pub p95_s: f64,
    /// 99th percentile over counted VMs (s).
    pub p99_s: f64,
    /// 99.9th percentile over counted VMs (s).
    pub p999_s: f64,
    /// Largest download time over counted VMs (s).
    pub max_s: f64,
    /// Server sent / (`u_s` x makespan).
    pub server_utilisation: f64,
    /// Peer upload sent / peer upload capacity present: the measured `eta`.
    pub peer_utilisation: f64,
}

/// The server's egress per tick (docs/model.md section 9): for each tick
/// after the first, its time and the Mb/s the server sent over the tick that
/// ended there (summed over groups).
pub fn server_egress(ticks: &[TickRecord], tick_s: f64) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for t in ticks {
        match out.last_mut() {
            Some(last) if last.0 == t.time_s => last.1 += t.server_sent_mb / tick_s,
            _ => out.push((t.time_s, t.server_sent_mb / tick_s)),
        }
    }
    // The first tick (at time 0) closes no interval.
    out.retain(|&(time_s, _)| time_s > 0.0);
    out
}

/// The `q`-quantile of sorted values (linear interpolation); NaN when empty.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = pos.floor() as usize;
            let hi = pos.ceil() as usize;
            sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
        }
    }
}

fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / values.len() as f64
    }
}

/// Per-image statistics over the counted VMs' downloads, for images
/// `0..images`.
pub fn image_stats(downloads: &[Download], images: usize) -> Vec<ImageStats> {
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); images];
    for d in downloads {
        times[d.image as usize].push(d.download_s);
    }
    times
        .into_iter()
        .enumerate()
        .map(|(image, mut t)| {
            t.sort_by(f64::total_cmp);
            ImageStats {
                image,
                count: t.len(),
                mean_s: mean(&t),
                p50_s: quantile(&t, 0.5),
                p95_s: quantile(&t, 0.95),
                p99_s: quantile(&t, 0.99),
                max_s: t.last().copied().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

/// The run's summary from its counted downloads and counters.
pub fn summarize(
    downloads: &[Download],
    per_image: &[ImageStats],
    counters: &RunCounters,
    u_s_mbps: f64,
) -> Summary {
    let mut t: Vec<f64> = downloads.iter().map(|d| d.download_s).collect();
    t.sort_by(f64::total_cmp);
    let image_means: Vec<f64> = per_image
        .iter()
        .filter(|s| s.count > 0)
        .map(|s| s.mean_s)
        .collect();
    let server_capacity = u_s_mbps * counters.makespan_s;
    Summary {
        vms: t.len(),
        mean_vm_s: mean(&t),
        mean_image_s: mean(&image_means),
        p50_s: quantile(&t, 0.5),
        p95_s: quantile(&t, 0.95),
        p99_s: quantile(&t, 0.99),
        p999_s: quantile(&t, 0.999),
        max_s: t.last().copied().unwrap_or(f64::NAN),
        server_utilisation: if server_capacity > 0.0 {
            counters.server_sent_mb / server_capacity
        } else {
            0.0
        },
        peer_utilisation: if counters.peer_capacity_mb > 0.0 {
            counters.peer_sent_mb / counters.peer_capacity_mb
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        assert!((quantile(&v, 0.95) - 4.8).abs() < 1e-12);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn mean_image_is_unweighted() {
        let rec = |image, d| VmRecord {
            vm: 0,
            image,
            arrival_s: 0.0,
            completion_s: d,
            from_server_mb: 0.0,
            from_peers_mb: 0.0,
            uploaded_as_leecher_mb: 0.0,
            upload_mbps: 1.0,
            counted: true,
        };
        let vms = vec![rec(0, 10.0), rec(0, 10.0), rec(0, 10.0), rec(1, 40.0)];
        let downloads = Download::of_counted(&vms);
        let per = image_stats(&downloads, 2);
        let s = summarize(&downloads, &per, &RunCounters::default(), 1.0);
        assert_eq!(s.mean_vm_s, 17.5);
        assert_eq!(s.mean_image_s, 25.0);
    }
}
