//! Max-min fair sharing of several resources among flows that each cross a
//! few of them (issue 10, item 2).
//!
//! A *resource* is a capacity in Mb/s: a host NIC's upload or download, a
//! rack's uplink or downlink, a server group's rate. A *flow* moves `size_mb`
//! and crosses 1 to [`MAX_RESOURCES_PER_FLOW`] resources. Rates are max-min
//! fair, as progressive filling defines them: raise every unfrozen flow's
//! rate together; when a resource fills, freeze the flows crossing it; repeat.
//! On a single resource this is equal sharing, exactly `capacity / flows`, as
//! in [`FairShare`](super::transfer::FairShare).
//!
//! # Algorithm and cost
//!
//! A change (flow added or removed, capacity changed) can only move the rates
//! of flows linked to it through shared resources, so [`MaxMinNetwork`]
//! recomputes exactly the *connected component* of the touched resources (the
//! resources and flows reachable through "flow crosses resource"), from
//! scratch, and leaves every other flow alone. Within the component,
//! progressive filling runs level by level with a min-heap of each resource's
//! fair share `left capacity / unfrozen flows`: pop the smallest, freeze its
//! unfrozen flows at that share, subtract them from their other resources.
//! Shares only grow as flows freeze below them, so heap entries are re-keyed
//! lazily (a popped entry whose share has grown is pushed back). Then each
//! flow whose rate changed is brought up to date (`remaining -= rate * dt`,
//! done lazily, only at rate changes) and re-keyed in the completion queue.
//!
//! Cost per change: O(I log R) for a component of I flow-resource incidences
//! and R resources, plus O(log F) per flow whose rate changed (F active
//! flows). Flows outside the component cost nothing.
//!
//! **Limitation.** The component is a structural notion: a resource couples
//! its flows whether or not it is saturated. In a data center where flows run
//! between random hosts of different racks, rack links join nearly every flow
//! into one component, and so does a server resource whose flows enter every
//! rack; a change then costs a full recomputation (`benches/maxmin.rs`: with
//! 10,000 flows over 2,600 hosts in 65 racks, a few milliseconds per change;
//! with components of ~160 flows, tens of microseconds). Restricting the work
//! to flows whose rates can actually move (through saturated resources only)
//! would need a validation step to stay exact, and would not help much with
//! saturated rack links: there about half of all flows really change rate at
//! each change (measured ~4,800 of 10,000). On one resource with many flows,
//! `FairShare` stays much faster (O(log n) per change, against re-keying
//! every flow's completion here).
//!
//! The simulator therefore uses the *deferred* mode (`deferred`, `local`):
//! changes keep the allocation feasible and re-share the hosts' NICs they
//! touch at once, and the exact re-solve of the changed components runs at
//! most once per period (docs/model.md section 9).
//!
//! # Floating point
//!
//! * Freezing uses no epsilon: a resource is frozen when its share is the
//!   heap's minimum, not when a remainder reaches zero, so rounding cannot
//!   leave a resource "almost full" and unfrozen. In exact arithmetic shares
//!   only grow; rounding can lower one by an ulp, and a popped entry whose
//!   key differs from the share in any bit is pushed back, so the order is off
//!   by ulps at most. Remainders pushed below zero by rounding count as zero.
//! * A recomputed rate within a relative [`RATE_TOLERANCE`] (1e-12) of the
//!   flow's current rate keeps the current rate, so that rounding noise from a
//!   different order of subtractions does not re-key every flow in the
//!   component. Loads may therefore exceed capacities by about 1e-12
//!   relative; the tests check 1e-9.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use priority_queue::PriorityQueue;
use rustc_hash::{FxHashMap, FxHasher};

/// Flow ids hash fast and need no protection against collisions.
type FxBuild = std::hash::BuildHasherDefault<FxHasher>;

use crate::sim::transfer::FlowId;

mod deferred;
mod local;

/// The most resources one flow may cross (a rack-to-rack peer transfer
/// crosses four: NIC up, rack uplink, rack downlink, NIC down; two spare).
pub const MAX_RESOURCES_PER_FLOW: usize = 6;

/// Relative change below which a recomputed rate is taken as unchanged.
pub const RATE_TOLERANCE: f64 = 1e-12;

/// Identifies a resource of one [`MaxMinNetwork`] (dense, from 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(u32);

impl ResourceId {
    /// Position among the network's resources, in the order they were added.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An f64 with a total order, for heap keys (values are finite): the key of
/// `f64::total_cmp`, computed once, so that comparing two is comparing two
/// integers (the heaps compare far more often than they push).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Ordered(i64);

impl Ordered {
    fn new(value: f64) -> Ordered {
        Ordered(flip(value.to_bits() as i64))
    }

    fn get(self) -> f64 {
        f64::from_bits(flip(self.0) as u64)
    }
}

/// `total_cmp`'s map from f64 bits to an order-preserving integer (its own
/// inverse): negative values have their other bits flipped.
fn flip(bits: i64) -> i64 {
    bits ^ ((((bits >> 63) as u64) >> 1) as i64)
}

#[derive(Debug, Clone)]
struct Resource {
    capacity_mbps: f64,
    /// Slots of the flows crossing it; a flow knows its position here, so
    /// removal is a swap_remove.
    flows: Vec<u32>,
    /// Sum of its flows' rates, recomputed with its component.
    load_mbps: f64,
    /// Mb sent up to `updated_s`.
    sent_mb: f64,
    updated_s: f64,
}

impl Resource {
    fn advance(&mut self, now_s: f64) {
        let dt_s = now_s - self.updated_s;
        if dt_s > 0.0 {
            self.sent_mb += self.load_mbps * dt_s;
            self.updated_s = now_s;
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Flow {
    id: FlowId,
    /// Resources crossed (the first `hops`), and the flow's index in each
    /// one's `flows`.
    hops: u8,
    resources: [ResourceId; MAX_RESOURCES_PER_FLOW],
    positions: [u32; MAX_RESOURCES_PER_FLOW],
    size_mb: f64,
    /// Mb still to send as of `updated_s`; brought forward only when the rate
    /// changes, since between changes it is linear in time.
    remaining_mb: f64,
    updated_s: f64,
    rate_mbps: f64,
}

impl Flow {
    fn resources(&self) -> &[ResourceId] {
        &self.resources[..self.hops as usize]
    }

    /// Mb still to send at `now_s`; negative when rounding overshot.
    fn remaining_at(&self, now_s: f64) -> f64 {
        self.remaining_mb - self.rate_mbps * (now_s - self.updated_s).max(0.0)
    }
}

/// Work space of a recomputation, kept between calls to avoid allocation.
/// Marks carry an epoch, so they need no clearing.
#[derive(Debug, Clone, Default)]
struct Scratch {
    epoch: u32,
    resource_seen: Vec<u32>,
    flow_seen: Vec<u32>,
    stack: Vec<u32>,
    /// The component being recomputed.
    resources: Vec<u32>,
    flows: Vec<u32>,
    /// Per resource: capacity not yet given to frozen flows, unfrozen flows.
    left_mbps: Vec<f64>,
    unfrozen: Vec<u32>,
    /// Per flow slot: the new rate, negative while unfrozen.
    rate_mbps: Vec<f64>,
    heap: BinaryHeap<Reverse<(Ordered, u32)>>,
}

impl Scratch {
    /// Size the arrays and start a new epoch of marks.
    fn begin(&mut self, resources: usize, slots: usize) {
        self.resource_seen.resize(resources, 0);
        self.left_mbps.resize(resources, 0.0);
        self.unfrozen.resize(resources, 0);
        self.flow_seen.resize(slots, 0);
        self.rate_mbps.resize(slots, 0.0);
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            // Wrapped: old marks could collide with new epochs.
            self.resource_seen.fill(0);
            self.flow_seen.fill(0);
            self.epoch = 1;
        }
        self.stack.clear();
        self.resources.clear();
        self.flows.clear();
        self.heap.clear();
    }
}

/// Resources with capacities, flows crossing them, max-min fair rates, and
/// each flow's completion time.
///
/// Times (`now_s`) passed to the methods must never decrease. As with
/// [`FairShare`](super::transfer::FairShare), the caller pops each completion
/// at the time [`next_completion`](Self::next_completion) gives, before any
/// later operation.
#[derive(Debug, Clone, Default)]
pub struct MaxMinNetwork {
    resources: Vec<Resource>,
    /// Flow slots, reused through `free_slots`; a free slot has `hops == 0`.
    flows: Vec<Flow>,
    free_slots: Vec<u32>,
    slot_of: FxHashMap<FlowId, u32>,
    /// Completion time of every flow with a positive rate; ties go to the
    /// smaller flow id, as in `FairShare`.
    completions: PriorityQueue<FlowId, Reverse<(Ordered, FlowId)>, FxBuild>,
    /// Mb sent by flows no longer active.
    done_sent_mb: f64,
    /// Size of the last recomputed component: (resources, flows).
    last_component: (usize, usize),
    scratch: Scratch,
    /// Changes since the last solve, for the `_deferred` operations.
    deferred: deferred::Deferred,
}

impl MaxMinNetwork {
    /// A network with no resources and no flows.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add a resource of `capacity_mbps` (finite, not negative).
    ///
    /// # Panics
    /// On a negative, infinite or NaN capacity.
    pub fn add_resource(&mut self, capacity_mbps: f64) -> ResourceId {
        assert_capacity(capacity_mbps);
        let id =
            ResourceId(u32::try_from(self.resources.len()).expect("fewer than 2^32 resources"));
        self.resources.push(Resource {
            capacity_mbps,
            flows: Vec::new(),
            load_mbps: 0.0,
            sent_mb: 0.0,
            updated_s: 0.0,
        });
        id
    }

    /// Resources added so far.
    pub fn resource_count(&self) -> usize {
        self.resources.len()
    }

    /// Every resource, in the order added.
    pub fn resources(&self) -> impl Iterator<Item = ResourceId> + use<> {
        (0..self.resources.len() as u32).map(ResourceId)
    }

    /// Active flows.
    pub fn len(&self) -> usize {
        self.slot_of.len()
    }

    /// Whether no flow is active.
    pub fn is_empty(&self) -> bool {
        self.slot_of.is_empty()
    }

    /// A resource's capacity (Mb/s).
    pub fn capacity_mbps(&self, r: ResourceId) -> f64 {
        self.resources[r.index()].capacity_mbps
    }

    /// Sum of the rates of the flows crossing `r` (Mb/s): at most its
    /// capacity, up to rounding.
    pub fn load_mbps(&self, r: ResourceId) -> f64 {
        self.resources[r.index()].load_mbps
    }

    /// Flows crossing `r`.
    pub fn flow_count(&self, r: ResourceId) -> usize {
        self.resources[r.index()].flows.len()
    }

    /// The flows crossing `r`, in no particular order.
    pub fn flows_of(&self, r: ResourceId) -> impl Iterator<Item = FlowId> + '_ {
        self.resources[r.index()]
            .flows
            .iter()
            .map(|&slot| self.flows[slot as usize].id)
    }

    /// Mb sent through `r` up to `now_s` (not before its last change).
    pub fn sent_mb(&self, r: ResourceId, now_s: f64) -> f64 {
        let res = &self.resources[r.index()];
        res.sent_mb + res.load_mbps * (now_s - res.updated_s).max(0.0)
    }

    /// Mb sent by all flows, finished or not, up to `now_s`. Each flow counts
    /// once, however many resources it crosses. O(active flows).
    pub fn total_sent_mb(&self, now_s: f64) -> f64 {
        let active: f64 = self
            .slot_of
            .values()
            .map(|&slot| {
                let f = &self.flows[slot as usize];
                f.size_mb - f.remaining_at(now_s)
            })
            .sum();
        self.done_sent_mb + active
    }

    /// A flow's current rate (Mb/s), if it is active.
    pub fn rate_mbps(&self, flow: FlowId) -> Option<f64> {
        Some(self.flows[*self.slot_of.get(&flow)? as usize].rate_mbps)
    }

    /// The Mb a flow still lacks at `now_s`, if it is active.
    pub fn remaining_mb(&self, flow: FlowId, now_s: f64) -> Option<f64> {
        let slot = *self.slot_of.get(&flow)?;
        Some(self.flows[slot as usize].remaining_at(now_s).max(0.0))
    }

    /// The resources a flow crosses, if it is active.
    pub fn flow_resources(&self, flow: FlowId) -> Option<&[ResourceId]> {
        Some(self.flows[*self.slot_of.get(&flow)? as usize].resources())
    }

    /// Resources and flows in the component the last change recomputed: the
    /// work it did, for benchmarks and profiles.
    pub fn last_component(&self) -> (usize, usize) {
        self.last_component
    }

    /// Change a resource's capacity from `now_s` on.
    ///
    /// # Panics
    /// On a negative, infinite or NaN capacity, or an unknown resource.
    pub fn set_capacity(&mut self, now_s: f64, r: ResourceId, capacity_mbps: f64) {
        assert_capacity(capacity_mbps);
        self.resources[r.index()].capacity_mbps = capacity_mbps;
        self.recompute(now_s, &[r]);
    }

    /// Start `flow` of `size_mb` at `now_s`, crossing `resources`.
    ///
    /// # Panics
    /// If `flow` is already active, `resources` is empty, longer than
    /// [`MAX_RESOURCES_PER_FLOW`], repeats a resource or names an unknown
    /// one, or `size_mb` is negative or not finite.
    pub fn add_flow(&mut self, now_s: f64, flow: FlowId, resources: &[ResourceId], size_mb: f64) {
        self.insert(now_s, flow, resources, size_mb);
        self.recompute(now_s, resources);
    }

    /// Start several flows at `now_s` with a single recomputation: much
    /// cheaper than one [`add_flow`](Self::add_flow) each when their
    /// components overlap. Panics as `add_flow` does.
    pub fn add_flows<'a>(
        &mut self,
        now_s: f64,
        flows: impl IntoIterator<Item = (FlowId, &'a [ResourceId], f64)>,
    ) {
        let mut seeds = Vec::new();
        for (flow, resources, size_mb) in flows {
            self.insert(now_s, flow, resources, size_mb);
            seeds.extend_from_slice(resources);
        }
        self.recompute(now_s, &seeds);
    }

    /// Stop `flow` at `now_s`; returns the Mb it still lacked (`None` if it
    /// is not active). The Mb it sent stay counted in `sent_mb`.
    pub fn remove_flow(&mut self, now_s: f64, flow: FlowId) -> Option<f64> {
        let slot = *self.slot_of.get(&flow)?;
        let (hops, resources) = self.hops_of(slot);
        let left_mb = self.stop(slot, now_s, false);
        self.recompute(now_s, &resources[..hops]);
        Some(left_mb)
    }

    /// Stop every flow crossing `r` at `now_s` (a host leaving), with a
    /// single recomputation; returns each with the Mb it still lacked,
    /// first-finishing first (flows at rate 0 last, by id), as
    /// `FairShare::drain` does.
    pub fn remove_flows_of(&mut self, now_s: f64, r: ResourceId) -> Vec<(FlowId, f64)> {
        let ids = self.flows_by_completion(r);
        let mut seeds = Vec::with_capacity(ids.len() * 2);
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let slot = self.slot_of[&id];
            let (hops, resources) = self.hops_of(slot);
            seeds.extend_from_slice(&resources[..hops]);
            out.push((id, self.stop(slot, now_s, false)));
        }
        self.recompute(now_s, &seeds);
        out
    }

    /// The flows crossing `r`, first-finishing first (flows at rate 0
    /// last, by id).
    fn flows_by_completion(&self, r: ResourceId) -> Vec<FlowId> {
        let mut ids: Vec<(f64, FlowId)> = self
            .flows_of(r)
            .map(|id| {
                let t = self.completions.get_priority(&id);
                (t.map_or(f64::INFINITY, |Reverse((t, _))| t.get()), id)
            })
            .collect();
        ids.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        ids.into_iter().map(|(_, id)| id).collect()
    }

    /// The flow that finishes first, with the time it does (`None` when no
    /// flow has a positive rate).
    pub fn next_completion(&self) -> Option<(FlowId, f64)> {
        self.completions
            .peek()
            .map(|(&flow, Reverse((t, _)))| (flow, t.get()))
    }

    /// Remove the first-finishing flow at `now_s` (its completion time).
    /// Whatever rounding left unsent (or sent too much) is settled, so each
    /// resource counts exactly the flow's size.
    pub fn pop_completed(&mut self, now_s: f64) -> Option<FlowId> {
        let (&flow, _) = self.completions.peek()?;
        let slot = self.slot_of[&flow];
        let (hops, resources) = self.hops_of(slot);
        self.stop(slot, now_s, true);
        self.recompute(now_s, &resources[..hops]);
        Some(flow)
    }

    fn hops_of(&self, slot: u32) -> (usize, [ResourceId; MAX_RESOURCES_PER_FLOW]) {
        let f = &self.flows[slot as usize];
        (f.hops as usize, f.resources)
    }

    /// Put a flow in its resources' lists, at rate 0 until recomputed.
    fn insert(&mut self, now_s: f64, flow: FlowId, resources: &[ResourceId], size_mb: f64) {
        assert!(
            !resources.is_empty() && resources.len() <= MAX_RESOURCES_PER_FLOW,
            "a flow crosses 1 to {MAX_RESOURCES_PER_FLOW} resources, not {}",
            resources.len()
        );
        assert!(
            size_mb.is_finite() && size_mb >= 0.0,
            "flow size {size_mb} Mb"
        );
        for (i, r) in resources.iter().enumerate() {
            assert!(r.index() < self.resources.len(), "unknown resource {r:?}");
            assert!(
                !resources[..i].contains(r),
                "flow {flow} crosses {r:?} twice"
            );
        }
        assert!(
            !self.slot_of.contains_key(&flow),
            "flow {flow} is already active"
        );
        let mut f = Flow {
            id: flow,
            hops: resources.len() as u8,
            resources: [ResourceId(0); MAX_RESOURCES_PER_FLOW],
            positions: [0; MAX_RESOURCES_PER_FLOW],
            size_mb,
            remaining_mb: size_mb,
            updated_s: now_s,
            rate_mbps: 0.0,
        };
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.flows.push(f);
                u32::try_from(self.flows.len() - 1).expect("fewer than 2^32 flows")
            }
        };
        for (k, &r) in resources.iter().enumerate() {
            let list = &mut self.resources[r.index()].flows;
            f.resources[k] = r;
            f.positions[k] = list.len() as u32;
            list.push(slot);
        }
        self.flows[slot as usize] = f;
        self.slot_of.insert(flow, slot);
    }

    /// Take a flow out of every structure at `now_s` and settle its Mb: a
    /// completed flow counts its whole size as sent, a removed one what it
    /// sent. Returns the Mb it still lacked. The caller recomputes.
    fn stop(&mut self, slot: u32, now_s: f64, completed: bool) -> f64 {
        let f = self.flows[slot as usize];
        let left_mb = f.remaining_at(now_s);
        let kept_mb = if completed { 0.0 } else { left_mb.max(0.0) };
        // Resources will count rate * dt up to now_s, i.e. size - left_mb;
        // correct them to size - kept_mb.
        let correction_mb = left_mb - kept_mb;
        for k in 0..f.hops as usize {
            let r = f.resources[k].index();
            let pos = f.positions[k] as usize;
            let res = &mut self.resources[r];
            res.sent_mb += correction_mb;
            res.flows.swap_remove(pos);
            if let Some(&moved) = res.flows.get(pos) {
                let m = &mut self.flows[moved as usize];
                let j = m.resources().iter().position(|x| x.index() == r);
                m.positions[j.expect("moved flow crosses r")] = pos as u32;
            }
        }
        self.done_sent_mb += f.size_mb - kept_mb;
        self.slot_of.remove(&f.id);
        self.completions.remove(&f.id);
        let dead = &mut self.flows[slot as usize];
        dead.hops = 0;
        dead.rate_mbps = 0.0;
        self.free_slots.push(slot);
        kept_mb
    }

    /// Recompute the rates of the component of `seeds` at `now_s`.
    fn recompute(&mut self, now_s: f64, seeds: &[ResourceId]) {
        self.collect_component(seeds);
        self.fill();
        self.apply(now_s);
        self.last_component = (self.scratch.resources.len(), self.scratch.flows.len());
    }

    /// Gather the resources and flows reachable from `seeds` through flows.
    fn collect_component(&mut self, seeds: &[ResourceId]) {
        let s = &mut self.scratch;
        s.begin(self.resources.len(), self.flows.len());
        let epoch = s.epoch;
        for r in seeds {
            let r = r.0;
            if s.resource_seen[r as usize] != epoch {
                s.resource_seen[r as usize] = epoch;
                s.stack.push(r);
            }
        }
        while let Some(r) = s.stack.pop() {
            s.resources.push(r);
            for &slot in &self.resources[r as usize].flows {
                if s.flow_seen[slot as usize] == epoch {
                    continue;
                }
                s.flow_seen[slot as usize] = epoch;
                s.flows.push(slot);
                for r2 in self.flows[slot as usize].resources() {
                    if s.resource_seen[r2.index()] != epoch {
                        s.resource_seen[r2.index()] = epoch;
                        s.stack.push(r2.0);
                    }
                }
            }
        }
    }

    /// Progressive filling over the collected component, into
    /// `scratch.rate_mbps`.
    fn fill(&mut self) {
        let s = &mut self.scratch;
        for &slot in &s.flows {
            s.rate_mbps[slot as usize] = -1.0;
        }
        for &r in &s.resources {
            let res = &self.resources[r as usize];
            let n = res.flows.len() as u32;
            s.left_mbps[r as usize] = res.capacity_mbps;
            s.unfrozen[r as usize] = n;
            if n > 0 {
                let share = res.capacity_mbps / f64::from(n);
                s.heap.push(Reverse((Ordered::new(share), r)));
            }
        }
        while let Some(Reverse((key, r))) = s.heap.pop() {
            let key = key.get();
            let n = s.unfrozen[r as usize];
            if n == 0 {
                continue;
            }
            let level = s.left_mbps[r as usize].max(0.0) / f64::from(n);
            if level.to_bits() != key.to_bits() {
                // Flows frozen elsewhere raised this share since it was
                // pushed: try again at its true place.
                s.heap.push(Reverse((Ordered::new(level), r)));
                continue;
            }
            for &slot in &self.resources[r as usize].flows {
                if s.rate_mbps[slot as usize] >= 0.0 {
                    continue;
                }
                s.rate_mbps[slot as usize] = level;
                for r2 in self.flows[slot as usize].resources() {
                    let i = r2.index();
                    if i != r as usize {
                        s.left_mbps[i] -= level;
                        s.unfrozen[i] -= 1;
                    }
                }
            }
            s.unfrozen[r as usize] = 0;
        }
    }

    /// Give the component's flows their new rates: bring a flow whose rate
    /// changed up to `now_s` and re-key its completion, then settle and
    /// re-sum the loads of the component's resources.
    fn apply(&mut self, now_s: f64) {
        let s = &self.scratch;
        for &slot in &s.flows {
            let rate_mbps = s.rate_mbps[slot as usize];
            debug_assert!(rate_mbps >= 0.0, "every flow of the component froze");
            let f = &mut self.flows[slot as usize];
            if same_rate(rate_mbps, f.rate_mbps) {
                continue;
            }
            f.remaining_mb = f.remaining_at(now_s);
            f.updated_s = f.updated_s.max(now_s);
            f.rate_mbps = rate_mbps;
            if rate_mbps > 0.0 {
                let t_s = f.updated_s + f.remaining_mb.max(0.0) / rate_mbps;
                self.completions
                    .push(f.id, Reverse((Ordered::new(t_s), f.id)));
            } else {
                self.completions.remove(&f.id);
            }
        }
        for &r in &s.resources {
            let res = &mut self.resources[r as usize];
            res.advance(now_s);
            res.load_mbps = res
                .flows
                .iter()
                .map(|&slot| self.flows[slot as usize].rate_mbps)
                .sum();
            self.deferred.note(res.capacity_mbps, res.load_mbps);
        }
    }
}

fn assert_capacity(capacity_mbps: f64) {
    assert!(
        capacity_mbps.is_finite() && capacity_mbps >= 0.0,
        "capacity {capacity_mbps} Mb/s"
    );
}

/// Whether two rates are equal up to [`RATE_TOLERANCE`] (0 only equals 0).
fn same_rate(a_mbps: f64, b_mbps: f64) -> bool {
    (a_mbps - b_mbps).abs() <= RATE_TOLERANCE * a_mbps.max(b_mbps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn one_resource_is_equal_sharing() {
        let mut n = MaxMinNetwork::new();
        let r = n.add_resource(10.0);
        n.add_flow(0.0, 1, &[r], 5.0);
        n.add_flow(0.0, 2, &[r], 5.0);
        n.add_flow(0.0, 3, &[r], 5.0);
        for f in 1..=3 {
            assert_eq!(n.rate_mbps(f), Some(10.0 / 3.0));
        }
        // Ties go to the smaller id, as in FairShare.
        let (f, t) = n.next_completion().unwrap();
        assert_eq!(f, 1);
        assert!(close(t, 1.5));
    }

    #[test]
    fn a_shared_bottleneck_frees_capacity_elsewhere() {
        // a (10) is shared by flows 1 and 2; b (4) by flows 1 and 3. b fills
        // first at 2 each, freezing 1 and 3; flow 2 then takes a's rest.
        let mut n = MaxMinNetwork::new();
        let a = n.add_resource(10.0);
        let b = n.add_resource(4.0);
        n.add_flow(0.0, 1, &[a, b], 100.0);
        n.add_flow(0.0, 2, &[a], 100.0);
        n.add_flow(0.0, 3, &[b], 100.0);
        assert_eq!(n.rate_mbps(1), Some(2.0));
        assert_eq!(n.rate_mbps(3), Some(2.0));
        assert_eq!(n.rate_mbps(2), Some(8.0));
        assert_eq!(n.load_mbps(a), 10.0);
        assert_eq!(n.load_mbps(b), 4.0);
    }

    #[test]
    fn a_zero_capacity_resource_stops_its_flows_only() {
        let mut n = MaxMinNetwork::new();
        let a = n.add_resource(10.0);
        let z = n.add_resource(0.0);
        n.add_flow(0.0, 1, &[a, z], 10.0);
        n.add_flow(0.0, 2, &[a], 10.0);
        assert_eq!(n.rate_mbps(1), Some(0.0));
        assert_eq!(n.rate_mbps(2), Some(10.0));
        assert_eq!(n.next_completion(), Some((2, 1.0)));
        assert_eq!(n.pop_completed(1.0), Some(2));
        assert_eq!(n.next_completion(), None);
        // Capacity returns: flow 1 starts from its full size.
        n.set_capacity(2.0, z, 5.0);
        assert_eq!(n.rate_mbps(1), Some(5.0));
        assert_eq!(n.next_completion(), Some((1, 4.0)));
    }

    #[test]
    fn remaining_is_tracked_across_rate_changes() {
        let mut n = MaxMinNetwork::new();
        let a = n.add_resource(4.0);
        n.add_flow(0.0, 7, &[a], 8.0);
        // 4 Mb by t = 1, then 2 Mb/s: done at 3 s; a second flow halves it.
        n.add_flow(1.0, 8, &[a], 100.0);
        assert!(close(n.remaining_mb(7, 1.0).unwrap(), 4.0));
        let (f, t) = n.next_completion().unwrap();
        assert_eq!(f, 7);
        assert!(close(t, 3.0));
        assert!(close(n.remove_flow(2.0, 8).unwrap(), 98.0));
        // Flow 7 alone again from t = 2 with 2 Mb left: done at 2.5 s.
        assert!(close(n.next_completion().unwrap().1, 2.5));
        assert_eq!(n.pop_completed(2.5), Some(7));
        assert!(n.is_empty());
        assert!(close(n.sent_mb(a, 2.5), 10.0));
        assert!(close(n.total_sent_mb(2.5), 10.0));
        assert_eq!(n.remove_flow(3.0, 7), None);
    }

    #[test]
    fn separate_components_do_not_touch_each_other() {
        let mut n = MaxMinNetwork::new();
        let a = n.add_resource(10.0);
        let b = n.add_resource(10.0);
        n.add_flow(0.0, 1, &[a], 10.0);
        n.add_flow(0.5, 2, &[b], 10.0);
        assert_eq!(n.last_component(), (1, 1));
        // Flow 1 was not recomputed at 0.5 s: still due at 1 s.
        assert_eq!(n.next_completion(), Some((1, 1.0)));
        // Joining them makes one component of both resources.
        n.add_flow(0.5, 3, &[a, b], 10.0);
        assert_eq!(n.last_component(), (2, 3));
        assert_eq!(n.rate_mbps(3), Some(5.0));
    }

    #[test]
    fn removing_a_hosts_flows_returns_them_first_finishing_first() {
        let mut n = MaxMinNetwork::new();
        let up = n.add_resource(10.0);
        let other = n.add_resource(10.0);
        let zero = n.add_resource(0.0);
        n.add_flows(
            0.0,
            [
                (5, &[up, zero][..], 1.0),
                (3, &[up][..], 8.0),
                (4, &[up, other][..], 2.0),
                (9, &[other][..], 1.0),
            ],
        );
        let cut = n.remove_flows_of(0.1, up);
        let ids: Vec<FlowId> = cut.iter().map(|c| c.0).collect();
        assert_eq!(ids, [4, 3, 5]);
        assert!(close(cut[0].1, 2.0 - 0.5));
        assert_eq!(cut[2].1, 1.0);
        assert_eq!(n.len(), 1);
        assert_eq!(n.rate_mbps(9), Some(10.0));
        assert_eq!(n.flow_count(up), 0);
    }

    #[test]
    fn slots_and_positions_survive_churn() {
        let mut n = MaxMinNetwork::new();
        let a = n.add_resource(12.0);
        let b = n.add_resource(6.0);
        let (both, only_a) = ([a, b], [a]);
        for f in 0..6 {
            let path: &[ResourceId] = if f % 2 == 0 { &both } else { &only_a };
            n.add_flow(0.0, f, path, 1.0 + f as f64);
        }
        n.remove_flow(0.1, 0);
        n.remove_flow(0.1, 3);
        n.add_flow(0.2, 10, &[b, a], 4.0);
        let mut on_a: Vec<FlowId> = n.flows_of(a).collect();
        on_a.sort_unstable();
        assert_eq!(on_a, [1, 2, 4, 5, 10]);
        assert_eq!(n.flow_resources(10), Some(&[b, a][..]));
        // b: 2, 4, 10 at 2 each; a's rest (6) to 1 and 5 at 3 each.
        assert!(close(n.rate_mbps(10).unwrap(), 2.0));
        assert!(close(n.rate_mbps(1).unwrap(), 3.0));
        assert!(close(n.load_mbps(a), 12.0));
    }

    #[test]
    #[should_panic(expected = "already active")]
    fn a_flow_id_is_used_once() {
        let mut n = MaxMinNetwork::new();
        let a = n.add_resource(1.0);
        n.add_flow(0.0, 1, &[a], 1.0);
        n.add_flow(0.0, 1, &[a], 1.0);
    }

    #[test]
    #[should_panic(expected = "crosses 1 to")]
    fn a_flow_crosses_some_resource() {
        MaxMinNetwork::new().add_flow(0.0, 1, &[], 1.0);
    }
}
