//! Criterion benchmarks of the allocation rules: one `allocate()` call (a
//! server tick) on a snapshot of 1,000 groups with demand, for our rules
//! (`oldest-first`, `fluid-mean`) beside the exact min-max and the paper's
//! subgradient rule. The snapshot is random but fixed (seeded), with the
//! fields the simulator fills: `R^g`, `P^g`, `S^g`, members and the oldest
//! member's age. `docs/policies.md` reports the times.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use vmswarm::policy::{
    AllocationRule, Exact, FluidMean, GroupState, OldestFirst, OldestFirstParams, Snapshot,
    Subgradient, SubgradientParams,
};

const GROUPS: usize = 1_000;
const U_S_MBPS: f64 = 5120.0;

/// `n` groups, 1 in 10 without demand; the others with up to 40 members.
fn groups(n: usize) -> Vec<GroupState> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    (0..n)
        .map(|_| {
            if rng.random::<f64>() < 0.1 {
                return GroupState::default();
            }
            let remaining_mb = 4.0 + rng.random::<f64>() * 4096.0 * 20.0;
            GroupState {
                remaining_mb,
                peer_upload_mbps: rng.random::<f64>() * 2000.0,
                popularity: rng.random::<f64>(),
                server_only_mb: remaining_mb * rng.random::<f64>() * 0.2,
                leechers: rng.random_range(1..40),
                oldest_leecher_age_s: rng.random::<f64>() * 60.0,
            }
        })
        .collect()
}

fn allocate(c: &mut Criterion) {
    let groups = groups(GROUPS);
    let snap = Snapshot {
        u_s_mbps: U_S_MBPS,
        groups: &groups,
    };
    let rules: Vec<Box<dyn AllocationRule>> = vec![
        Box::new(OldestFirst::new(OldestFirstParams::new(1.0))),
        Box::new(FluidMean::new(1.0, OldestFirstParams::FLOOR_SHARE)),
        Box::new(Exact::new()),
        Box::new(Subgradient::new(SubgradientParams::default())),
    ];
    let mut g = c.benchmark_group("allocate_1000_groups");
    g.measurement_time(Duration::from_secs(2));
    for mut rule in rules {
        let name = rule.name();
        g.bench_function(BenchmarkId::from_parameter(name), |b| {
            b.iter(|| black_box(rule.allocate(black_box(&snap))))
        });
    }
    g.finish();
}

criterion_group!(benches, allocate);
criterion_main!(benches);
