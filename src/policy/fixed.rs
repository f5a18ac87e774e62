//! `fixed`: a static split of `u_s`, given as a share per group. It puts an
//! analytic allocation (Theorem III.1 or III.2) into the simulator.

use super::{Allocation, AllocationRule, Snapshot};

/// Each group with demand gets its configured share of `u_s`; a group
/// without demand leaves its share unused, as a static allocation would.
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    shares: Vec<f64>,
}

impl Fixed {
    /// A rule with one share per group (non-negative, summing to at most 1).
    pub fn new(shares: Vec<f64>) -> Self {
        Fixed { shares }
    }
}

impl AllocationRule for Fixed {
    fn name(&self) -> &'static str {
        "fixed"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let rates_mbps = snapshot
            .groups
            .iter()
            .enumerate()
            .map(|(g, state)| {
                if state.has_demand() {
                    self.shares.get(g).copied().unwrap_or(0.0) * snapshot.u_s_mbps
                } else {
                    0.0
                }
            })
            .collect();
        Allocation {
            rates_mbps,
            iterations: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::GroupState;

    #[test]
    fn shares_apply_only_where_there_is_demand() {
        let g = |r| GroupState {
            remaining_mb: r,
            peer_upload_mbps: 0.0,
            popularity: 0.5,
            server_only_mb: 0.0,
            ..GroupState::default()
        };
        let groups = [g(10.0), g(0.0), g(5.0)];
        let mut rule = Fixed::new(vec![0.5, 0.3, 0.2]);
        let a = rule.allocate(&Snapshot {
            u_s_mbps: 100.0,
            groups: &groups,
        });
        assert_eq!(a.rates_mbps, vec![50.0, 0.0, 20.0]);
    }
}
