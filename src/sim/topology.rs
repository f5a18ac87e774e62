//! Hosts in racks (docs/model.md section 9): which rack each peer's host
//! sits in. Every peer (VM host or preheated seeder) is a host of its own;
//! peers are numbered in the order they join, so a host's rack is fixed by
//! that number and the placement.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;

use crate::input::seed::stream_seed;
use crate::input::topology::{Placement, TopologyConfig};

/// Random stream of the random placement (streams 1-4 are the content's,
/// the workload's, block choice's and source choice's).
const PLACEMENT_STREAM: u64 = 5;

/// Racks and the rack of every host.
#[derive(Debug, Clone)]
pub(super) struct Racks {
    /// Number of racks: `ceil(hosts / hosts_per_rack)`, at least 1.
    pub(super) count: u32,
    /// Rack of each host, by peer id.
    rack_of: Vec<u32>,
}

impl Racks {
    /// Place `hosts` hosts by `topology`'s placement; `seed` is the run's.
    pub(super) fn place(topology: &TopologyConfig, hosts: usize, seed: u64) -> Racks {
        let per_rack = topology.hosts_per_rack.max(1);
        let count = hosts.div_ceil(per_rack).max(1);
        let rack_of = match topology.placement {
            Placement::RoundRobin => (0..hosts).map(|h| (h % count) as u32).collect(),
            Placement::Random => {
                // A random permutation of the racks' slots: every rack holds
                // at most hosts_per_rack hosts.
                let mut slots: Vec<u32> = (0..count * per_rack)
                    .map(|s| (s / per_rack) as u32)
                    .collect();
                let mut rng =
                    Xoshiro256PlusPlus::seed_from_u64(stream_seed(seed, PLACEMENT_STREAM));
                slots.shuffle(&mut rng);
                slots.truncate(hosts);
                slots
            }
        };
        Racks {
            count: count as u32,
            rack_of,
        }
    }

    /// One rack holding every host (no `[topology]`), however many join.
    pub(super) fn single() -> Racks {
        Racks {
            count: 1,
            rack_of: Vec::new(),
        }
    }

    /// The rack of host (peer) `p`.
    pub(super) fn rack(&self, p: u32) -> u32 {
        if self.count == 1 {
            0
        } else {
            self.rack_of[p as usize]
        }
    }

    /// Whether a transfer from `a` to `b` leaves a rack.
    pub(super) fn crosses(&self, a: u32, b: u32) -> bool {
        self.rack(a) != self.rack(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placements_respect_the_rack_size() {
        for placement in [Placement::RoundRobin, Placement::Random] {
            let t = TopologyConfig {
                hosts_per_rack: 4,
                placement,
                ..TopologyConfig::default()
            };
            let racks = Racks::place(&t, 10, 7);
            assert_eq!(racks.count, 3);
            let mut per = [0; 3];
            for h in 0..10 {
                per[racks.rack(h) as usize] += 1;
            }
            assert!(per.iter().all(|&n| n <= 4), "{placement:?}: {per:?}");
        }
        let t = TopologyConfig::default();
        assert_eq!(Racks::place(&t, 0, 1).count, 1);
    }
}
