//! Criterion benchmarks of whole runs, in block transfers per second
//! (`Throughput::Elements`): a small paper-like scenario under each preset,
//! and the flash crowd of `configs/flash-crowd.toml` at 2,000 hosts.
//! `vmswarm bench` measures the big scenarios once each; these measure small
//! ones many times, to see a change's effect with error bars.
//!
//! ```sh
//! cargo bench --bench simulate        # about a minute
//! ```

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use criterion::{criterion_group, criterion_main};

use vmswarm::experiments::bench::{FLASH_CROWD, split_hosts};
use vmswarm::input::config::{Config, PolicyDef};
use vmswarm::scenario::Scenario;

/// The paper's setup scaled down (6 images of 8 x 32 blocks, 60 s of
/// arrivals): about 120 VMs, some 20 ms a run.
const PAPER_LIKE: &str = r#"
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

/// Flash crowd hosts: big enough that the crowd's per-event costs show,
/// small enough for many samples.
const FLASH_HOSTS: u64 = 2_000;

/// Few samples of whole runs: each is long enough to time on its own, and
/// the whole file should finish in about a minute.
fn whole_runs<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group
}

/// Benchmark `policy` on `scenario` as one function of `group`, with its
/// block transfers (from one run first) as the throughput.
fn bench_run(group: &mut BenchmarkGroup<WallTime>, scenario: &Scenario, policy: &PolicyDef) {
    let transfers = scenario
        .run_policy(policy, &mut |_| {})
        .expect("runs")
        .output
        .counters
        .block_transfers;
    group.throughput(Throughput::Elements(transfers));
    group.bench_function(policy.name.clone(), |b| {
        b.iter(|| {
            black_box(
                scenario
                    .run_policy(policy, &mut |_| {})
                    .expect("runs")
                    .summary
                    .mean_vm_s,
            )
        })
    });
}

fn paper_like(c: &mut Criterion) {
    let config = Config::parse(PAPER_LIKE, Path::new("bench.toml")).expect("valid");
    let scenario = Scenario::build(&config).expect("builds");
    let mut group = whole_runs(c, "simulate");
    for policy in config.resolved_policies() {
        bench_run(&mut group, &scenario, &policy);
    }
    group.finish();
}

fn flash_crowd(c: &mut Criterion) {
    let mut config = FLASH_CROWD.config().expect("the bundled config is valid");
    let (seeders, leechers) = split_hosts(FLASH_HOSTS);
    config.workload.initial_seeders = seeders;
    config.workload.burst_count = leechers;
    let scenario = Scenario::build(&config).expect("builds");
    let mut group = whole_runs(c, &format!("flash_crowd_{FLASH_HOSTS}"));
    // One policy: with one image and no server every preset runs the same
    // simulation (see the config).
    for policy in config.resolved_policies() {
        bench_run(&mut group, &scenario, &policy);
    }
    group.finish();
}

criterion_group!(benches, paper_like, flash_crowd);
criterion_main!(benches);
