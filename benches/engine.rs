//! Criterion benchmarks: the event engine alone, and whole small runs of
//! each preset (events and block transfers per second).

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

use vmswarm::input::config::Config;
use vmswarm::scenario::Scenario;
use vmswarm::sim::engine::Engine;

fn engine_queue(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    let n = 100_000u64;
    group.throughput(Throughput::Elements(n));
    group.bench_function("schedule_reschedule_pop_100k", |b| {
        b.iter(|| {
            let mut e: Engine<u64> = Engine::new();
            let mut ids = Vec::with_capacity(1000);
            for i in 0..n {
                // A rolling window of 1000 pending events, a third rescheduled.
                let t = e.now_s() + ((i * 7919) % 1000) as f64 * 1e-3;
                ids.push(e.schedule(t, i));
                if i % 3 == 0 {
                    let id = ids[(i as usize * 31) % ids.len()];
                    e.reschedule(id, t + 0.5);
                }
                if e.pending() > 1000 {
                    black_box(e.pop());
                }
            }
            while e.pop().is_some() {}
            black_box(e.processed())
        })
    });
    group.finish();
}

const SCENARIO: &str = r#"
seed = 11
[content]
images = 6
chunks_per_image = 8
blocks_per_chunk = 32
common_ratio = 0.3
[workload]
rate_per_s = 2.0
window_s = 60.0
lifetime_min_s = 20.0
lifetime_max_s = 40.0
[server]
u_s_mbps = 2048.0
"#;

fn presets(c: &mut Criterion) {
    let config = Config::parse(SCENARIO, Path::new("bench.toml")).expect("valid");
    let scenario = Scenario::build(&config).expect("builds");
    let mut group = c.benchmark_group("simulate");
    group.sample_size(10);
    for policy in config.resolved_policies() {
        let transfers = scenario
            .run_policy(&policy, &mut || {})
            .expect("runs")
            .output
            .counters
            .block_transfers;
        group.throughput(Throughput::Elements(transfers));
        group.bench_function(policy.name.clone(), |b| {
            b.iter(|| {
                black_box(
                    scenario
                        .run_policy(&policy, &mut || {})
                        .expect("runs")
                        .summary
                        .mean_vm_s,
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, engine_queue, presets);
criterion_main!(benches);
