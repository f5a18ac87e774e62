//! The end-of-run checks every run must pass.

use crate::input::config::{PeersConfig, ServerConfig};

use super::RunOutput;

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
    check_ticks(out, server)
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
fn check_ticks(out: &RunOutput, server: &ServerConfig) -> Result<(), String> {
    let eps = 1e-9;
    let mut previous: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    let mut current: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    let mut tick_time = f64::NAN;
    let mut tick_rate = 0.0;
    for t in &out.ticks {
        if t.time_s != tick_time {
            if tick_rate > server.u_s_mbps * (1.0 + eps) {
                return Err(format!(
                    "allocation of {tick_rate} Mb/s above u_s at t = {tick_time} s"
                ));
            }
            previous = std::mem::take(&mut current);
            tick_time = t.time_s;
            tick_rate = 0.0;
        }
        tick_rate += t.u_s_g_mbps;
        current.insert(t.group, t.u_s_g_mbps);
        let allowed = previous.get(&t.group).copied().unwrap_or(0.0) * server.tick_s;
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
