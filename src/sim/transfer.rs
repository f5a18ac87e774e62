//! Processor sharing of one capacity among flows (docs/model.md section 4).
//!
//! A [`FairShare`] is a capacity (a peer's upload, a server group's rate)
//! split equally among its active flows. Rather than track each flow's
//! progress, it keeps a *virtual time* `V`: the Mb each active flow has
//! received since the resource last went idle. A flow of `s` Mb added at
//! virtual time `V0` finishes when `V` reaches its finish tag `V0 + s`. A flow
//! arriving, leaving or a capacity change only advances `V` and changes its
//! slope, so none of them touches the other flows (as in fair-queueing
//! schedulers).

use super::finish_order::FinishOrder;
use super::float::at_least;

/// Identifies a flow within the whole simulation.
pub type FlowId = u32;

/// Finish tag (Mb of virtual time), kept as the bits of a non-negative
/// `f64`, which order as the numbers do: comparing tags is comparing
/// integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Tag(u64);

impl Tag {
    fn new(virtual_mb: f64) -> Tag {
        // Never -0.0, whose bits would sort last.
        Tag((at_least(virtual_mb, 0.0) + 0.0).to_bits())
    }

    fn mb(self) -> f64 {
        f64::from_bits(self.0)
    }
}

/// Flows a peer's upload keeps in finish order inline (its `upload_slots`,
/// 4 by default; more spill into a heap).
pub const PEER_FEW: usize = 4;

/// Flows a server group's share keeps inline before it spills into a heap.
/// With 4, cross-opt's chunk groups on the paper's default spilled: 156,000
/// of its 375,000 server flows took a heap push (callgrind), and each heap
/// push and pop cost some 170 instructions. 16 inline: 2,086 -> 2,062
/// instructions a block on cross-opt's paper default, 1,735 -> 1,727 on
/// cross-equ's (`scripts/icount.sh --quick`); 32 saved 0.3% more at 5
/// req/s alone.
pub const GROUP_FEW: usize = 16;

/// A capacity shared equally by its flows, with finish tags on a virtual
/// clock; up to `FEW` flows are kept in finish order inline.
#[derive(Debug, Clone)]
pub struct FairShare<const FEW: usize = PEER_FEW> {
    capacity_mbps: f64,
    virtual_mb: f64,
    updated_s: f64,
    /// Active flows by finish tag (ties by id, so the order is total): up
    /// to `FEW` inline, more in a heap.
    /// Removing a flow before it finishes (a cut, an end-game switch) is
    /// rare enough to pay a pass over the set.
    flows: FinishOrder<(Tag, FlowId), FEW>,
    sent_mb: f64,
}

impl FairShare {
    /// An idle resource of the given capacity, keeping [`PEER_FEW`] flows
    /// inline.
    pub fn new(capacity_mbps: f64) -> Self {
        FairShare::with_inline_flows(capacity_mbps)
    }
}

impl<const FEW: usize> FairShare<FEW> {
    /// An idle resource of the given capacity, keeping `FEW` flows inline.
    pub fn with_inline_flows(capacity_mbps: f64) -> Self {
        FairShare {
            capacity_mbps,
            virtual_mb: 0.0,
            updated_s: 0.0,
            flows: FinishOrder::new(),
            sent_mb: 0.0,
        }
    }

    /// The capacity shared (Mb/s).
    pub fn capacity_mbps(&self) -> f64 {
        self.capacity_mbps
    }

    /// Active flows.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    /// Whether no flow is active.
    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    /// Rate of each active flow (Mb/s).
    pub fn rate_per_flow_mbps(&self) -> f64 {
        if self.flows.is_empty() {
            0.0
        } else {
            self.capacity_mbps / self.flows.len() as f64
        }
    }

    /// Total Mb sent so far (up to the last update).
    pub fn sent_mb(&self) -> f64 {
        self.sent_mb
    }

    /// Bring the virtual clock up to `now_s`.
    pub fn advance(&mut self, now_s: f64) {
        let dt = now_s - self.updated_s;
        if dt > 0.0 && !self.flows.is_empty() {
            let per_flow = dt * self.capacity_mbps / self.flows.len() as f64;
            self.virtual_mb += per_flow;
            self.sent_mb += per_flow * self.flows.len() as f64;
        }
        self.updated_s = at_least(now_s, self.updated_s);
    }

    /// Change the capacity from `now_s` on.
    pub fn set_capacity(&mut self, now_s: f64, capacity_mbps: f64) {
        self.advance(now_s);
        self.capacity_mbps = capacity_mbps;
    }

    /// Start a flow of `size_mb` at `now_s`. Forced inline, as is
    /// `pop_completed`: each runs once a block transfer, in a few lines
    /// beside its heap operation, and the calls cost 0.5-0.7% of the
    /// simulator's instructions a block (`scripts/icount.sh --quick`).
    #[inline(always)]
    pub fn add(&mut self, now_s: f64, flow: FlowId, size_mb: f64) {
        self.advance(now_s);
        if self.flows.is_empty() {
            // Restart the virtual clock when idle, so tags stay small and precise.
            self.virtual_mb = 0.0;
        }
        let tag = Tag::new(self.virtual_mb + size_mb);
        self.flows.push((tag, flow));
    }

    /// Stop a flow at `now_s`; returns the Mb it still lacked.
    pub fn remove(&mut self, now_s: f64, flow: FlowId) -> Option<f64> {
        self.advance(now_s);
        let tag = self.tag_of(flow)?;
        self.flows.retain(|&(_, f)| f != flow);
        Some(at_least(tag.mb() - self.virtual_mb, 0.0))
    }

    /// Mb flow `flow` still lacks at `now_s` (`None` if it is not active).
    pub fn remaining_mb(&self, now_s: f64, flow: FlowId) -> Option<f64> {
        let tag = self.tag_of(flow)?;
        let dt = at_least(now_s - self.updated_s, 0.0);
        let done = self.virtual_mb + dt * self.rate_per_flow_mbps();
        Some(at_least(tag.mb() - done, 0.0))
    }

    /// The flow that finishes first, with the time it does (`None` when idle
    /// or when the capacity is zero).
    pub fn next_completion(&self) -> Option<(FlowId, f64)> {
        let (tag, flow) = self.flows.peek()?;
        if self.capacity_mbps <= 0.0 {
            return None;
        }
        let left = at_least(tag.mb() - self.virtual_mb, 0.0);
        let dt = left * self.flows.len() as f64 / self.capacity_mbps;
        Some((flow, self.updated_s + dt))
    }

    /// Stop every flow at `now_s`; returns each with the Mb it still lacked,
    /// first-finishing first.
    pub fn drain(&mut self, now_s: f64) -> Vec<(FlowId, f64)> {
        self.advance(now_s);
        let mut out = Vec::with_capacity(self.flows.len());
        while let Some((tag, flow)) = self.flows.pop() {
            out.push((flow, at_least(tag.mb() - self.virtual_mb, 0.0)));
        }
        out
    }

    /// Remove the first-finishing flow at `now_s` (its completion time).
    /// The virtual clock is set to the flow's tag, absorbing rounding.
    #[inline(always)]
    pub fn pop_completed(&mut self, now_s: f64) -> Option<FlowId> {
        self.advance(now_s);
        let (tag, flow) = self.flows.pop()?;
        if tag.mb() > self.virtual_mb {
            // Rounding left a sliver unsent: count it, so conservation holds exactly.
            self.sent_mb += (tag.mb() - self.virtual_mb) * (self.flows.len() + 1) as f64;
            self.virtual_mb = tag.mb();
        }
        Some(flow)
    }

    /// The finish tag of an active flow.
    fn tag_of(&self, flow: FlowId) -> Option<Tag> {
        self.flows
            .iter()
            .find(|&(_, f)| f == flow)
            .map(|(tag, _)| tag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_flows_finish_together_at_n_times_size_over_capacity() {
        let mut r = FairShare::new(10.0);
        r.add(0.0, 1, 5.0);
        r.add(0.0, 2, 5.0);
        let (_, t) = r.next_completion().unwrap();
        assert!((t - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_leaving_flow_speeds_up_the_rest() {
        let mut r = FairShare::new(10.0);
        r.add(0.0, 1, 10.0);
        r.add(0.0, 2, 10.0);
        // After 1 s each has 5 Mb; flow 2 leaves with 5 Mb unsent.
        assert!((r.remove(1.0, 2).unwrap() - 5.0).abs() < 1e-12);
        let (f, t) = r.next_completion().unwrap();
        assert_eq!(f, 1);
        assert!((t - 1.5).abs() < 1e-12);
        assert_eq!(r.pop_completed(t), Some(1));
        assert!((r.sent_mb() - 15.0).abs() < 1e-9);
    }

    #[test]
    fn capacity_change_moves_completion() {
        let mut r = FairShare::new(4.0);
        r.add(0.0, 7, 8.0);
        r.set_capacity(1.0, 2.0);
        let (_, t) = r.next_completion().unwrap();
        assert!((t - 3.0).abs() < 1e-12);
        r.set_capacity(2.0, 0.0);
        assert!(r.next_completion().is_none());
    }
}
