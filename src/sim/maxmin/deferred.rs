//! Deferred re-solving for [`MaxMinNetwork`]: changes between exact solves
//! (docs/model.md section 9, "Sharing").
//!
//! Exact max-min after every flow start and end is too slow for a data
//! center: rack links and receivers' NICs couple nearly every flow into one
//! component, and about half of its rates really move at each change (see
//! the module docs of `maxmin`). The `_deferred` operations therefore do not
//! re-solve. They keep the allocation *feasible* instead, and record which
//! resources changed; [`MaxMinNetwork::solve_dirty`] then re-solves exactly
//! the components of those resources, and the caller decides how often (the
//! simulator: at most once every `topology.resolve_s`).
//!
//! Between solves:
//!
//! * a flow that starts, or ends or is cut, re-shares at once the flows of
//!   its *small* resources (a host's NICs): progressive filling over that
//!   neighbourhood with everything else fixed (see `local`). A new flow thus
//!   gets its fair share of its hosts' NICs, limited on the large resources
//!   (rack links, a group's rate) to their spare capacity; capacity a flow
//!   frees goes to its neighbours on the NICs, and waits for the next solve
//!   on the large resources. No resource ever exceeds its capacity;
//! * every rate change brings the flow's remaining Mb forward and re-keys
//!   its completion, so completion times move with rates exactly as in the
//!   exact mode, and every resource's Mb sent is exact for the rates it had.
//!
//! Capacity changes ([`MaxMinNetwork::set_capacities`]) re-solve at once: a
//! capacity that falls below its load cannot wait.
//!
//! The highest load / capacity any resource ever had is kept
//! ([`MaxMinNetwork::peak_utilisation`]), so a run can check at its end that
//! no link was ever above its capacity.

use crate::sim::transfer::FlowId;

use super::{MaxMinNetwork, Ordered, ResourceId};
use std::cmp::Reverse;

/// What the deferred mode keeps between solves.
#[derive(Debug, Clone, Default)]
pub(super) struct Deferred {
    /// Resources changed since the last solve, each once.
    dirty: Vec<ResourceId>,
    /// Per resource: whether it is in `dirty`.
    is_dirty: Vec<bool>,
    /// Highest load / capacity of any resource, at any time so far.
    peak_utilisation: f64,
}

impl Deferred {
    /// Record a resource's load in the peak utilisation.
    pub(super) fn note(&mut self, capacity_mbps: f64, load_mbps: f64) {
        let ratio = if capacity_mbps > 0.0 {
            load_mbps / capacity_mbps
        } else if load_mbps > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        self.peak_utilisation = self.peak_utilisation.max(ratio);
    }
}

impl MaxMinNetwork {
    /// Start `flow` of `size_mb` at `now_s` crossing `resources`, without
    /// re-solving: the flows of its small resources are re-filled locally.
    /// Panics as [`add_flow`](Self::add_flow) does.
    pub fn add_flow_deferred(
        &mut self,
        now_s: f64,
        flow: FlowId,
        resources: &[ResourceId],
        size_mb: f64,
    ) {
        self.insert(now_s, flow, resources, size_mb);
        let slot = self.slot_of[&flow];
        self.local_fill(now_s, resources, Some(slot));
        for &r in resources {
            self.mark_dirty(r);
        }
    }

    /// Stop `flow` at `now_s` without re-solving; returns the Mb it still
    /// lacked (`None` if it is not active).
    pub fn remove_flow_deferred(&mut self, now_s: f64, flow: FlowId) -> Option<f64> {
        let slot = *self.slot_of.get(&flow)?;
        Some(self.stop_deferred(slot, now_s, false))
    }

    /// Stop every flow crossing `r` at `now_s` without re-solving; returns
    /// each with the Mb it still lacked, first-finishing first (flows at
    /// rate 0 last, by id), as [`remove_flows_of`](Self::remove_flows_of).
    pub fn remove_flows_of_deferred(&mut self, now_s: f64, r: ResourceId) -> Vec<(FlowId, f64)> {
        self.flows_by_completion(r)
            .into_iter()
            .map(|id| {
                let slot = self.slot_of[&id];
                (id, self.stop_deferred(slot, now_s, false))
            })
            .collect()
    }

    /// Remove the first-finishing flow at `now_s` (its completion time)
    /// without re-solving; its whole size counts as sent.
    pub fn pop_completed_deferred(&mut self, now_s: f64) -> Option<FlowId> {
        let (&flow, _) = self.completions.peek()?;
        let slot = self.slot_of[&flow];
        self.stop_deferred(slot, now_s, true);
        Some(flow)
    }

    /// Set several capacities at `now_s` and re-solve at once everything
    /// changed since the last solve.
    ///
    /// # Panics
    /// On a negative, infinite or NaN capacity, or an unknown resource.
    pub fn set_capacities(&mut self, now_s: f64, capacities: &[(ResourceId, f64)]) {
        for &(r, capacity_mbps) in capacities {
            super::assert_capacity(capacity_mbps);
            self.resources[r.index()].capacity_mbps = capacity_mbps;
            self.mark_dirty(r);
        }
        self.solve_dirty(now_s);
    }

    /// Re-solve max-min exactly, at `now_s`, over the components of the
    /// resources changed since the last solve.
    pub fn solve_dirty(&mut self, now_s: f64) {
        if self.deferred.dirty.is_empty() {
            return;
        }
        let seeds = std::mem::take(&mut self.deferred.dirty);
        for r in &seeds {
            self.deferred.is_dirty[r.index()] = false;
        }
        self.recompute(now_s, &seeds);
        self.deferred.dirty = seeds;
        self.deferred.dirty.clear();
    }

    /// Whether something changed since the last solve.
    pub fn is_dirty(&self) -> bool {
        !self.deferred.dirty.is_empty()
    }

    /// Capacity of `r` not used by its flows (Mb/s), never negative.
    pub fn spare_mbps(&self, r: ResourceId) -> f64 {
        let res = &self.resources[r.index()];
        (res.capacity_mbps - res.load_mbps).max(0.0)
    }

    /// The highest load / capacity any resource has had so far (infinite
    /// if a resource of capacity 0 carried a positive rate).
    pub fn peak_utilisation(&self) -> f64 {
        self.deferred.peak_utilisation
    }

    pub(super) fn mark_dirty(&mut self, r: ResourceId) {
        let marks = &mut self.deferred.is_dirty;
        if marks.len() < self.resources.len() {
            marks.resize(self.resources.len(), false);
        }
        if !marks[r.index()] {
            marks[r.index()] = true;
            self.deferred.dirty.push(r);
        }
    }

    /// Give the flow in `slot` a new rate from `now_s` on: bring its
    /// remaining Mb forward, re-key its completion, and move its
    /// resources' loads (each brought up to `now_s` first, so the Mb they
    /// sent count the old rate until now).
    pub(super) fn set_rate(&mut self, slot: u32, now_s: f64, rate_mbps: f64) {
        let f = &mut self.flows[slot as usize];
        let old_mbps = f.rate_mbps;
        f.remaining_mb = f.remaining_at(now_s);
        f.updated_s = f.updated_s.max(now_s);
        f.rate_mbps = rate_mbps;
        let (id, t_s) = (f.id, f.updated_s + f.remaining_mb.max(0.0) / rate_mbps);
        if rate_mbps > 0.0 {
            self.completions.push(id, Reverse((Ordered::new(t_s), id)));
        } else {
            self.completions.remove(&id);
        }
        let (hops, resources) = self.hops_of(slot);
        for r in &resources[..hops] {
            let res = &mut self.resources[r.index()];
            res.advance(now_s);
            res.load_mbps += rate_mbps - old_mbps;
            self.deferred.note(res.capacity_mbps, res.load_mbps);
        }
    }

    /// Take a flow out without re-solving: its resources count its Mb up to
    /// `now_s` at its rate, then lose its rate from their loads.
    fn stop_deferred(&mut self, slot: u32, now_s: f64, completed: bool) -> f64 {
        let (hops, resources) = self.hops_of(slot);
        let rate_mbps = self.flows[slot as usize].rate_mbps;
        for r in &resources[..hops] {
            self.resources[r.index()].advance(now_s);
        }
        let left_mb = self.stop(slot, now_s, completed);
        for &r in &resources[..hops] {
            let res = &mut self.resources[r.index()];
            // Rounding must not leave a phantom load on an idle resource.
            res.load_mbps = if res.flows.is_empty() {
                0.0
            } else {
                (res.load_mbps - rate_mbps).max(0.0)
            };
            self.mark_dirty(r);
        }
        self.local_fill(now_s, &resources[..hops], None);
        left_mb
    }
}
