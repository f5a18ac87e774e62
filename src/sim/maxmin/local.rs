//! The local re-fill of the deferred mode (see `deferred`): between exact
//! solves, a change re-shares the hosts' links it touches at once.
//!
//! When a flow starts or ends, the flows on its *small* resources (at most
//! [`LOCAL_FLOWS`] flows: a host's NIC up or down) are re-filled by
//! progressive filling, with everything else held fixed: each resource they
//! cross offers them its capacity minus the rates of the flows outside the
//! neighbourhood. The result is feasible (no resource above its capacity)
//! and max-min fair within the neighbourhood given the rest, so a new flow
//! takes its fair share of its sender's and receiver's NICs, and capacity a
//! finished flow frees goes to its neighbours, instead of waiting for the
//! next solve. Effects further away (through rack links and group rates,
//! which couple hundreds of flows) wait for the next exact solve.

use super::{MaxMinNetwork, ResourceId, same_rate};

/// Resources with at most this many flows are re-filled locally.
pub(super) const LOCAL_FLOWS: usize = 16;

impl MaxMinNetwork {
    /// Re-fill, at `now_s`, the flows on the small resources among `seeds`
    /// (and `extra`, a flow slot that must take part: a new flow).
    pub(super) fn local_fill(&mut self, now_s: f64, seeds: &[ResourceId], extra: Option<u32>) {
        self.collect_local(seeds, extra);
        if self.scratch.flows.is_empty() {
            return;
        }
        self.fill_local();
        // Lower rates first, so no resource is ever above its capacity in
        // between.
        let flows = std::mem::take(&mut self.scratch.flows);
        for lowering in [true, false] {
            for &slot in &flows {
                let (new, old) = (
                    self.scratch.rate_mbps[slot as usize],
                    self.flows[slot as usize].rate_mbps,
                );
                if (new < old) == lowering && !same_rate(new, old) {
                    self.set_rate(slot, now_s, new);
                    let (hops, rs) = self.hops_of(slot);
                    for &r in &rs[..hops] {
                        self.mark_dirty(r);
                    }
                }
            }
        }
        self.scratch.flows = flows;
    }

    /// The neighbourhood: the flows on the small seeds (and `extra`), the
    /// resources they cross, and what each resource offers them.
    fn collect_local(&mut self, seeds: &[ResourceId], extra: Option<u32>) {
        let s = &mut self.scratch;
        s.begin(self.resources.len(), self.flows.len());
        let epoch = s.epoch;
        let small = seeds
            .iter()
            .filter(|r| self.resources[r.index()].flows.len() <= LOCAL_FLOWS)
            .flat_map(|r| self.resources[r.index()].flows.iter().copied());
        for slot in small.chain(extra) {
            if s.flow_seen[slot as usize] != epoch {
                s.flow_seen[slot as usize] = epoch;
                s.flows.push(slot);
            }
        }
        for &slot in &s.flows {
            let f = &self.flows[slot as usize];
            s.rate_mbps[slot as usize] = -1.0;
            for r in f.resources() {
                let i = r.index();
                if s.resource_seen[i] != epoch {
                    s.resource_seen[i] = epoch;
                    s.resources.push(r.0);
                    let res = &self.resources[i];
                    s.left_mbps[i] = res.capacity_mbps - res.load_mbps;
                    s.unfrozen[i] = 0;
                }
                s.left_mbps[i] += f.rate_mbps;
                s.unfrozen[i] += 1;
            }
        }
    }

    /// Progressive filling of the neighbourhood: the resource with the
    /// least share per unfrozen flow freezes its flows at that share.
    fn fill_local(&mut self) {
        let s = &mut self.scratch;
        loop {
            let mut best: Option<(f64, u32)> = None;
            for &r in &s.resources {
                let n = s.unfrozen[r as usize];
                if n > 0 {
                    let level = s.left_mbps[r as usize].max(0.0) / f64::from(n);
                    if best.is_none_or(|(b, _)| level < b) {
                        best = Some((level, r));
                    }
                }
            }
            let Some((level, r)) = best else {
                return;
            };
            for &slot in &s.flows {
                let f = &self.flows[slot as usize];
                if s.rate_mbps[slot as usize] >= 0.0 || !f.resources().iter().any(|x| x.0 == r) {
                    continue;
                }
                s.rate_mbps[slot as usize] = level;
                for r2 in f.resources() {
                    s.left_mbps[r2.index()] -= level;
                    s.unfrozen[r2.index()] -= 1;
                }
            }
        }
    }
}
