//! `fluid-mean` (ours, beyond the paper): the allocation that minimises the
//! sum of the members' download times in a fluid model of one tick, rather
//! than eq. (11)'s largest group time.
//!
//! **The fluid argument.** In group `g`, `n^g` members share the server's
//! rate `u^g` equally, and peers deliver `P^g` into the group, about
//! `P^g / n^g` to each. A member with `r_j` Mb left then finishes in
//! `r_j / ((u^g + P^g) / n^g)`, and the group's members together in
//! `n^g R^g / (u^g + P^g)` (summing over `j`, with `R^g = sum_j r_j`). The
//! sum over groups, `sum_g n^g R^g / (u^g + P^g)`, is convex in `u`; with
//! `sum_g u^g = u_s` its optimum has, for a multiplier `lambda`,
//! `n^g R^g / (u^g + P^g)^2 = lambda` wherever `u^g > 0`, that is
//! `u^g = max(0, sqrt(n^g R^g) / sqrt(lambda) - P^g)`.
//!
//! That is eq. (11)'s water-filling (`exact`, `sum_g max(0, w_g / M - P^g)
//! = u_s`) with the weight `w_g = sqrt(n^g R^g)` in place of `R^g`: the
//! min-max optimum gives a group rate in proportion to its data, this one
//! in proportion to the square root of data times members. A group of many
//! members gets more than its data's share of the min-max rule (every
//! member waits on it), a group with much data per member less (finishing
//! it helps few VMs).
//!
//! **Availability.** As in `exact-available`, data only the server holds
//! cannot come from peers: each group first gets a floor `S^g / tick_s`,
//! the floors together at most `floor_share` of `u_s` (as in
//! `oldest-first`), and the water-filling tops the floors up, so a group
//! that only the server can serve is never starved.

use super::exact::{fill_rates, water_level};
use super::oldest::server_only_floors;
use super::{Allocation, AllocationRule, GroupState, Snapshot};

/// Water-filling on `sqrt(n^g R^g)` with server-only floors (module docs).
#[derive(Debug, Clone)]
pub struct FluidMean {
    tick_s: f64,
    floor_share: f64,
    order: Vec<(f64, usize)>,
}

impl FluidMean {
    /// A new rule for rates that hold `tick_s` seconds; the floors for
    /// server-only data take at most `floor_share` of `u_s`.
    pub fn new(tick_s: f64, floor_share: f64) -> Self {
        FluidMean {
            tick_s,
            floor_share,
            order: Vec::new(),
        }
    }
}

/// The fluid weight `sqrt(n^g R^g)` (a group seen without members counts
/// as one).
fn weight(g: &GroupState) -> f64 {
    if g.has_demand() {
        (g.leechers.max(1) as f64 * g.remaining_mb).sqrt()
    } else {
        0.0
    }
}

impl AllocationRule for FluidMean {
    fn name(&self) -> &'static str {
        "fluid-mean"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let groups = snapshot.groups;
        let u_s = snapshot.u_s_mbps;
        if let Some(idle) = Allocation::idle(snapshot) {
            return idle;
        }
        let mut rates_mbps = vec![0.0; groups.len()];
        let mut floors = vec![0.0; groups.len()];
        let tick_s = self.tick_s.max(f64::MIN_POSITIVE);
        server_only_floors(snapshot, tick_s, self.floor_share, &mut floors);
        let given: f64 = floors.iter().sum();
        let budget = u_s - given;
        if budget > 0.0 {
            // The floors count as peer-like supply the water-filling tops up.
            let w = |g: usize| weight(&groups[g]);
            let p = |g: usize| groups[g].peer_upload_mbps + floors[g];
            let level = water_level(groups.len(), w, p, budget, &mut self.order);
            fill_rates(w, p, level, budget, &self.order, &mut rates_mbps);
        }
        for (r, f) in rates_mbps.iter_mut().zip(&floors) {
            *r += f;
        }
        Allocation {
            rates_mbps,
            iterations: 0,
        }
    }
}
