//! The `exact` rule (docs/model.md section 5, ours, beyond the paper): the min-max
//! problem of eq. (11) solved exactly by water-filling. It is the oracle the
//! `subgradient` rule (the paper's Algorithm 1) is tested against.
//!
//! Eq. (11) asks for `min M = max_g R^g / (P^g + u^g)` subject to
//! `sum_g u^g = u_s`, `u^g >= 0`. At a level `M`, group `g` needs
//! `max(0, R^g / M - P^g)` to finish within `M` (eq. 10 solved for `u^g`), so
//! the optimum `M*` is the level where those needs add up to `u_s`:
//! `sum_g max(0, R^g / M* - P^g) = u_s`. The left side falls as `M` grows, so
//! `M*` is unique. A group is served exactly when its threshold
//! `R^g / P^g` (its `T_r` without server help) exceeds `M*`; sorting the
//! thresholds finds the served set, after which `M*` has a closed form.

use super::{Allocation, AllocationRule, Snapshot};

/// Solves eq. (11) exactly by water-filling (see the module docs).
///
/// Keeps a sort buffer between calls, so a tick allocates only its answer.
#[derive(Debug, Clone, Default)]
pub struct Exact {
    order: Vec<(f64, usize)>,
}

impl Exact {
    /// A new exact rule.
    pub fn new() -> Self {
        Self::default()
    }
}

impl AllocationRule for Exact {
    fn name(&self) -> &'static str {
        "exact"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let mut rates_mbps = vec![0.0; snapshot.groups.len()];
        water_fill_into(snapshot, &mut self.order, &mut rates_mbps);
        Allocation {
            rates_mbps,
            iterations: 0,
        }
    }
}

/// Water-fills `snapshot`: returns the optimal rates of eq. (11) and the
/// optimum `M* = max_g T_r^g` (eq. 10) they reach.
///
/// Groups without demand get 0; groups already faster than `M*` on peer
/// upload alone (`R^g / P^g <= M*`) get 0; every served group finishes in
/// exactly `M*`. The rates sum to `u_s` (up to rounding) whenever some group
/// has demand and `u_s > 0`.
///
/// Edge cases, none of which produce NaN: with no demand, `M* = 0`; with
/// `u_s <= 0` (or NaN) every rate is 0 and `M*` is the slowest group's
/// `R^g / P^g`, infinite if a group with demand has `P^g = 0`; groups with
/// `P^g = 0` have an infinite threshold and are always served when `u_s > 0`.
/// An infinite `u_s` gives every group with demand an infinite rate and
/// `M* = 0`. Inputs are otherwise assumed finite and non-negative.
pub fn water_fill(snapshot: &Snapshot) -> (Vec<f64>, f64) {
    let mut rates = vec![0.0; snapshot.groups.len()];
    let level = water_fill_into(snapshot, &mut Vec::new(), &mut rates);
    (rates, level)
}

/// [`water_fill`] into a caller's buffers: writes the rates into `rates`
/// (one per group) and returns `M*`.
fn water_fill_into(snapshot: &Snapshot, order: &mut Vec<(f64, usize)>, rates: &mut [f64]) -> f64 {
    let groups = snapshot.groups;
    rates.fill(0.0);
    if snapshot.u_s_mbps.is_nan() || snapshot.u_s_mbps <= 0.0 {
        // Nothing to hand out: each group runs on peer upload alone.
        return snapshot.max_remaining_time_s(rates);
    }
    let weight = |g: usize| {
        if groups[g].has_demand() {
            groups[g].remaining_mb
        } else {
            0.0
        }
    };
    let peer = |g: usize| groups[g].peer_upload_mbps;
    let level = water_level(groups.len(), weight, peer, snapshot.u_s_mbps, order);
    fill_rates(weight, peer, level, snapshot.u_s_mbps, order, rates);
    level
}

/// The water level of the generalised problem `min M` s.t.
/// `w_g / (p_g + u_g) <= M`, `sum_g u_g = u_s`, `u_g >= 0`: the `M` with
/// `sum_g max(0, w_g / M - p_g) = u_s`.
///
/// Only groups with `w_g > 0` take part. Shared with the subgradient rule,
/// whose Lagrangian minimiser (eq. 13) has exactly this form with
/// `w_g = sqrt(delta_g R^g)` and `M = sqrt(delta_0)`. `order` is scratch; on
/// return it holds the candidates `(threshold w_g / p_g, g)` sorted by
/// falling threshold, with the served ones first. Requires `u_s > 0`.
pub(super) fn water_level(
    n: usize,
    weight: impl Fn(usize) -> f64,
    peer: impl Fn(usize) -> f64,
    u_s: f64,
    order: &mut Vec<(f64, usize)>,
) -> f64 {
    order.clear();
    // `w / 0` is +inf: a group without peer upload is always served.
    order.extend(
        (0..n)
            .filter(|&g| weight(g) > 0.0)
            .map(|g| (weight(g) / peer(g), g)),
    );
    order.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    // With the `k` largest thresholds served, `sum (w/M - p) = u_s` gives
    // `M_k = W_k / (u_s + P_k)`. `M_{k+1}` is the mediant of `M_k` and the
    // next threshold `t`, so it rises exactly while `t > M_k`: serve groups in
    // threshold order until the next one is already fast enough. The final
    // `M_k` lies between the last served threshold and the first unserved
    // one, so it solves the full equation.
    let (mut w_sum, mut p_sum, mut level) = (0.0, 0.0, 0.0);
    for (k, &(threshold, g)) in order.iter().enumerate() {
        if k > 0 && threshold <= level {
            break;
        }
        w_sum += weight(g);
        p_sum += peer(g);
        level = w_sum / (u_s + p_sum);
    }
    level
}

/// Writes the rates `max(0, w_g / level - p_g)` of a [`water_level`] solution
/// into `rates` and rescales them to sum to exactly `u_s`.
///
/// The rescale undoes the cancellation in `w/M - p` when `u_s` is small next
/// to the peer rates. `order` must be the one `water_level` left.
pub(super) fn fill_rates(
    weight: impl Fn(usize) -> f64,
    peer: impl Fn(usize) -> f64,
    level: f64,
    u_s: f64,
    order: &[(f64, usize)],
    rates: &mut [f64],
) {
    rates.fill(0.0);
    let mut sum = 0.0;
    for &(_, g) in order {
        // `f64::max` maps a NaN (from inf - inf) to 0.
        let u = (weight(g) / level - peer(g)).max(0.0);
        rates[g] = u;
        sum += u;
    }
    if !u_s.is_finite() {
        return;
    }
    if sum > 0.0 && sum.is_finite() {
        let scale = u_s / sum;
        for &(_, g) in order {
            rates[g] *= scale;
        }
    } else if let Some(&(_, g)) = order.first() {
        // Every share rounded to 0 (a subnormal `u_s`): the slowest group
        // takes it all, which is still the optimum to within rounding.
        rates[g] = u_s;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::GroupState;

    fn group(remaining_mb: f64, peer_upload_mbps: f64) -> GroupState {
        GroupState {
            remaining_mb,
            peer_upload_mbps,
            popularity: 0.5,
            server_only_mb: 0.0,
            ..GroupState::default()
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn no_peer_upload_splits_in_proportion_to_remaining() {
        // 400 Mb over 40 Mb/s: M* = 10, rates R/M* = (10, 30).
        let groups = [group(100.0, 0.0), group(300.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &groups,
        };
        let (rates, m) = water_fill(&snap);
        assert!(close(m, 10.0), "{m}");
        assert!(close(rates[0], 10.0) && close(rates[1], 30.0), "{rates:?}");
        let a = Exact::new().allocate(&snap);
        assert_eq!(a.rates_mbps, rates);
        assert_eq!(a.iterations, 0);
        assert_eq!(Exact::new().name(), "exact");
    }

    #[test]
    fn group_already_faster_gets_nothing() {
        // Groups 0 and 1 alone: M = 400 / (40 + 0 + 10) = 8; group 2's own
        // time 50 / 25 = 2 < 8, so it stays out. Rates: 100/8 = 12.5 and
        // 300/8 - 10 = 27.5.
        let groups = [group(100.0, 0.0), group(300.0, 10.0), group(50.0, 25.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &groups,
        };
        let (rates, m) = water_fill(&snap);
        assert!(close(m, 8.0), "{m}");
        assert!(close(rates[0], 12.5), "{rates:?}");
        assert!(close(rates[1], 27.5), "{rates:?}");
        assert_eq!(rates[2], 0.0);
        assert!(close(snap.max_remaining_time_s(&rates), m));
    }

    #[test]
    fn threshold_decides_who_is_served() {
        // Group 0: R/P = 100/1 = 100; group 1: 60/2 = 30. With u_s = 1:
        // group 0 alone gives M = 100/2 = 50 > 30, so group 1 is out.
        // With u_s = 9: group 0 alone gives 10 < 30, so both are served:
        // M = 160 / (9 + 3) = 40/3.
        let groups = [group(100.0, 1.0), group(60.0, 2.0)];
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: 1.0,
            groups: &groups,
        });
        assert!(close(m, 50.0) && close(rates[0], 1.0) && rates[1] == 0.0);
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: 9.0,
            groups: &groups,
        });
        assert!(close(m, 40.0 / 3.0), "{m}");
        assert!(close(rates[0], 100.0 * 3.0 / 40.0 - 1.0), "{rates:?}");
        assert!(close(rates[1], 60.0 * 3.0 / 40.0 - 2.0), "{rates:?}");
    }

    #[test]
    fn groups_without_demand_get_nothing() {
        let groups = [group(0.0, 0.0), group(10.0, 0.0), group(0.0, 5.0)];
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: 5.0,
            groups: &groups,
        });
        assert_eq!(rates, vec![0.0, 5.0, 0.0]);
        assert!(close(m, 2.0));
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: 5.0,
            groups: &[group(0.0, 1.0)],
        });
        assert_eq!((rates, m), (vec![0.0], 0.0));
    }

    #[test]
    fn zero_server_bandwidth_gives_zero_rates() {
        let groups = [group(10.0, 2.0), group(30.0, 3.0)];
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: 0.0,
            groups: &groups,
        });
        assert_eq!(rates, vec![0.0, 0.0]);
        assert!(close(m, 10.0));
        // A group with demand and no bandwidth at all never finishes.
        let groups = [group(10.0, 0.0), group(30.0, 3.0)];
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: 0.0,
            groups: &groups,
        });
        assert_eq!(rates, vec![0.0, 0.0]);
        assert_eq!(m, f64::INFINITY);
    }

    #[test]
    fn infinite_server_bandwidth_has_no_nan() {
        let groups = [group(10.0, 0.0), group(30.0, 3.0), group(0.0, 1.0)];
        let (rates, m) = water_fill(&Snapshot {
            u_s_mbps: f64::INFINITY,
            groups: &groups,
        });
        assert_eq!(rates, vec![f64::INFINITY, f64::INFINITY, 0.0]);
        assert_eq!(m, 0.0);
    }

    #[test]
    fn tiny_server_bandwidth_still_sums_to_u_s() {
        // Peer rates dwarf u_s: w/M - p cancels badly, the rescale fixes it.
        let groups = [group(1e5, 2000.0), group(9e4, 1800.0), group(5e4, 1000.0)];
        let u_s = 1e-9;
        let (rates, _) = water_fill(&Snapshot {
            u_s_mbps: u_s,
            groups: &groups,
        });
        let sum: f64 = rates.iter().sum();
        assert!((sum - u_s).abs() <= 1e-12 * u_s, "{sum}");
        assert!(rates.iter().all(|&r| r >= 0.0));
    }
}
