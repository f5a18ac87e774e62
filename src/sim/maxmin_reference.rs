//! A slow reference for [`MaxMinNetwork`](super::maxmin::MaxMinNetwork), used
//! only by tests: textbook progressive filling over every flow from scratch
//! at every change, and every flow's remaining Mb moved forward at every
//! change. It shares no code with the fast network.

use crate::sim::transfer::FlowId;

/// Slack (relative to capacity) under which the reference calls a resource
/// full: its filling adds a common increment to every unfrozen flow, so a
/// resource reaches its capacity only up to rounding.
const FULL: f64 = 1e-12;

#[derive(Debug, Clone)]
struct Flow {
    id: FlowId,
    resources: Vec<usize>,
    remaining_mb: f64,
    rate_mbps: f64,
}

/// Max-min fair rates by brute force: O(levels x incidences) per operation.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReferenceNetwork {
    capacities_mbps: Vec<f64>,
    flows: Vec<Flow>,
    updated_s: f64,
    sent_by_resource_mb: Vec<f64>,
    sent_mb: f64,
}

impl ReferenceNetwork {
    /// Add a resource; resources are numbered from 0 in order.
    pub(crate) fn add_resource(&mut self, capacity_mbps: f64) -> usize {
        self.capacities_mbps.push(capacity_mbps);
        self.sent_by_resource_mb.push(0.0);
        self.capacities_mbps.len() - 1
    }

    /// Move every flow forward to `now_s` at its rate, then re-solve.
    pub(crate) fn advance(&mut self, now_s: f64) {
        let dt_s = now_s - self.updated_s;
        if dt_s > 0.0 {
            for f in &mut self.flows {
                let mb = f.rate_mbps * dt_s;
                f.remaining_mb -= mb;
                self.sent_mb += mb;
                for &r in &f.resources {
                    self.sent_by_resource_mb[r] += mb;
                }
            }
            self.updated_s = now_s;
        }
        self.solve();
    }

    /// Progressive filling: raise every unfrozen flow by the largest common
    /// increment that keeps every resource within capacity, freeze the flows
    /// of the resources that became full, repeat until all are frozen.
    fn solve(&mut self) {
        let n_res = self.capacities_mbps.len();
        let mut frozen = vec![false; self.flows.len()];
        for f in &mut self.flows {
            f.rate_mbps = 0.0;
        }
        loop {
            let mut load = vec![0.0; n_res];
            let mut unfrozen = vec![0usize; n_res];
            for (i, f) in self.flows.iter().enumerate() {
                for &r in &f.resources {
                    load[r] += f.rate_mbps;
                    unfrozen[r] += usize::from(!frozen[i]);
                }
            }
            let step = (0..n_res)
                .filter(|&r| unfrozen[r] > 0)
                .map(|r| {
                    (
                        (self.capacities_mbps[r] - load[r]).max(0.0) / unfrozen[r] as f64,
                        r,
                    )
                })
                .min_by(|a, b| a.0.total_cmp(&b.0));
            let Some((step_mbps, argmin)) = step else {
                return;
            };
            let mut full = vec![false; n_res];
            full[argmin] = true;
            for (i, f) in self.flows.iter_mut().enumerate() {
                if !frozen[i] {
                    f.rate_mbps += step_mbps;
                    for &r in &f.resources {
                        load[r] += step_mbps;
                    }
                }
            }
            for r in 0..n_res {
                full[r] |= self.capacities_mbps[r] - load[r] <= FULL * self.capacities_mbps[r];
            }
            for (i, f) in self.flows.iter().enumerate() {
                frozen[i] |= f.resources.iter().any(|&r| full[r] && unfrozen[r] > 0);
            }
        }
    }

    pub(crate) fn set_capacity(&mut self, now_s: f64, r: usize, capacity_mbps: f64) {
        self.advance(now_s);
        self.capacities_mbps[r] = capacity_mbps;
        self.solve();
    }

    pub(crate) fn add_flow(&mut self, now_s: f64, id: FlowId, resources: &[usize], size_mb: f64) {
        self.advance(now_s);
        self.flows.push(Flow {
            id,
            resources: resources.to_vec(),
            remaining_mb: size_mb,
            rate_mbps: 0.0,
        });
        self.solve();
    }

    /// Take a flow out at `now_s`, counting `extra_mb` more as sent by it.
    fn take(&mut self, now_s: f64, id: FlowId, settle: impl Fn(f64) -> f64) -> Option<f64> {
        self.advance(now_s);
        let i = self.flows.iter().position(|f| f.id == id)?;
        let f = self.flows.remove(i);
        let extra_mb = settle(f.remaining_mb);
        self.sent_mb += extra_mb;
        for &r in &f.resources {
            self.sent_by_resource_mb[r] += extra_mb;
        }
        self.solve();
        Some(f.remaining_mb.max(0.0))
    }

    /// Stop a flow; returns the Mb it lacked. An overshoot is not counted.
    pub(crate) fn remove_flow(&mut self, now_s: f64, id: FlowId) -> Option<f64> {
        self.take(now_s, id, |left| left.min(0.0))
    }

    /// Finish a flow at its completion time: its whole size counts as sent.
    pub(crate) fn complete(&mut self, now_s: f64, id: FlowId) {
        self.take(now_s, id, |left| left)
            .expect("completing an active flow");
    }

    pub(crate) fn rate_mbps(&self, id: FlowId) -> Option<f64> {
        Some(self.flows.iter().find(|f| f.id == id)?.rate_mbps)
    }

    /// When `id` would finish at the current rates (`None` at rate 0).
    pub(crate) fn completion_s(&self, id: FlowId) -> Option<f64> {
        let f = self.flows.iter().find(|f| f.id == id)?;
        (f.rate_mbps > 0.0).then(|| self.updated_s + f.remaining_mb.max(0.0) / f.rate_mbps)
    }

    /// The first flow to finish and when; ties go to the smaller id.
    pub(crate) fn next_completion(&self) -> Option<(FlowId, f64)> {
        self.flows
            .iter()
            .filter_map(|f| Some((f.id, self.completion_s(f.id)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
    }

    pub(crate) fn sent_mb(&self, r: usize) -> f64 {
        self.sent_by_resource_mb[r]
    }

    pub(crate) fn total_sent_mb(&self) -> f64 {
        self.sent_mb
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::sim::maxmin::{MaxMinNetwork, ResourceId};
    use crate::sim::transfer::FairShare;

    /// Agreement and invariant tolerance, relative.
    const TOL: f64 = 1e-9;

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= TOL * scale.abs().max(1.0)
    }

    /// Hosts in racks, each host with a NIC up and down, each rack with an
    /// uplink and a downlink, and a server outside the racks.
    #[derive(Debug, Clone)]
    struct Topology {
        racks: usize,
        nic_mbps: Vec<(f64, f64)>,
        rack_mbps: Vec<(f64, f64)>,
        server_mbps: f64,
    }

    impl Topology {
        fn hosts(&self) -> usize {
            self.nic_mbps.len()
        }
        fn up(&self, h: usize) -> usize {
            2 * h
        }
        fn down(&self, h: usize) -> usize {
            2 * h + 1
        }
        fn rack_up(&self, h: usize) -> usize {
            2 * self.hosts() + 2 * (h % self.racks)
        }
        fn rack_down(&self, h: usize) -> usize {
            self.rack_up(h) + 1
        }
        fn server(&self) -> usize {
            2 * self.hosts() + 2 * self.racks
        }
        /// Every capacity, in resource order.
        fn capacities(&self) -> Vec<f64> {
            let nics = self.nic_mbps.iter().flat_map(|&(u, d)| [u, d]);
            let racks = self.rack_mbps.iter().flat_map(|&(u, d)| [u, d]);
            nics.chain(racks).chain([self.server_mbps]).collect()
        }
        /// The resources a transfer from `src` (a host, or the server if
        /// `None`) to host `dst` crosses.
        fn path(&self, src: Option<usize>, dst: usize) -> Vec<usize> {
            match src {
                None => vec![self.server(), self.rack_down(dst), self.down(dst)],
                Some(s) if s % self.racks == dst % self.racks => vec![self.up(s), self.down(dst)],
                Some(s) => vec![
                    self.up(s),
                    self.rack_up(s),
                    self.rack_down(dst),
                    self.down(dst),
                ],
            }
        }
    }

    fn any_topology() -> impl Strategy<Value = Topology> {
        (2usize..=4, 2usize..=12).prop_flat_map(|(racks, hosts)| {
            (
                prop::collection::vec((1.0f64..100.0, 1.0f64..100.0), hosts),
                prop::collection::vec((1.0f64..200.0, 1.0f64..200.0), racks),
                1.0f64..300.0,
            )
                .prop_map(move |(nic_mbps, rack_mbps, server_mbps)| Topology {
                    racks,
                    nic_mbps,
                    rack_mbps,
                    server_mbps,
                })
        })
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// A host-to-host transfer (`src == dst` reads the host's own disk:
        /// one resource, its NIC down).
        Peer {
            src: usize,
            dst: usize,
            size_mb: f64,
        },
        Server {
            dst: usize,
            size_mb: f64,
        },
        Remove {
            pick: usize,
        },
        Capacity {
            pick: usize,
            mbps: f64,
        },
        Advance {
            dt_s: f64,
        },
    }

    fn any_size() -> impl Strategy<Value = f64> {
        // Fixed sizes (0 Mb included) make ties and instant completions common.
        prop_oneof![3 => 0.01f64..50.0, 1 => prop::sample::select(vec![0.0, 1.0, 2.0, 8.0])]
    }

    fn any_op() -> impl Strategy<Value = Op> {
        let mbps = prop_oneof![1 => Just(0.0), 4 => 0.1f64..200.0];
        prop_oneof![
            4 => (any::<usize>(), any::<usize>(), any_size())
                .prop_map(|(src, dst, size_mb)| Op::Peer { src, dst, size_mb }),
            1 => (any::<usize>(), any_size()).prop_map(|(dst, size_mb)| Op::Server { dst, size_mb }),
            2 => any::<usize>().prop_map(|pick| Op::Remove { pick }),
            1 => (any::<usize>(), mbps).prop_map(|(pick, mbps)| Op::Capacity { pick, mbps }),
            3 => prop_oneof![Just(0.0), 0.0f64..3.0].prop_map(|dt_s| Op::Advance { dt_s }),
        ]
    }

    /// The fast network and the reference in lockstep.
    struct Pair {
        topo: Topology,
        fast: MaxMinNetwork,
        slow: ReferenceNetwork,
        ids: Vec<ResourceId>,
        now_s: f64,
        sizes_mb: HashMap<FlowId, f64>,
        /// Mb of the flows finished (their size) and removed (what they sent).
        settled_mb: f64,
        active: Vec<FlowId>,
        next_id: FlowId,
    }

    impl Pair {
        fn new(topo: Topology) -> Self {
            let mut fast = MaxMinNetwork::new();
            let mut slow = ReferenceNetwork::default();
            let ids = topo
                .capacities()
                .into_iter()
                .map(|c| {
                    slow.add_resource(c);
                    fast.add_resource(c)
                })
                .collect();
            Pair {
                topo,
                fast,
                slow,
                ids,
                now_s: 0.0,
                sizes_mb: HashMap::new(),
                settled_mb: 0.0,
                active: Vec::new(),
                next_id: 0,
            }
        }

        fn rate_scale(&self) -> f64 {
            self.ids
                .iter()
                .map(|&r| self.fast.capacity_mbps(r))
                .fold(1.0, f64::max)
        }

        fn add(&mut self, path: &[usize], size_mb: f64) {
            let id = self.next_id;
            self.next_id += 1;
            let rs: Vec<ResourceId> = path.iter().map(|&r| self.ids[r]).collect();
            self.fast.add_flow(self.now_s, id, &rs, size_mb);
            self.slow.add_flow(self.now_s, id, path, size_mb);
            self.sizes_mb.insert(id, size_mb);
            self.active.push(id);
        }

        fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
            let hosts = self.topo.hosts();
            match *op {
                Op::Peer { src, dst, size_mb } => {
                    let (src, dst) = (src % hosts, dst % hosts);
                    let path = if src == dst {
                        vec![self.topo.down(dst)]
                    } else {
                        self.topo.path(Some(src), dst)
                    };
                    self.add(&path, size_mb);
                }
                Op::Server { dst, size_mb } => {
                    self.add(&self.topo.path(None, dst % hosts), size_mb)
                }
                Op::Remove { pick } if !self.active.is_empty() => {
                    let id = self.active.swap_remove(pick % self.active.len());
                    let a = self.fast.remove_flow(self.now_s, id).expect("active");
                    let b = self.slow.remove_flow(self.now_s, id).expect("active");
                    prop_assert!(close(a, b, self.sizes_mb[&id]), "flow {id} left {a} vs {b}");
                    self.settled_mb += self.sizes_mb[&id] - a;
                }
                Op::Remove { .. } => prop_assert_eq!(self.fast.remove_flow(self.now_s, 0), None),
                Op::Capacity { pick, mbps } => {
                    let r = pick % self.ids.len();
                    self.fast.set_capacity(self.now_s, self.ids[r], mbps);
                    self.slow.set_capacity(self.now_s, r, mbps);
                }
                Op::Advance { dt_s } => self.run_until(self.now_s + dt_s)?,
            }
            self.check()
        }

        /// Pop completions up to `until_s` from the fast network, finishing
        /// the same flow in the reference (on a near tie the two may order
        /// tied flows differently; `check_next` accepts that).
        fn run_until(&mut self, until_s: f64) -> Result<(), TestCaseError> {
            while let Some((f, t)) = self.fast.next_completion() {
                if t > until_s {
                    break;
                }
                self.check_next()?;
                self.now_s = self.now_s.max(t);
                prop_assert_eq!(self.fast.pop_completed(self.now_s), Some(f));
                self.slow.complete(self.now_s, f);
                self.settled_mb += self.sizes_mb[&f];
                self.active.retain(|&a| a != f);
                self.check()?;
            }
            self.now_s = until_s;
            self.slow.advance(until_s);
            Ok(())
        }

        fn check_next(&self) -> Result<(), TestCaseError> {
            match (self.fast.next_completion(), self.slow.next_completion()) {
                (None, None) => {}
                (Some((f, t)), Some((g, u))) => {
                    prop_assert!(close(t, u, t.max(u)), "next {f}@{t} vs {g}@{u}");
                    let mine = self.slow.completion_s(f);
                    prop_assert!(
                        mine.is_some_and(|m| close(m, u, u)),
                        "flow {f} not tied with {g}@{u}: {mine:?}"
                    );
                }
                (a, b) => prop_assert!(false, "next {a:?} vs {b:?}"),
            }
            Ok(())
        }

        /// Rates, sent Mb and next completion agree; the fast network's
        /// allocation is feasible and max-min optimal.
        fn check(&self) -> Result<(), TestCaseError> {
            let scale = self.rate_scale();
            for &f in &self.active {
                let (a, b) = (
                    self.fast.rate_mbps(f).unwrap(),
                    self.slow.rate_mbps(f).unwrap(),
                );
                prop_assert!(close(a, b, scale), "flow {f} at {a} vs {b} Mb/s");
            }
            let total = self.slow.total_sent_mb();
            let fast_total = self.fast.total_sent_mb(self.now_s);
            prop_assert!(
                close(fast_total, total, total),
                "sent {fast_total} vs {total}"
            );
            for (i, &r) in self.ids.iter().enumerate() {
                let (a, b) = (self.fast.sent_mb(r, self.now_s), self.slow.sent_mb(i));
                prop_assert!(close(a, b, total), "resource {i} sent {a} vs {b}");
            }
            check_max_min(&self.fast)?;
            self.check_next()
        }
    }

    /// Every resource within capacity with its load the sum of its flows'
    /// rates; every flow bottlenecked: it crosses a full resource where no
    /// flow is faster (the max-min optimality condition).
    fn check_max_min(net: &MaxMinNetwork) -> Result<(), TestCaseError> {
        let mut flows = Vec::new();
        for r in net.resources() {
            let i = r.index();
            let (load, cap) = (net.load_mbps(r), net.capacity_mbps(r));
            let sum: f64 = net.flows_of(r).map(|f| net.rate_mbps(f).unwrap()).sum();
            prop_assert!(close(load, sum, cap), "resource {i} load {load} vs {sum}");
            prop_assert!(
                load <= cap * (1.0 + TOL) + 1e-12,
                "resource {i}: {load} > {cap}"
            );
            flows.extend(net.flows_of(r));
        }
        flows.sort_unstable();
        flows.dedup();
        for f in flows {
            let rate = net.rate_mbps(f).unwrap();
            let bottlenecked = net.flow_resources(f).unwrap().iter().any(|&r| {
                let cap = net.capacity_mbps(r);
                let fastest = net
                    .flows_of(r)
                    .map(|g| net.rate_mbps(g).unwrap())
                    .fold(0.0, f64::max);
                net.load_mbps(r) >= cap * (1.0 - TOL) - 1e-12
                    && rate >= fastest * (1.0 - TOL) - 1e-12
            });
            prop_assert!(bottlenecked, "flow {f} at {rate} Mb/s has no bottleneck");
        }
        Ok(())
    }

    /// The fast network in deferred mode beside a record of what each
    /// resource must have carried: re-solved only on `Solve` ops, and at
    /// each solve compared with the reference solved from scratch on the
    /// same flows and capacities (docs/model.md section 9).
    struct Deferred {
        topo: Topology,
        fast: MaxMinNetwork,
        ids: Vec<ResourceId>,
        now_s: f64,
        /// Per active flow: size and path (resource indices).
        flows: HashMap<FlowId, (f64, Vec<usize>)>,
        active: Vec<FlowId>,
        /// Per resource: Mb of flows finished (their size) or removed (what
        /// they sent).
        settled_mb: Vec<f64>,
        next_id: FlowId,
        solves: usize,
    }

    impl Deferred {
        fn new(topo: Topology) -> Self {
            let mut fast = MaxMinNetwork::new();
            let ids: Vec<ResourceId> = topo
                .capacities()
                .into_iter()
                .map(|c| fast.add_resource(c))
                .collect();
            let n = ids.len();
            Deferred {
                topo,
                fast,
                ids,
                now_s: 0.0,
                flows: HashMap::new(),
                active: Vec::new(),
                settled_mb: vec![0.0; n],
                next_id: 0,
                solves: 0,
            }
        }

        fn settle(&mut self, id: FlowId, sent_mb: f64) {
            let (_, path) = self.flows.remove(&id).expect("active");
            for r in path {
                self.settled_mb[r] += sent_mb;
            }
            self.active.retain(|&a| a != id);
        }

        fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
            let hosts = self.topo.hosts();
            match *op {
                Op::Peer { src, dst, size_mb } => {
                    let (src, dst) = (src % hosts, dst % hosts);
                    let path = if src == dst {
                        vec![self.topo.down(dst)]
                    } else {
                        self.topo.path(Some(src), dst)
                    };
                    self.add(path, size_mb);
                }
                Op::Server { dst, size_mb } => self.add(self.topo.path(None, dst % hosts), size_mb),
                Op::Remove { pick } if !self.active.is_empty() => {
                    let id = self.active[pick % self.active.len()];
                    let left = self
                        .fast
                        .remove_flow_deferred(self.now_s, id)
                        .expect("active");
                    let size = self.flows[&id].0;
                    prop_assert!(
                        (-TOL..=size * (1.0 + TOL)).contains(&left),
                        "flow {id} left {left}"
                    );
                    self.settle(id, size - left);
                }
                Op::Remove { .. } => {}
                // Capacity ops re-solve at once; the others solve every third op.
                Op::Capacity { pick, mbps } => {
                    let r = pick % self.ids.len();
                    self.fast.set_capacities(self.now_s, &[(self.ids[r], mbps)]);
                    self.check_solved()?;
                }
                Op::Advance { dt_s } => self.run_until(self.now_s + dt_s)?,
            }
            self.check_feasible()
        }

        fn add(&mut self, path: Vec<usize>, size_mb: f64) {
            let id = self.next_id;
            self.next_id += 1;
            let rs: Vec<ResourceId> = path.iter().map(|&r| self.ids[r]).collect();
            self.fast.add_flow_deferred(self.now_s, id, &rs, size_mb);
            self.flows.insert(id, (size_mb, path));
            self.active.push(id);
        }

        fn solve(&mut self) -> Result<(), TestCaseError> {
            self.fast.solve_dirty(self.now_s);
            self.solves += 1;
            self.check_solved()
        }

        /// Pop completions up to `until_s`: each flow is done when popped.
        fn run_until(&mut self, until_s: f64) -> Result<(), TestCaseError> {
            while let Some((f, t)) = self.fast.next_completion() {
                if t > until_s {
                    break;
                }
                self.now_s = self.now_s.max(t);
                let left = self.fast.remaining_mb(f, self.now_s).unwrap();
                let size = self.flows[&f].0;
                prop_assert!(
                    left <= TOL * size.max(1.0),
                    "flow {f} popped with {left} Mb left"
                );
                prop_assert_eq!(self.fast.pop_completed_deferred(self.now_s), Some(f));
                self.settle(f, size);
            }
            self.now_s = until_s.max(self.now_s);
            Ok(())
        }

        /// Right after a solve: the rates are the reference's max-min rates.
        fn check_solved(&self) -> Result<(), TestCaseError> {
            prop_assert!(!self.fast.is_dirty());
            let mut slow = ReferenceNetwork::default();
            for c in self.ids.iter().map(|&r| self.fast.capacity_mbps(r)) {
                slow.add_resource(c);
            }
            for &f in &self.active {
                slow.add_flow(0.0, f, &self.flows[&f].1, 1.0);
            }
            let scale = self
                .ids
                .iter()
                .map(|&r| self.fast.capacity_mbps(r))
                .fold(1.0, f64::max);
            for &f in &self.active {
                let (a, b) = (self.fast.rate_mbps(f).unwrap(), slow.rate_mbps(f).unwrap());
                prop_assert!(
                    close(a, b, scale),
                    "after a solve flow {f} at {a}, max-min {b} Mb/s"
                );
            }
            check_max_min(&self.fast)
        }

        /// Always: no resource above capacity, loads are their flows' rates,
        /// the peak is recorded, and each resource's Mb sent is what its
        /// flows sent.
        fn check_feasible(&self) -> Result<(), TestCaseError> {
            for (i, &r) in self.ids.iter().enumerate() {
                let (load, cap) = (self.fast.load_mbps(r), self.fast.capacity_mbps(r));
                let sum: f64 = self
                    .fast
                    .flows_of(r)
                    .map(|f| self.fast.rate_mbps(f).unwrap())
                    .sum();
                prop_assert!(
                    close(load, sum, cap.max(sum)),
                    "resource {i} load {load} vs {sum}"
                );
                prop_assert!(
                    load <= cap * (1.0 + TOL) + 1e-12,
                    "resource {i}: {load} > {cap}"
                );
                let carried: f64 = self
                    .active
                    .iter()
                    .filter(|f| self.flows[f].1.contains(&i))
                    .map(|&f| self.flows[&f].0 - self.fast.remaining_mb(f, self.now_s).unwrap())
                    .sum::<f64>()
                    + self.settled_mb[i];
                let sent = self.fast.sent_mb(r, self.now_s);
                prop_assert!(
                    close(sent, carried, carried),
                    "resource {i} sent {sent} vs {carried}"
                );
            }
            prop_assert!(self.fast.peak_utilisation() <= 1.0 + TOL);
            Ok(())
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The fast network agrees with the reference on random rack
        /// topologies and operation sequences, and stays feasible and max-min
        /// optimal throughout; everything left finishes in the end.
        #[test]
        fn maxmin_matches_the_reference(
            topo in any_topology(),
            ops in prop::collection::vec(any_op(), 1..60),
        ) {
            let mut pair = Pair::new(topo);
            for op in &ops {
                pair.apply(op)?;
            }
            for i in 0..pair.ids.len() {
                pair.apply(&Op::Capacity { pick: i, mbps: 10.0 })?;
            }
            pair.run_until(f64::MAX)?;
            prop_assert!(pair.fast.is_empty() && pair.active.is_empty());
            // Conservation: every Mb sent belongs to a finished or removed flow.
            let sent = pair.fast.total_sent_mb(pair.now_s);
            prop_assert!(close(sent, pair.settled_mb, pair.settled_mb), "{sent} vs {}", pair.settled_mb);
        }

        /// Deferred mode: feasible after every operation, exact max-min (the
        /// reference's rates) right after every solve, each resource's Mb
        /// accounted for, and everything finishes once re-solved.
        #[test]
        fn deferred_is_feasible_and_exact_at_solves(
            topo in any_topology(),
            ops in prop::collection::vec(any_op(), 1..60),
        ) {
            let mut d = Deferred::new(topo);
            for (i, op) in ops.iter().enumerate() {
                d.apply(op)?;
                if i % 3 == 2 {
                    d.solve()?;
                }
            }
            for i in 0..d.ids.len() {
                d.apply(&Op::Capacity { pick: i, mbps: 10.0 })?;
            }
            d.run_until(f64::MAX)?;
            prop_assert!(d.fast.is_empty() && d.active.is_empty());
            prop_assert!(d.solves > 0 || ops.len() < 3);
        }

        /// With one resource, max-min is FairShare's equal sharing: every rate
        /// exactly capacity / flows, and the same completions and remainders.
        #[test]
        fn one_resource_is_fair_share(
            capacity_mbps in 0.0f64..200.0,
            ops in prop::collection::vec(any_op(), 1..80),
        ) {
            let mut net = MaxMinNetwork::new();
            let r = net.add_resource(capacity_mbps);
            let mut share = FairShare::new(capacity_mbps);
            let (mut now_s, mut active, mut next_id) = (0.0, Vec::<FlowId>::new(), 0);
            for op in &ops {
                match *op {
                    Op::Peer { size_mb, .. } | Op::Server { size_mb, .. } => {
                        net.add_flow(now_s, next_id, &[r], size_mb);
                        share.add(now_s, next_id, size_mb);
                        active.push(next_id);
                        next_id += 1;
                    }
                    Op::Remove { pick } if !active.is_empty() => {
                        let id = active.swap_remove(pick % active.len());
                        let (a, b) = (net.remove_flow(now_s, id).unwrap(), share.remove(now_s, id).unwrap());
                        prop_assert!(close(a, b, 1.0 + share.sent_mb()), "left {a} vs {b}");
                    }
                    Op::Remove { .. } => {}
                    Op::Capacity { mbps, .. } => {
                        net.set_capacity(now_s, r, mbps);
                        share.set_capacity(now_s, mbps);
                    }
                    Op::Advance { dt_s } => {
                        let until_s = now_s + dt_s;
                        while let Some((f, t)) = net.next_completion().filter(|c| c.1 <= until_s) {
                            let (g, u) = share.next_completion().expect("FairShare busy too");
                            prop_assert!(close(t, u, t), "next {f}@{t} vs {g}@{u}");
                            now_s = t.max(now_s);
                            net.pop_completed(now_s);
                            if g == f {
                                share.pop_completed(now_s);
                            } else {
                                // A near tie taken in another order.
                                let left = share.remove(now_s, f).unwrap();
                                prop_assert!(left <= TOL * (1.0 + share.sent_mb()), "{f} lacks {left}");
                            }
                            active.retain(|&a| a != f);
                        }
                        now_s = until_s;
                    }
                }
                for &f in &active {
                    prop_assert_eq!(net.rate_mbps(f), Some(share.rate_per_flow_mbps()));
                }
                prop_assert_eq!(net.next_completion().is_some(), share.next_completion().is_some());
                share.advance(now_s);
                prop_assert!(close(net.sent_mb(r, now_s), share.sent_mb(), share.sent_mb()));
            }
        }
    }

    #[test]
    fn reference_solves_a_small_example() {
        let mut n = ReferenceNetwork::default();
        let a = n.add_resource(10.0);
        let b = n.add_resource(4.0);
        n.add_flow(0.0, 1, &[a, b], 100.0);
        n.add_flow(0.0, 2, &[a], 100.0);
        n.add_flow(0.0, 3, &[b], 100.0);
        assert_eq!(n.rate_mbps(1), Some(2.0));
        assert_eq!(n.rate_mbps(2), Some(8.0));
        assert_eq!(n.next_completion(), Some((2, 12.5)));
    }
}
