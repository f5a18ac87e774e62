//! The `proportional` rule (docs/model.md section 5): the server's upload split in
//! proportion to popularity among the groups with demand, as in the paper's
//! `Cross-Prop` baseline (Section V).

use super::{Allocation, AllocationRule, Snapshot};

/// Splits `u_s` in proportion to each group's `popularity` among the groups
/// with demand (`R^g > 0`); groups without demand get nothing.
///
/// Negative or NaN popularities count as zero. If every group with demand has
/// popularity zero, the proportions are undefined (0/0); the rule then falls
/// back to an equal split among them, so that the server never idles while
/// there is demand (the same answer [`super::Equal`] gives).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Proportional;

/// A popularity as a non-negative weight: `f64::max` maps NaN to 0.
fn weight(popularity: f64) -> f64 {
    popularity.max(0.0)
}

impl AllocationRule for Proportional {
    fn name(&self) -> &'static str {
        "proportional"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let u_s = snapshot.u_s_mbps.max(0.0);
        let (mut demand, mut total) = (0usize, 0.0);
        for g in snapshot.groups.iter().filter(|g| g.has_demand()) {
            demand += 1;
            total += weight(g.popularity);
        }
        // `total` may overflow to infinity with absurd popularities; only a
        // finite positive total gives meaningful proportions.
        let proportional = total > 0.0 && total.is_finite();
        let rates_mbps = snapshot
            .groups
            .iter()
            .map(|g| {
                if !g.has_demand() {
                    0.0
                } else if proportional {
                    u_s * (weight(g.popularity) / total)
                } else {
                    u_s / demand as f64
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

    fn group(remaining_mb: f64, popularity: f64) -> GroupState {
        GroupState {
            remaining_mb,
            peer_upload_mbps: 3.0,
            popularity,
            server_only_mb: 0.0,
            ..GroupState::default()
        }
    }

    #[test]
    fn splits_by_popularity_among_groups_with_demand() {
        // Popularities 0.1, (0.5 without demand), 0.3, 0.0 -> shares 1/4, 3/4.
        let groups = [
            group(10.0, 0.1),
            group(0.0, 0.5),
            group(2.0, 0.3),
            group(8.0, 0.0),
        ];
        let snap = Snapshot {
            u_s_mbps: 100.0,
            groups: &groups,
        };
        let a = Proportional.allocate(&snap);
        let want = [25.0, 0.0, 75.0, 0.0];
        for (got, want) in a.rates_mbps.iter().zip(want) {
            assert!((got - want).abs() < 1e-12, "{:?}", a.rates_mbps);
        }
        assert_eq!(a.iterations, 0);
        assert_eq!(Proportional.name(), "proportional");
    }

    #[test]
    fn all_zero_popularity_falls_back_to_equal() {
        let groups = [group(10.0, 0.0), group(0.0, 0.9), group(2.0, -1.0)];
        let snap = Snapshot {
            u_s_mbps: 50.0,
            groups: &groups,
        };
        assert_eq!(
            Proportional.allocate(&snap).rates_mbps,
            vec![25.0, 0.0, 25.0]
        );
    }

    #[test]
    fn no_demand_or_no_bandwidth_gives_all_zero() {
        let groups = [group(0.0, 0.4), group(0.0, 0.6)];
        let snap = Snapshot {
            u_s_mbps: 50.0,
            groups: &groups,
        };
        assert_eq!(Proportional.allocate(&snap).rates_mbps, vec![0.0, 0.0]);
        let groups = [group(1.0, 0.4), group(1.0, 0.6)];
        let snap = Snapshot {
            u_s_mbps: 0.0,
            groups: &groups,
        };
        assert_eq!(Proportional.allocate(&snap).rates_mbps, vec![0.0, 0.0]);
    }
}
