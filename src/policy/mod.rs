//! Server bandwidth allocation (docs/model.md section 5).
//!
//! A *policy* is three choices: the swarm model, the server grouping and an
//! allocation *rule*. This module holds the rules: each maps a [`Snapshot`] of
//! the groups at a tick to per-group server rates `u_s^g`. Rules know nothing
//! of events or peers; the simulator builds the snapshot and applies the
//! result.

mod available;
mod equal;
mod exact;
mod fixed;
mod fluid;
mod oldest;
mod proportional;
mod subgradient;

pub use crate::input::config::SubgradientParams;
pub use available::{ExactAvailable, available_time_s};
pub use equal::Equal;
pub use exact::{Exact, water_fill};
pub use fixed::Fixed;
pub use fluid::FluidMean;
pub use oldest::{OldestFirst, OldestFirstParams};
pub use proportional::Proportional;
pub use subgradient::Subgradient;

use crate::input::config::{PolicyDef, RuleKind};

/// The rule a policy names, ready to allocate (the factory the simulator
/// calls once per run). `tick_s` is `server.tick_s`, how long the rates hold.
pub fn build_rule(
    policy: &PolicyDef,
    subgradient: SubgradientParams,
    tick_s: f64,
) -> Box<dyn AllocationRule> {
    match policy.rule {
        RuleKind::OldestFirst => Box::new(OldestFirst::new(OldestFirstParams::new(tick_s))),
        RuleKind::FluidMean => Box::new(FluidMean::new(tick_s, OldestFirstParams::FLOOR_SHARE)),
        RuleKind::Equal => Box::new(Equal),
        RuleKind::Proportional => Box::new(Proportional),
        RuleKind::Subgradient => Box::new(Subgradient::new(subgradient)),
        RuleKind::Exact => Box::new(Exact::new()),
        RuleKind::ExactAvailable => Box::new(ExactAvailable),
        RuleKind::Fixed => Box::new(Fixed::new(policy.shares.clone().unwrap_or_default())),
    }
}

/// The state of one server group at a tick, as a rule sees it.
///
/// `Default` is a group with nothing at all (no demand, no members), for
/// building states field by field.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GroupState {
    /// `R^g`: Mb the group's leechers still lack of the group's data (blocks in
    /// flight count as remaining).
    pub remaining_mb: f64,
    /// `P^g = sum_j u_j * theta_j^g`: peer upload into the group, measured over
    /// the last tick (Mb/s).
    pub peer_upload_mbps: f64,
    /// Configured popularity of the group: an image's `p_i`, or for a chunk the
    /// sum of `p_i` over the images that hold it.
    pub popularity: f64,
    /// `S^g`: Mb of `R^g` in blocks no present peer holds, which only the
    /// server can send. The paper's rules ignore it; `exact-available` uses it.
    pub server_only_mb: f64,
    /// `n^g` (ours): the group's members, the leechers that lack some of its
    /// data. The group's rate is shared equally among their server flows
    /// (one block in flight each), so a member gets at most `u_s^g / n^g`.
    pub leechers: usize,
    /// How long the group's earliest member has been downloading (s): the
    /// wait so far of its oldest VM (ours; `oldest-first` ranks groups by
    /// it). 0 without members.
    pub oldest_leecher_age_s: f64,
}

impl GroupState {
    /// Whether the group has demand (`R^g > 0`); only such groups get bandwidth.
    pub fn has_demand(&self) -> bool {
        self.remaining_mb > 0.0
    }

    /// `T_r^g = R^g / (P^g + u_s^g)` (eq. 10) for a server rate `u_s_g_mbps`.
    /// Zero without demand; infinite when demand meets no bandwidth at all.
    pub fn remaining_time_s(&self, u_s_g_mbps: f64) -> f64 {
        if !self.has_demand() {
            return 0.0;
        }
        let rate = self.peer_upload_mbps + u_s_g_mbps;
        if rate > 0.0 {
            self.remaining_mb / rate
        } else {
            f64::INFINITY
        }
    }
}

/// What a rule sees at a tick.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// The server's total upload `u_s` (Mb/s).
    pub u_s_mbps: f64,
    /// One entry per server group, in group order.
    pub groups: &'a [GroupState],
}

impl Snapshot<'_> {
    /// `M = max_g T_r^g` (eq. 11's objective) under the given per-group rates.
    pub fn max_remaining_time_s(&self, rates_mbps: &[f64]) -> f64 {
        self.groups
            .iter()
            .zip(rates_mbps)
            .map(|(g, &u)| g.remaining_time_s(u))
            .fold(0.0, f64::max)
    }
}

/// A rule's answer: one rate per group, and the work it took.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// `u_s^g` per group (Mb/s), non-negative, summing to at most `u_s`.
    pub rates_mbps: Vec<f64>,
    /// Iterations an iterative rule used (0 for closed-form rules).
    pub iterations: u32,
}

impl Allocation {
    /// All zeros, when the server has no rate or no group has demand: what
    /// every rule gives then, without running.
    pub(crate) fn idle(snapshot: &Snapshot) -> Option<Allocation> {
        let u_s = snapshot.u_s_mbps;
        let nothing =
            u_s.is_nan() || u_s <= 0.0 || !snapshot.groups.iter().any(GroupState::has_demand);
        nothing.then(|| Allocation {
            rates_mbps: vec![0.0; snapshot.groups.len()],
            iterations: 0,
        })
    }
}

/// An allocation rule: maps a snapshot to per-group server rates.
///
/// Rules may keep state between ticks (the subgradient rule warm-starts its
/// multipliers), hence `&mut self`.
pub trait AllocationRule {
    /// The rule's name as configs spell it.
    fn name(&self) -> &'static str;
    /// Split `u_s` among the snapshot's groups.
    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation;
}
