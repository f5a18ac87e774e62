//! The end-of-run checks every run must pass.

use crate::input::config::{PeersConfig, ServerConfig};

use super::RunOutput;
use super::metrics::TickRecord;

/// The cheap invariants every run must satisfy (docs/model.md section 4): every
/// VM completes; no block reaches a leecher twice; every Mb sent is received
/// or counted as waste; no peer sends above its upload or serves more than
/// `upload_slots` blocks at once; at every tick the
/// allocation stays within `u_s` and no group sent more than its rate; no
/// link of the max-min network (NICs, rack links, group rates) ever carried
/// more than its capacity, and the Mb that crossed racks are peer Mb
/// (docs/model.md section 9).
pub fn check_invariants(
    out: &RunOutput,
    requests: usize,
    peers: &PeersConfig,
    server: &ServerConfig,
) -> Result<(), String> {
    check_counters(out, requests, peers)?;
    check_ticks(&out.ticks, server)
}

/// The run's counters: completions, duplicates, conservation of data, and
/// the peers' and links' capacities.
fn check_counters(out: &RunOutput, requests: usize, peers: &PeersConfig) -> Result<(), String> {
    let c = &out.counters;
    let recorded = if out.vms_streamed {
        out.completed
    } else {
        out.vms.len()
    };
    if out.completed != requests || recorded != requests {
        return Err(format!(
            "{} of {requests} VMs completed ({recorded} recorded)",
            out.completed
        ));
    }
    if c.duplicate_deliveries > 0 {
        return Err(format!(
            "{} blocks were delivered twice to one leecher",
            c.duplicate_deliveries
        ));
    }
    let sent = c.server_sent_mb + c.peer_sent_mb;
    if (sent - (c.received_mb + c.waste_mb)).abs() > 1e-6 * sent.max(1.0) {
        return Err(format!(
            "{sent} Mb sent but {} received and {} wasted",
            c.received_mb, c.waste_mb
        ));
    }
    if c.max_uploads_per_peer > peers.upload_slots {
        return Err(format!(
            "a peer had {} uploads at once, above upload_slots = {}",
            c.max_uploads_per_peer, peers.upload_slots
        ));
    }
    if c.max_peer_utilisation > 1.0 + 1e-9 {
        return Err(format!(
            "a peer sent {} times its upload capacity",
            c.max_peer_utilisation
        ));
    }
    if let Some(u) = c.max_link_utilisation
        && (u.is_nan() || u > 1.0 + 1e-9)
    {
        return Err(format!("a link carried {u} times its capacity"));
    }
    if c.cross_rack_mb < 0.0 || c.cross_rack_mb > c.peer_sent_mb * (1.0 + 1e-9) + 1e-6 {
        return Err(format!(
            "{} Mb crossed racks, but peers sent {} Mb",
            c.cross_rack_mb, c.peer_sent_mb
        ));
    }
    Ok(())
}

/// The server's ticks: each allocation within `u_s`, and no group sending
/// more in a tick than the rate it was given at the tick's start.
fn check_ticks(ticks: &[TickRecord], server: &ServerConfig) -> Result<(), String> {
    let eps = 1e-9;
    // Per group, its rate at the last tick and at this one (0 for a group
    // not listed): indexed by group, since groups are numbered densely (a
    // hash map here was 0.7% of a cross-opt run, its ticks listing every
    // chunk group).
    let mut previous: Vec<f64> = Vec::new();
    let mut current: Vec<f64> = Vec::new();
    let mut tick_time = f64::NAN;
    let mut tick_rate = 0.0;
    for t in ticks {
        if t.time_s != tick_time {
            if tick_rate > server.u_s_mbps * (1.0 + eps) {
                return Err(format!(
                    "allocation of {tick_rate} Mb/s above u_s at t = {tick_time} s"
                ));
            }
            std::mem::swap(&mut previous, &mut current);
            current.fill(0.0);
            tick_time = t.time_s;
            tick_rate = 0.0;
        }
        tick_rate += t.u_s_g_mbps;
        if t.group >= current.len() {
            current.resize(t.group + 1, 0.0);
        }
        current[t.group] = t.u_s_g_mbps;
        let allowed = previous.get(t.group).copied().unwrap_or(0.0) * server.tick_s;
        if t.server_sent_mb > allowed * (1.0 + eps) + 1e-6 {
            return Err(format!(
                "group {} sent {} Mb in the tick before t = {} s, above its {allowed} Mb",
                t.group, t.server_sent_mb, t.time_s
            ));
        }
    }
    if tick_rate > server.u_s_mbps * (1.0 + eps) {
        return Err(format!(
            "allocation of {tick_rate} Mb/s above u_s at t = {tick_time} s"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tick record of `group` at `time_s`: rate set and Mb sent.
    fn tick(time_s: f64, group: usize, u_s_g_mbps: f64, server_sent_mb: f64) -> TickRecord {
        TickRecord {
            time_s,
            group,
            u_s_g_mbps,
            leechers: 0,
            seeders: 0,
            remaining_mb: 0.0,
            peer_upload_mbps: 0.0,
            server_only_mb: 0.0,
            t_r_s: 0.0,
            server_sent_mb,
            iterations: 0,
            gap: None,
        }
    }

    #[test]
    fn a_group_may_send_what_its_last_rate_allows_and_no_more() {
        let server = ServerConfig {
            u_s_mbps: 10.0,
            tick_s: 1.0,
        };
        // Whether the ticks fail the check with a message naming `what`.
        let rejects = |ticks: &[TickRecord], what: &str| {
            check_ticks(ticks, &server).is_err_and(|e| e.contains(what))
        };
        // Group 3 had 6 Mb/s over the last tick, group 1 was not listed.
        let mut ticks = vec![tick(0.0, 3, 6.0, 0.0), tick(0.0, 0, 4.0, 0.0)];
        ticks.extend([tick(1.0, 3, 5.0, 6.0), tick(1.0, 0, 5.0, 4.0)]);
        assert_eq!(check_ticks(&ticks, &server), Ok(()));
        // Tick 2: group 1, unlisted at tick 1, may have sent nothing.
        ticks.push(tick(2.0, 1, 1.0, 0.5));
        assert!(rejects(&ticks, "group 1"));
        ticks.pop();
        // Group 3 got 5 Mb/s at tick 1, so 5.5 Mb is too much at tick 2.
        ticks.push(tick(2.0, 3, 1.0, 5.5));
        assert!(rejects(&ticks, "group 3"));
        ticks.pop();
        // Group 3, listed at ticks 0 and 1 but not at 2, may send nothing
        // in the tick before 3.
        ticks.extend([tick(2.0, 0, 5.0, 5.0), tick(3.0, 3, 1.0, 1.0)]);
        assert!(rejects(&ticks, "group 3"));
        ticks.truncate(4);
        // A tick whose rates add up to more than u_s.
        ticks.extend([tick(2.0, 3, 6.0, 5.0), tick(2.0, 0, 6.0, 5.0)]);
        assert!(rejects(&ticks, "above u_s"));
    }
}
