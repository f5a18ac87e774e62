//! A slow, obviously-correct model of [`FairShare`](super::transfer::FairShare)
//! (issue 9), used only by tests.
//!
//! It stores each flow's remaining Mb and rate, and at every change (add,
//! remove, capacity change, advance) moves every flow forward by its rate and
//! recomputes every rate as capacity / flows. Nothing is shared with the
//! virtual-clock implementation, so agreement between the two over random
//! operation sequences checks the finish-tag bookkeeping.

use crate::sim::transfer::FlowId;

/// One active flow of the reference model.
#[derive(Debug, Clone)]
struct Flow {
    id: FlowId,
    remaining_mb: f64,
    rate_mbps: f64,
}

/// Processor sharing by brute force: O(flows) per operation.
#[derive(Debug, Clone)]
pub(crate) struct ReferenceShare {
    capacity_mbps: f64,
    updated_s: f64,
    flows: Vec<Flow>,
    sent_mb: f64,
}

impl ReferenceShare {
    /// An idle resource of the given capacity.
    pub(crate) fn new(capacity_mbps: f64) -> Self {
        ReferenceShare {
            capacity_mbps,
            updated_s: 0.0,
            flows: Vec::new(),
            sent_mb: 0.0,
        }
    }

    /// Total Mb sent up to the last update.
    pub(crate) fn sent_mb(&self) -> f64 {
        self.sent_mb
    }

    /// Move every flow forward to `now_s` at its current rate, then recompute
    /// the rates (they only change at the operations that follow, but the
    /// model recomputes them everywhere so no state is trusted across calls).
    pub(crate) fn advance(&mut self, now_s: f64) {
        let dt = now_s - self.updated_s;
        if dt > 0.0 {
            for f in &mut self.flows {
                f.remaining_mb -= f.rate_mbps * dt;
                self.sent_mb += f.rate_mbps * dt;
            }
        }
        self.updated_s = now_s.max(self.updated_s);
        self.recompute();
    }

    fn recompute(&mut self) {
        let n = self.flows.len() as f64;
        for f in &mut self.flows {
            f.rate_mbps = self.capacity_mbps / n;
        }
    }

    /// Change the capacity from `now_s` on.
    pub(crate) fn set_capacity(&mut self, now_s: f64, capacity_mbps: f64) {
        self.advance(now_s);
        self.capacity_mbps = capacity_mbps;
        self.recompute();
    }

    /// Start a flow of `size_mb` at `now_s`.
    pub(crate) fn add(&mut self, now_s: f64, flow: FlowId, size_mb: f64) {
        self.advance(now_s);
        self.flows.push(Flow {
            id: flow,
            remaining_mb: size_mb,
            rate_mbps: 0.0,
        });
        self.recompute();
    }

    /// Stop a flow at `now_s`; returns the Mb it still lacked.
    pub(crate) fn remove(&mut self, now_s: f64, flow: FlowId) -> Option<f64> {
        self.advance(now_s);
        let i = self.flows.iter().position(|f| f.id == flow)?;
        let f = self.flows.remove(i);
        self.recompute();
        Some(f.remaining_mb.max(0.0))
    }

    /// When `flow` would finish at the current rates (`None` at rate 0).
    pub(crate) fn completion_s(&self, flow: FlowId) -> Option<f64> {
        let f = self.flows.iter().find(|f| f.id == flow)?;
        (f.rate_mbps > 0.0).then(|| self.updated_s + f.remaining_mb.max(0.0) / f.rate_mbps)
    }

    /// The flow that finishes first and when; ties go to the smaller id.
    pub(crate) fn next_completion(&self) -> Option<(FlowId, f64)> {
        self.flows
            .iter()
            .filter_map(|f| Some((f.id, self.completion_s(f.id)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
    }

    /// Finish `flow` at `now_s` (its completion time): whatever rounding left
    /// unsent is counted as sent, so the flow's whole size is accounted.
    pub(crate) fn complete(&mut self, now_s: f64, flow: FlowId) {
        self.advance(now_s);
        let i = self
            .flows
            .iter()
            .position(|f| f.id == flow)
            .expect("completing an active flow");
        let f = self.flows.remove(i);
        self.sent_mb += f.remaining_mb;
        self.recompute();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::sim::transfer::FairShare;

    /// One step of a random workload.
    #[derive(Debug, Clone)]
    enum Op {
        Add { size_mb: f64 },
        Remove { pick: usize },
        Capacity { mbps: f64 },
        Advance { dt_s: f64 },
    }

    fn any_op() -> impl Strategy<Value = Op> {
        // A few fixed sizes (0 Mb included) make exact ties (same size, same
        // start) and instant completions common.
        let size = prop_oneof![
            3 => 0.01f64..50.0,
            1 => prop::sample::select(vec![0.0, 1.0, 2.0, 8.0]),
        ];
        let mbps = prop_oneof![
            1 => Just(0.0),
            4 => 0.1f64..200.0,
        ];
        prop_oneof![
            4 => size.prop_map(|size_mb| Op::Add { size_mb }),
            2 => any::<usize>().prop_map(|pick| Op::Remove { pick }),
            1 => mbps.prop_map(|mbps| Op::Capacity { mbps }),
            3 => prop_oneof![Just(0.0), 0.0f64..3.0].prop_map(|dt_s| Op::Advance { dt_s }),
        ]
    }

    fn close(a: f64, b: f64, scale: f64) -> bool {
        (a - b).abs() <= 1e-9 * scale.abs().max(1.0)
    }

    /// Both models in lockstep, with the time and the flows still active.
    struct Pair {
        fast: FairShare,
        slow: ReferenceShare,
        now_s: f64,
        active: Vec<FlowId>,
        next_id: FlowId,
    }

    impl Pair {
        /// The virtual clock's remainders are differences of clock values,
        /// so their rounding scales with the Mb sent, not with the flow.
        fn mb_scale(&self) -> f64 {
            1.0 + self.slow.sent_mb()
        }

        /// Same next completion: the same flow at the same time, or, on a
        /// near tie, a flow the reference finishes at that same time.
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
            prop_assert!(
                close(self.fast.sent_mb(), self.slow.sent_mb(), self.mb_scale()),
                "sent {} vs {}",
                self.fast.sent_mb(),
                self.slow.sent_mb()
            );
            Ok(())
        }

        /// Pop every completion up to `until_s` from both, at its time.
        fn run_until(&mut self, until_s: f64) -> Result<(), TestCaseError> {
            while let Some((f, t)) = self.fast.next_completion() {
                if t > until_s {
                    break;
                }
                self.check_next()?;
                self.now_s = self.now_s.max(t);
                prop_assert_eq!(self.fast.pop_completed(self.now_s), Some(f));
                self.slow.complete(self.now_s, f);
                self.active.retain(|&a| a != f);
            }
            self.now_s = until_s;
            self.fast.advance(until_s);
            self.slow.advance(until_s);
            Ok(())
        }

        fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
            match *op {
                Op::Add { size_mb } => {
                    let id = self.next_id;
                    self.next_id += 1;
                    self.fast.add(self.now_s, id, size_mb);
                    self.slow.add(self.now_s, id, size_mb);
                    self.active.push(id);
                }
                Op::Remove { pick } if !self.active.is_empty() => {
                    let id = self.active.swap_remove(pick % self.active.len());
                    let a = self.fast.remove(self.now_s, id).expect("active");
                    let b = self.slow.remove(self.now_s, id).expect("active");
                    prop_assert!(close(a, b, self.mb_scale()), "left {a} vs {b}");
                }
                Op::Remove { .. } => {
                    prop_assert_eq!(self.fast.remove(self.now_s, 12345), None);
                }
                Op::Capacity { mbps } => {
                    self.fast.set_capacity(self.now_s, mbps);
                    self.slow.set_capacity(self.now_s, mbps);
                }
                Op::Advance { dt_s } => self.run_until(self.now_s + dt_s)?,
            }
            self.check_next()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// FairShare agrees with the brute-force model on every random
        /// sequence: next completion (flow and time), remainders on removal,
        /// Mb sent, and finally after running everything to completion.
        #[test]
        fn fair_share_matches_the_reference_model(
            capacity_mbps in 0.0f64..200.0,
            ops in prop::collection::vec(any_op(), 1..80),
        ) {
            let mut pair = Pair {
                fast: FairShare::new(capacity_mbps),
                slow: ReferenceShare::new(capacity_mbps),
                now_s: 0.0,
                active: Vec::new(),
                next_id: 0,
            };
            for op in &ops {
                pair.apply(op)?;
            }
            // Drain what is left (a zero capacity would never finish).
            pair.apply(&Op::Capacity { mbps: 50.0 })?;
            pair.run_until(f64::MAX)?;
            prop_assert!(pair.fast.is_empty() && pair.active.is_empty());
        }
    }

    #[test]
    fn reference_splits_equally_and_counts_slivers() {
        let mut r = ReferenceShare::new(10.0);
        r.add(0.0, 1, 5.0);
        r.add(0.0, 2, 10.0);
        assert_eq!(r.next_completion(), Some((1, 1.0)));
        r.complete(1.0, 1);
        assert_eq!(r.completion_s(2), Some(1.5));
        assert_eq!(r.remove(1.25, 2), Some(2.5));
        assert!((r.sent_mb() - 12.5).abs() < 1e-12);
    }
}
