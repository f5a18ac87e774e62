//! The `subgradient` rule: the paper's Algorithm 1, the dual (sub)gradient
//! method of eqs. (12)-(16) for the min-max problem of eq. (11)
//! (docs/model.md section 5).
//!
//! # The dual, made well-posed
//!
//! Eq. (12) is `L = M + delta_0 (sum_g u_g - u_s) + sum_g delta_g (T_g(u) - M)`
//! with `T_g(u) = R_g / (P_g + u_g)` (eq. 10). It is linear in `M` with
//! coefficient `1 - sum_g delta_g`, so its minimum over `M` (eq. 13) is
//! finite only when `sum_g delta_g = 1`: the multipliers live on the
//! probability simplex, and `M` drops out of the dual. We keep them there by
//! projecting every step back onto the simplex. Only groups with demand carry
//! multipliers; a group without demand has no constraint `M >= T_g`.
//!
//! For fixed `delta`, minimising eq. (12) over `u_g >= 0` term by term gives
//! `u_g = max(0, sqrt(delta_g R_g / delta_0) - P_g)`. Eq. (15) moves
//! `delta_0` along the subgradient `sum_g u_g - u_s`; we take that step to its
//! limit and choose the `delta_0` at which `sum_g u_g = u_s`. With
//! `w_g = sqrt(delta_g R_g)` and `M = sqrt(delta_0)` this is exactly the
//! water-filling equation `sum_g max(0, w_g / M - P_g) = u_s` of the exact
//! rule, solved by the same sort ([`super::exact`]). The Lagrangian
//! minimiser `u(delta)` is therefore always feasible, and
//!
//! * `g(delta) = sum_g delta_g T_g(u(delta))` (eq. 14, the `delta_0` term
//!   vanishes) is a lower bound on the optimum `M*` (weak duality), while
//! * `max_g T_g(u)` of any feasible `u` is an upper bound.
//!
//! We keep the best of both; a call stops when `(UB - LB) / UB <= tolerance`
//! or after `max_iterations` Lagrangian minimisations, and returns the best
//! primal allocation seen.
//!
//! # The step (eq. 16)
//!
//! The gradient of `g` is `T_g(u(delta))`: eq. (16)'s subgradient
//! `T_g - M`, whose common shift `M` the simplex projection absorbs. The
//! paper writes `delta(t+1) = delta(t) - nu (...)` in (15) and (16); that is
//! descent, but the dual is *maximised* (eq. 14), so ascent adds the
//! subgradient. We step `delta + alpha * D * T` and project back onto the
//! simplex, with three choices made for reliability:
//!
//! * **Scaling `D = diag(R_g)`** (scaled gradient projection). At the
//!   optimum `delta_g = delta_0 R_g / M*^2` on the served groups (KKT), so
//!   the multipliers span the same orders of magnitude as `R_g`, and the
//!   curvature of `g` along `delta_g` is `T_g / (2 delta_g)`. With the plain
//!   Euclidean step that is badly conditioned (we measured hundreds of
//!   iterations and frequent stalls on random snapshots); scaling by `R_g`
//!   equalises it. The projection is the matching one, onto the same
//!   probability simplex in the norm `sum_g x_g^2 / R_g`: `max(0, y_g - tau
//!   R_g)` with `tau` found by sorting `y_g / R_g` (with equal weights it is
//!   the standard sort-based simplex projection).
//! * **Step length**: the first step of a call is `step * 2 / (g R)` with
//!   `R = sum_g R_g`, which lands on the optimum in one move (to first
//!   order) when the served set is already right; later steps are
//!   Barzilai-Borwein steps in the scaled metric, accepted by a
//!   non-monotone Armijo test on `g` (spectral projected gradient). Plain
//!   diminishing or Polyak steps either crawl or oscillate here, because
//!   `g` is flat (linear) along groups near their serving threshold and
//!   steep elsewhere.
//! * **Clipping**: a group with demand and `P_g = 0` has `T_g -> inf` as
//!   `delta_g -> 0`; its gradient component is capped at `2 g` so a starved
//!   group is revived in a step or two instead of blowing the step up.
//!
//! # Warm start
//!
//! The multipliers with the best lower bound are kept in the struct and
//! start the next call (docs/model.md section 5: warm-started from the last tick),
//! restricted to the groups that still have demand. What carries over is the
//! price per Mb, `delta_g / R_g`, applied to the new `R_g`: at the optimum
//! `delta_g = delta_0 R_g / M*^2` on the served groups, so this price is
//! common to them and stays right while the `R_g` drain, whereas a raw
//! `delta_g` of a group whose `R_g` collapsed would be far too large and
//! slow to drain under the `R`-scaled step. When the number of groups
//! changes, or none of the carried mass falls on a group with demand, the
//! rule restarts from the centre of the simplex over the groups with
//! demand. (It could restart from `delta_g` proportional to `R_g`, but that
//! start is special: with `delta ~ R`, `w_g ~ R_g` and `u(delta)` *is* the
//! exact water-filling solution, so the algorithm would have nothing left
//! to do.) The best
//! allocation of the last call, restricted to the groups with demand and
//! rescaled to the new `u_s`, also seeds the upper bound; on an unchanged
//! snapshot a warm call therefore stops after one iteration whenever the
//! previous one converged.

use super::exact::{fill_rates, water_level};
use super::{Allocation, AllocationRule, GroupState, Snapshot};
use crate::input::config::SubgradientParams;

/// The paper's Algorithm 1 (see the module docs): projected dual ascent on
/// the multipliers of eq. (12), warm-started from the previous call.
#[derive(Debug, Clone, Default)]
pub struct Subgradient {
    params: SubgradientParams,
    /// Current multipliers `delta_g` (zero on groups without demand).
    delta: Vec<f64>,
    /// Candidate multipliers of a step.
    trial: Vec<f64>,
    /// Step direction `trial - delta` (for backtracking).
    dir: Vec<f64>,
    /// Multipliers with the best lower bound: the next call's start.
    warm: Vec<f64>,
    /// `R_g` of the snapshot `warm` was computed for.
    warm_remaining: Vec<f64>,
    /// `w_g = sqrt(delta_g R_g)`, the water-filling weights of `u(delta)`.
    weights: Vec<f64>,
    /// `u(delta)` of the latest evaluation.
    rates: Vec<f64>,
    /// Best primal allocation (upper bound) seen.
    best: Vec<f64>,
    /// `T_g(u(delta))`: the gradient at `delta`.
    times: Vec<f64>,
    /// `T_g(u(trial))`.
    trial_times: Vec<f64>,
    /// Water-filling sort buffer.
    order: Vec<(f64, usize)>,
    /// Projection sort buffer: `(y_g / R_g, y_g, R_g)`.
    sorted: Vec<(f64, f64, f64)>,
    /// `(lower, upper)` bound on `M*` at the end of the last call.
    bounds: (f64, f64),
}

/// Cap on a gradient component, in units of the current dual value: keeps
/// the infinite `T_g` of a starved group without peer upload finite.
const CLIP: f64 = 2.0;
/// Window of the non-monotone line search (Grippo-Lampariello-Lucidi).
const HISTORY: usize = 10;
/// Sufficient-increase constant of the Armijo test.
const ARMIJO: f64 = 1e-4;
/// Barzilai-Borwein steps stay within `[1/SPREAD, SPREAD]` times the first.
const SPREAD: f64 = 1e3;
/// Smallest backtracking factor before a call gives up on progress.
const MIN_LAMBDA: f64 = 1e-10;

impl Subgradient {
    /// A subgradient rule with the given parameters and no warm-start state.
    pub fn new(params: SubgradientParams) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }

    /// The parameters this rule runs with.
    pub fn params(&self) -> SubgradientParams {
        self.params
    }

    /// The lower and upper bounds on the optimum `M*` at the end of the last
    /// call: the best dual value (eq. 14) and the `max_g T_r^g` of the
    /// returned allocation. `(0, 0)` when the call had nothing to allocate.
    pub fn bounds(&self) -> (f64, f64) {
        self.bounds
    }

    /// Loads the starting multipliers into `delta`: the warm start rescaled
    /// to the new `R_g`, restricted to groups with demand and renormalised,
    /// or `delta ~ R` on a restart.
    fn start(&mut self, groups: &[GroupState], r_total: f64) {
        self.delta.clear();
        if self.warm.len() == groups.len() && self.warm_remaining.len() == groups.len() {
            // Carry over the price per Mb, delta_g / R_g: at the optimum it is
            // the same for every served group (delta_g = delta_0 R_g / M*^2),
            // so it stays right while R_g changes; carrying delta_g itself
            // would leave a group whose R_g collapsed with a large multiplier
            // that the R-scaled step drains only slowly.
            self.delta
                .extend(self.warm.iter().zip(&self.warm_remaining).zip(groups).map(
                    |((&d, &r_old), g)| {
                        if g.has_demand() && r_old > 0.0 {
                            d * (g.remaining_mb / r_old)
                        } else {
                            0.0
                        }
                    },
                ));
            let mass: f64 = self.delta.iter().sum();
            if mass > 0.0 && mass.is_finite() {
                self.delta.iter_mut().for_each(|d| *d /= mass);
                return;
            }
            self.delta.clear();
        }
        // Restart from the simplex's centre over the groups with demand: the
        // paper gives no starting point, and the neutral one keeps the
        // algorithm honest. (`delta ~ R` would be no test at all: it makes
        // u(delta) the exact water-filling optimum at once, module docs.)
        let _ = r_total;
        let with_demand = groups.iter().filter(|g| g.has_demand()).count().max(1) as f64;
        self.delta.extend(groups.iter().map(|g| {
            if g.has_demand() {
                1.0 / with_demand
            } else {
                0.0
            }
        }));
    }

    /// The last call's best allocation made feasible for `snapshot` (zero
    /// without demand, rescaled to `u_s`) as a first upper bound, written to
    /// `rates`; returns its `max_g T_r^g`, or infinity if there is none.
    fn previous_primal(&mut self, snapshot: &Snapshot) -> f64 {
        let groups = snapshot.groups;
        if self.best.len() != groups.len() {
            return f64::INFINITY;
        }
        let mut sum = 0.0;
        for (r, (&b, g)) in self.rates.iter_mut().zip(self.best.iter().zip(groups)) {
            *r = if g.has_demand() { b } else { 0.0 };
            sum += *r;
        }
        if !(sum > 0.0 && sum.is_finite()) {
            return f64::INFINITY;
        }
        let scale = snapshot.u_s_mbps / sum;
        self.rates.iter_mut().for_each(|r| *r *= scale);
        snapshot.max_remaining_time_s(&self.rates)
    }
}

/// Minimises the Lagrangian (eq. 13) for the multipliers `delta` with
/// `delta_0` at its limit (`sum_g u_g = u_s`): writes `u(delta)` to `rates`
/// and `T_g(u(delta))` to `times`, and returns the dual value
/// `g(delta) = sum_g delta_g T_g` (a lower bound on `M*`) and the primal
/// value `max_g T_g` (an upper bound).
fn evaluate(
    snapshot: &Snapshot,
    delta: &[f64],
    weights: &mut [f64],
    order: &mut Vec<(f64, usize)>,
    rates: &mut [f64],
    times: &mut [f64],
) -> (f64, f64) {
    let groups = snapshot.groups;
    for ((w, &d), g) in weights.iter_mut().zip(delta).zip(groups) {
        *w = if g.has_demand() {
            (d * g.remaining_mb).sqrt()
        } else {
            0.0
        };
    }
    let weight = |g: usize| weights[g];
    let peer = |g: usize| groups[g].peer_upload_mbps;
    let level = water_level(groups.len(), weight, peer, snapshot.u_s_mbps, order);
    fill_rates(weight, peer, level, snapshot.u_s_mbps, order, rates);
    let (mut dual, mut primal) = (0.0, 0.0_f64);
    for (((t, &u), &d), g) in times.iter_mut().zip(&*rates).zip(delta).zip(groups) {
        *t = g.remaining_time_s(u);
        // A zero multiplier contributes nothing, even where T_g is infinite.
        if d > 0.0 {
            dual += d * *t;
        }
        primal = primal.max(*t);
    }
    (dual, primal)
}

/// Projects `delta` onto the probability simplex over the groups with demand
/// in the norm `sum_g x_g^2 / R_g`: `x_g = max(0, delta_g - tau R_g)` with
/// `sum_g x_g = 1` (zero without demand). Sorting `delta_g / R_g` finds
/// `tau`, as in the standard Euclidean projection (which is the case of
/// equal weights).
fn project(groups: &[GroupState], delta: &mut [f64], sorted: &mut Vec<(f64, f64, f64)>) {
    sorted.clear();
    sorted.extend(
        delta
            .iter()
            .zip(groups)
            .filter(|(_, g)| g.has_demand())
            .map(|(&y, g)| (y / g.remaining_mb, y, g.remaining_mb)),
    );
    sorted.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    // Keep the largest ratios while they stay above the running threshold.
    let (mut y_sum, mut w_sum, mut tau) = (0.0, 0.0, 0.0);
    for &(ratio, y, w) in sorted.iter() {
        let t = (y_sum + y - 1.0) / (w_sum + w);
        if ratio <= t {
            break;
        }
        (y_sum, w_sum, tau) = (y_sum + y, w_sum + w, t);
    }
    for (d, g) in delta.iter_mut().zip(groups) {
        *d = if g.has_demand() {
            (*d - tau * g.remaining_mb).max(0.0)
        } else {
            0.0
        };
    }
}

/// Whether the bounds certify the tolerance (never with an infinite bound).
fn converged(lower: f64, upper: f64, tolerance: f64) -> bool {
    upper.is_finite() && upper - lower <= tolerance * upper
}

impl AllocationRule for Subgradient {
    fn name(&self) -> &'static str {
        "subgradient"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let groups = snapshot.groups;
        let n = groups.len();
        let r_total: f64 = groups
            .iter()
            .filter(|g| g.has_demand())
            .map(|g| g.remaining_mb)
            .sum();
        if !snapshot.u_s_mbps.is_finite() && snapshot.u_s_mbps > 0.0 {
            // Unlimited server upload: nothing to trade off; the water-fill
            // gives every group with demand an infinite rate.
            self.bounds = (0.0, 0.0);
            return Allocation {
                rates_mbps: super::water_fill(snapshot).0,
                iterations: 0,
            };
        }
        let u_s = snapshot.u_s_mbps;
        if u_s.is_nan() || u_s <= 0.0 || r_total.is_nan() || r_total <= 0.0 {
            // Nothing to split, or no one to split it among: no iterations,
            // and the warm start is kept for the next tick.
            self.bounds = (0.0, 0.0);
            return Allocation {
                rates_mbps: vec![0.0; n],
                iterations: 0,
            };
        }
        let mut search = self.prepare(snapshot, r_total);
        // Spectral projected gradient in the R-scaled metric (module docs).
        let first = self.params.step * 2.0 / (search.dual * r_total);
        if first > 0.0 && first.is_finite() {
            self.ascend(snapshot, first, &mut search);
        }
        // Otherwise a zero or non-finite dual value (only with degenerate
        // inputs, e.g. R so small that every T_g underflows) gives no scale.
        self.bounds = (search.lower, search.upper);
        Allocation {
            rates_mbps: self.best.clone(),
            iterations: search.iterations,
        }
    }
}

/// Where a call's search stands.
#[derive(Debug, Clone, Copy)]
struct Search {
    /// The dual value at `delta`.
    dual: f64,
    /// Best lower bound on `M*` (dual value) so far.
    lower: f64,
    /// Best upper bound on `M*` (`max_g T_r^g` of `best`) so far.
    upper: f64,
    /// Lagrangian minimisations so far.
    iterations: u32,
}

/// How a backtracking line search ended.
enum LineSearch {
    /// A step was accepted, with this dual value.
    Accepted(f64),
    /// The call is over: converged, out of iterations, or no progress.
    Stop,
}

impl Subgradient {
    /// Size the buffers for `snapshot`, seed the upper bound with the last
    /// call's allocation, load the starting multipliers (kept as the warm
    /// start unless a better one is found) and evaluate them: the first
    /// iteration.
    fn prepare(&mut self, snapshot: &Snapshot, r_total: f64) -> Search {
        let groups = snapshot.groups;
        let n = groups.len();
        for v in [
            &mut self.trial,
            &mut self.dir,
            &mut self.weights,
            &mut self.rates,
            &mut self.times,
            &mut self.trial_times,
        ] {
            v.resize(n, 0.0);
        }
        let mut upper = self.previous_primal(snapshot);
        self.best.resize(n, 0.0);
        if upper.is_finite() {
            self.best.copy_from_slice(&self.rates);
        }
        self.start(groups, r_total);
        self.warm.clear();
        self.warm.extend_from_slice(&self.delta);
        self.warm_remaining.clear();
        self.warm_remaining
            .extend(groups.iter().map(|g| g.remaining_mb));
        let (dual, primal) = evaluate(
            snapshot,
            &self.delta,
            &mut self.weights,
            &mut self.order,
            &mut self.rates,
            &mut self.times,
        );
        // `u(delta)` is feasible even when some T_g is infinite, so it
        // replaces a missing seed: `best` must always be a valid answer.
        if primal < upper || upper.is_infinite() {
            upper = primal;
            self.best.copy_from_slice(&self.rates);
        }
        Search {
            dual,
            lower: dual,
            upper,
            iterations: 1,
        }
    }

    /// Projected ascent steps from `delta` until the bounds certify the
    /// tolerance, the iterations run out or no progress is left; `first` is
    /// the first step's scale.
    fn ascend(&mut self, snapshot: &Snapshot, first: f64, search: &mut Search) {
        let groups = snapshot.groups;
        let params = self.params;
        let max_iterations = params.max_iterations.max(1);
        let mut alpha = first;
        let mut history = [search.dual; HISTORY];
        let mut slot = 0;
        while !converged(search.lower, search.upper, params.tolerance)
            && search.iterations < max_iterations
        {
            let cap = CLIP * search.dual;
            let slope = self.direction(groups, alpha, cap);
            if slope.is_nan() || slope <= 0.0 {
                // Stationary: no ascent direction is left at this precision.
                break;
            }
            let reference = history.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let LineSearch::Accepted(accepted) =
                self.line_search(snapshot, slope, reference, search)
            else {
                break;
            };
            alpha = self.next_step(groups, accepted, cap, first);
            std::mem::swap(&mut self.delta, &mut self.trial);
            std::mem::swap(&mut self.times, &mut self.trial_times);
            search.dual = accepted;
            history[slot] = search.dual;
            slot = (slot + 1) % HISTORY;
        }
    }

    /// The projected step of scale `alpha` along the (clipped at `cap`)
    /// gradient, written to `trial`, and the direction `trial - delta` to
    /// `dir`; returns the slope of the dual along it.
    fn direction(&mut self, groups: &[GroupState], alpha: f64, cap: f64) -> f64 {
        let mut slope = 0.0;
        for (i, g) in groups.iter().enumerate() {
            self.trial[i] = if g.has_demand() {
                self.delta[i] + alpha * g.remaining_mb * self.times[i].min(cap)
            } else {
                0.0
            };
        }
        project(groups, &mut self.trial, &mut self.sorted);
        for (i, g) in groups.iter().enumerate() {
            self.dir[i] = self.trial[i] - self.delta[i];
            if g.has_demand() {
                slope += self.dir[i] * self.times[i].min(cap);
            }
        }
        slope
    }

    /// Non-monotone backtracking along `dir` from `delta`: halve the step
    /// until the dual value passes the Armijo test against `reference`.
    /// Every evaluation counts as an iteration and may improve the bounds.
    fn line_search(
        &mut self,
        snapshot: &Snapshot,
        slope: f64,
        reference: f64,
        search: &mut Search,
    ) -> LineSearch {
        let n = snapshot.groups.len();
        let max_iterations = self.params.max_iterations.max(1);
        let mut lambda = 1.0;
        loop {
            let (d, p) = evaluate(
                snapshot,
                &self.trial,
                &mut self.weights,
                &mut self.order,
                &mut self.rates,
                &mut self.trial_times,
            );
            search.iterations += 1;
            if p < search.upper {
                search.upper = p;
                self.best.copy_from_slice(&self.rates);
            }
            if d > search.lower {
                search.lower = d;
                self.warm.copy_from_slice(&self.trial);
            }
            if converged(search.lower, search.upper, self.params.tolerance)
                || search.iterations >= max_iterations
            {
                return LineSearch::Stop;
            }
            if d >= reference + ARMIJO * lambda * slope {
                return LineSearch::Accepted(d);
            }
            lambda *= 0.5;
            if lambda < MIN_LAMBDA {
                return LineSearch::Stop;
            }
            for i in 0..n {
                self.trial[i] = self.delta[i] + lambda * self.dir[i];
            }
        }
    }

    /// Barzilai-Borwein: the next step's scale from s = the step taken and
    /// y = the change of the (clipped) gradient; the dual is concave, so
    /// s.y < 0 along a real step. Kept within `SPREAD` of `first`.
    fn next_step(&self, groups: &[GroupState], accepted: f64, cap: f64, first: f64) -> f64 {
        let (mut ss, mut sy) = (0.0, 0.0);
        let new_cap = CLIP * accepted;
        for (i, g) in groups.iter().enumerate() {
            if g.has_demand() {
                let s = self.trial[i] - self.delta[i];
                ss += s * s / g.remaining_mb;
                sy -= s * (self.trial_times[i].min(new_cap) - self.times[i].min(cap));
            }
        }
        if sy > 0.0 {
            (ss / sy).clamp(first / SPREAD, first * SPREAD)
        } else {
            first * SPREAD
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::water_fill;

    fn group(remaining_mb: f64, peer_upload_mbps: f64) -> GroupState {
        GroupState {
            remaining_mb,
            peer_upload_mbps,
            popularity: 0.5,
            server_only_mb: 0.0,
            ..GroupState::default()
        }
    }

    fn rule() -> Subgradient {
        Subgradient::new(SubgradientParams::default())
    }

    fn assert_feasible(snap: &Snapshot, rates: &[f64]) {
        assert_eq!(rates.len(), snap.groups.len());
        for (g, &r) in snap.groups.iter().zip(rates) {
            assert!(r >= 0.0 && r.is_finite(), "{rates:?}");
            if !g.has_demand() {
                assert_eq!(r, 0.0);
            }
        }
        let sum: f64 = rates.iter().sum();
        assert!((sum - snap.u_s_mbps).abs() <= 1e-9 * snap.u_s_mbps, "{sum}");
    }

    /// Checks a solution against the hand-computed optimum `m_star` and the
    /// returned bounds.
    fn assert_near_optimal(rule: &Subgradient, snap: &Snapshot, rates: &[f64], m_star: f64) {
        assert_feasible(snap, rates);
        let tol = rule.params().tolerance;
        let m = snap.max_remaining_time_s(rates);
        assert!(
            m >= m_star * (1.0 - 1e-9) && m <= m_star * (1.0 + tol),
            "{m} vs {m_star}"
        );
        let (lower, upper) = rule.bounds();
        assert!(
            lower <= m_star * (1.0 + 1e-9),
            "lower bound {lower} above {m_star}"
        );
        assert!((upper - m).abs() <= 1e-12 * m);
        assert!(upper - lower <= tol * upper);
    }

    #[test]
    fn two_groups_without_peers_match_hand_solution() {
        // R = (100, 300), P = 0, u_s = 40: M* = 400 / 40 = 10, u = (10, 30).
        let groups = [group(100.0, 0.0), group(300.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &groups,
        };
        let mut r = rule();
        let a = r.allocate(&snap);
        assert_near_optimal(&r, &snap, &a.rates_mbps, 10.0);
        // Within the 1e-3 tolerance on M: max(100 / u0, 300 / (40 - u0)) <= 10.01
        // holds for u0 in [9.99, 10.03].
        assert!((a.rates_mbps[0] - 10.0).abs() < 0.031, "{:?}", a.rates_mbps);
        assert!(a.iterations >= 1 && a.iterations <= 200);
        assert_eq!(r.name(), "subgradient");
    }

    #[test]
    fn group_already_faster_gets_nothing() {
        // As in the exact rule's test: M* = 8, rates (12.5, 27.5, 0); group
        // 2 finishes in 2 s on peer upload alone.
        let groups = [group(100.0, 0.0), group(300.0, 10.0), group(50.0, 25.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &groups,
        };
        let mut r = rule();
        let a = r.allocate(&snap);
        assert_near_optimal(&r, &snap, &a.rates_mbps, 8.0);
        assert_eq!(a.rates_mbps[2], 0.0);
    }

    #[test]
    fn warm_start_from_a_different_tick_converges() {
        // The warm multipliers of the first snapshot are wrong for the second
        // (groups swap roles); the rule must still get there.
        let first = [group(500.0, 0.0), group(10.0, 5.0), group(80.0, 2.0)];
        let second = [group(10.0, 0.0), group(700.0, 1.0), group(0.0, 3.0)];
        let mut r = rule();
        r.allocate(&Snapshot {
            u_s_mbps: 20.0,
            groups: &first,
        });
        let snap = Snapshot {
            u_s_mbps: 30.0,
            groups: &second,
        };
        let a = r.allocate(&snap);
        let (_, m_star) = water_fill(&snap);
        assert_near_optimal(&r, &snap, &a.rates_mbps, m_star);
        assert_eq!(a.rates_mbps[2], 0.0);
    }

    #[test]
    fn nothing_to_allocate_takes_no_iterations() {
        let mut r = rule();
        let groups = [group(0.0, 1.0), group(0.0, 0.0)];
        let a = r.allocate(&Snapshot {
            u_s_mbps: 10.0,
            groups: &groups,
        });
        assert_eq!((a.rates_mbps, a.iterations), (vec![0.0, 0.0], 0));
        let groups = [group(5.0, 1.0), group(7.0, 0.0)];
        let a = r.allocate(&Snapshot {
            u_s_mbps: 0.0,
            groups: &groups,
        });
        assert_eq!((a.rates_mbps, a.iterations), (vec![0.0, 0.0], 0));
        let a = r.allocate(&Snapshot {
            u_s_mbps: 10.0,
            groups: &[],
        });
        assert!(a.rates_mbps.is_empty());
    }

    #[test]
    fn starved_group_without_peers_is_revived() {
        // Tick 1: group 1 has no demand, so the warm start gives it no mass.
        // Tick 2: it has demand and no peer upload, so T_1 is infinite until
        // its multiplier grows. M* = 1200 / 40 = 30, rates (30, 10).
        let mut r = rule();
        let first = [group(900.0, 0.0), group(0.0, 0.0)];
        r.allocate(&Snapshot {
            u_s_mbps: 30.0,
            groups: &first,
        });
        let second = [group(900.0, 0.0), group(300.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &second,
        };
        let a = r.allocate(&snap);
        assert_near_optimal(&r, &snap, &a.rates_mbps, 30.0);
        assert!((a.rates_mbps[1] - 10.0).abs() < 0.1, "{:?}", a.rates_mbps);
    }

    #[test]
    fn answer_is_feasible_even_when_stopped_at_once() {
        // As above, but the cap stops the rule after the first minimisation,
        // whose allocation starves group 1 (T_1 infinite): the answer must
        // still be a feasible split of the new u_s, not last tick's.
        let mut r = Subgradient::new(SubgradientParams {
            max_iterations: 1,
            ..SubgradientParams::default()
        });
        let first = [group(900.0, 0.0), group(0.0, 0.0)];
        r.allocate(&Snapshot {
            u_s_mbps: 30.0,
            groups: &first,
        });
        let second = [group(900.0, 0.0), group(300.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 40.0,
            groups: &second,
        };
        let a = r.allocate(&snap);
        assert_eq!(a.iterations, 1);
        assert_feasible(&snap, &a.rates_mbps);
    }

    #[test]
    fn infinite_server_bandwidth_has_no_nan() {
        let groups = [group(10.0, 0.0), group(0.0, 2.0)];
        let a = rule().allocate(&Snapshot {
            u_s_mbps: f64::INFINITY,
            groups: &groups,
        });
        assert_eq!(a.rates_mbps, vec![f64::INFINITY, 0.0]);
        assert_eq!(a.iterations, 0);
    }

    #[test]
    fn single_group_with_demand_gets_everything() {
        let groups = [group(0.0, 4.0), group(60.0, 2.0), group(0.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 10.0,
            groups: &groups,
        };
        let mut r = rule();
        let a = r.allocate(&snap);
        assert_near_optimal(&r, &snap, &a.rates_mbps, 5.0);
        assert!((a.rates_mbps[1] - 10.0).abs() < 1e-9);
    }

    #[test]
    fn projection_lands_on_the_simplex() {
        let groups = [group(1.0, 0.0), group(0.0, 0.0), group(3.0, 0.0)];
        let mut sorted = Vec::new();
        // Already on the simplex: unchanged.
        let mut d = [0.25, 0.0, 0.75];
        project(&groups, &mut d, &mut sorted);
        assert!((d[0] - 0.25).abs() < 1e-15 && (d[2] - 0.75).abs() < 1e-15);
        // Shift by tau * R: y = (1, 9, 1) -> tau = 1/4 gives (0.75, 0, 0.25).
        let mut d = [1.0, 9.0, 1.0];
        project(&groups, &mut d, &mut sorted);
        assert!((d[0] - 0.75).abs() < 1e-15 && d[1] == 0.0 && (d[2] - 0.25).abs() < 1e-15);
        // y = (2, 0, 0.1): group 2 drops out, group 0 takes all.
        let mut d = [2.0, 0.0, 0.1];
        project(&groups, &mut d, &mut sorted);
        assert_eq!(d, [1.0, 0.0, 0.0]);
    }

    #[test]
    fn restart_when_group_count_changes() {
        let mut r = rule();
        let groups = [group(100.0, 0.0), group(300.0, 0.0)];
        r.allocate(&Snapshot {
            u_s_mbps: 40.0,
            groups: &groups,
        });
        // Three groups: the two-group warm start cannot apply.
        let groups = [group(100.0, 0.0), group(300.0, 0.0), group(600.0, 0.0)];
        let snap = Snapshot {
            u_s_mbps: 50.0,
            groups: &groups,
        };
        let a = r.allocate(&snap);
        assert_near_optimal(&r, &snap, &a.rates_mbps, 20.0);
    }
}
