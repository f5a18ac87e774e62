//! The `equal` rule (docs/model.md section 5): the server's upload split equally
//! among the groups with demand. It is the allocation of the paper's `ISO`
//! and `Cross-Equ` baselines (Section V).

use super::{Allocation, AllocationRule, Snapshot};

/// Splits `u_s` equally among the groups with demand (`R^g > 0`); groups
/// without demand get nothing, and with no demand at all every rate is zero.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Equal;

impl AllocationRule for Equal {
    fn name(&self) -> &'static str {
        "equal"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let demand = snapshot.groups.iter().filter(|g| g.has_demand()).count();
        // `u_s <= 0` (or NaN) leaves nothing to split; the `max` also keeps a
        // NaN `u_s` from leaking into the rates.
        let share = if demand > 0 {
            snapshot.u_s_mbps.max(0.0) / demand as f64
        } else {
            0.0
        };
        let rates_mbps = snapshot
            .groups
            .iter()
            .map(|g| if g.has_demand() { share } else { 0.0 })
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

    fn group(remaining_mb: f64) -> GroupState {
        GroupState {
            remaining_mb,
            peer_upload_mbps: 7.0,
            popularity: 0.3,
            server_only_mb: 0.0,
            ..GroupState::default()
        }
    }

    #[test]
    fn splits_equally_among_groups_with_demand() {
        let groups = [group(10.0), group(0.0), group(5.0), group(1.0)];
        let snap = Snapshot {
            u_s_mbps: 90.0,
            groups: &groups,
        };
        let a = Equal.allocate(&snap);
        assert_eq!(a.rates_mbps, vec![30.0, 0.0, 30.0, 30.0]);
        assert_eq!(a.iterations, 0);
        assert_eq!(Equal.name(), "equal");
    }

    #[test]
    fn no_demand_gives_all_zero() {
        let groups = [group(0.0), group(0.0)];
        let snap = Snapshot {
            u_s_mbps: 90.0,
            groups: &groups,
        };
        assert_eq!(Equal.allocate(&snap).rates_mbps, vec![0.0, 0.0]);
        let empty = Snapshot {
            u_s_mbps: 90.0,
            groups: &[],
        };
        assert!(Equal.allocate(&empty).rates_mbps.is_empty());
    }

    #[test]
    fn zero_server_bandwidth_gives_all_zero() {
        let groups = [group(3.0), group(4.0)];
        let snap = Snapshot {
            u_s_mbps: 0.0,
            groups: &groups,
        };
        assert_eq!(Equal.allocate(&snap).rates_mbps, vec![0.0, 0.0]);
    }
}
