//! `exact-available` (ours, beyond the paper's rules): the
//! min-max problem of eq. (11) with block availability taken into account.
//!
//! Eq. (10)'s `T_r = R / (P + u)` assumes peers can deliver any of the
//! group's remaining data. They cannot deliver blocks that no present peer
//! holds: only the server can. With `S^g` the Mb of such blocks, the group
//! needs at least `S^g / u` whatever the peers do, so its time is
//! `T^g(u) = max(R^g / (P^g + u), S^g / u)`. Without this, a group whose
//! last blocks no peer holds, while peers still trade its other blocks, can
//! be given no server rate at all for as long as arrivals keep `P^g` up
//! (`docs/figures.md`, "A pathology at 5 req/s"). At a level `M` the group
//! needs `max(0, R^g / M - P^g, S^g / M)`; the sum falls as `M` grows, so
//! the optimum is found by bisection on `M`.

use super::{Allocation, AllocationRule, GroupState, Snapshot};

/// Water-filling on `max(R / (P + u), S / u)` (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
pub struct ExactAvailable;

/// The server rate group `g` needs to finish within `level` seconds.
fn need(g: &GroupState, level: f64) -> f64 {
    if !g.has_demand() {
        return 0.0;
    }
    (g.remaining_mb / level - g.peer_upload_mbps)
        .max(g.server_only_mb / level)
        .max(0.0)
}

/// The group's time at server rate `u` under this rule's model.
pub fn available_time_s(g: &GroupState, u: f64) -> f64 {
    let peers = g.remaining_time_s(u);
    if g.server_only_mb > 0.0 {
        if u > 0.0 {
            peers.max(g.server_only_mb / u)
        } else {
            f64::INFINITY
        }
    } else {
        peers
    }
}

impl AllocationRule for ExactAvailable {
    fn name(&self) -> &'static str {
        "exact-available"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let groups = snapshot.groups;
        let u_s = snapshot.u_s_mbps;
        let mut rates_mbps = vec![0.0; groups.len()];
        if !(u_s > 0.0 && u_s.is_finite() && groups.iter().any(GroupState::has_demand)) {
            return Allocation {
                rates_mbps,
                iterations: 0,
            };
        }
        let total = |level: f64| groups.iter().map(|g| need(g, level)).sum::<f64>();
        // Bracket the level: `lo` needs at least u_s, `hi` at most.
        let demand: f64 = groups.iter().map(|g| g.remaining_mb).sum();
        let (mut lo, mut hi) = (demand / u_s, demand / u_s);
        while total(hi) > u_s && hi < 1e300 {
            hi *= 2.0;
        }
        while total(lo) < u_s && lo > 1e-300 {
            lo /= 2.0;
        }
        let mut iterations = 0;
        while iterations < 200 && hi - lo > 1e-12 * hi {
            let mid = 0.5 * (lo + hi);
            if total(mid) > u_s {
                lo = mid;
            } else {
                hi = mid;
            }
            iterations += 1;
        }
        for (r, g) in rates_mbps.iter_mut().zip(groups) {
            *r = need(g, hi);
        }
        // `hi` needs at most u_s: hand out the rounding slack in proportion,
        // so the whole of u_s is used, as the exact rule does.
        let sum: f64 = rates_mbps.iter().sum();
        if sum > 0.0 {
            rates_mbps.iter_mut().for_each(|r| *r *= u_s / sum);
        }
        Allocation {
            rates_mbps,
            iterations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::water_fill;

    fn g(remaining_mb: f64, peer_upload_mbps: f64, server_only_mb: f64) -> GroupState {
        GroupState {
            remaining_mb,
            peer_upload_mbps,
            popularity: 0.5,
            server_only_mb,
            ..GroupState::default()
        }
    }

    #[test]
    fn without_unheld_blocks_it_is_the_exact_rule() {
        let groups = [g(100.0, 0.0, 0.0), g(300.0, 10.0, 0.0), g(50.0, 25.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &groups,
        };
        let (exact, m) = water_fill(&snap);
        let a = ExactAvailable.allocate(&snap);
        for (x, y) in a.rates_mbps.iter().zip(&exact) {
            assert!((x - y).abs() < 1e-6, "{:?} vs {:?}", a.rates_mbps, exact);
        }
        assert!((snap.max_remaining_time_s(&a.rates_mbps) - m).abs() < 1e-9 * m);
    }

    #[test]
    fn a_group_peers_cannot_finish_gets_server_rate() {
        // Group 1 looks fast on peers alone (R/P = 1 s), but 4 Mb of it no
        // peer holds: the exact rule gives it nothing, this rule does.
        let groups = [g(1000.0, 0.0, 0.0), g(100.0, 100.0, 4.0)];
        let snap = Snapshot {
            u_s_mbps: 100.0,
            groups: &groups,
        };
        let (exact, _) = water_fill(&snap);
        assert_eq!(exact[1], 0.0);
        let a = ExactAvailable.allocate(&snap);
        assert!(a.rates_mbps[1] > 0.0);
        assert!((a.rates_mbps.iter().sum::<f64>() - 100.0).abs() < 1e-9);
        // Both groups finish together: 1000 / u0 = 4 / u1, u0 + u1 = 100.
        let m = a
            .rates_mbps
            .iter()
            .zip(&groups)
            .map(|(&u, g)| available_time_s(g, u))
            .fold(0.0, f64::max);
        assert!((m - 1004.0 / 100.0).abs() < 1e-6, "{m}");
    }
}
