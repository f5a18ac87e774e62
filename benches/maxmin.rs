//! Criterion benchmarks of max-min sharing (`sim::maxmin`): flow churn
//! (remove one flow, add one) on a data center of 2,600 hosts in 65 racks
//! with 10,000 active flows, and on one resource against `FairShare`.
//! Throughput is operations (adds + removes) per second.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use vmswarm::sim::maxmin::{MaxMinNetwork, ResourceId};
use vmswarm::sim::transfer::{FairShare, FlowId};

const RACKS: usize = 65;
const HOSTS_PER_RACK: usize = 40;
const FLOWS: usize = 10_000;
/// Large enough that no flow finishes while the benchmark runs, so churn is
/// the only change.
const SIZE_MB: f64 = 1e12;

/// Where flows go. Anywhere: rack links join nearly all flows into one
/// component. Peers only within their rack: the server's flows still join the
/// racks into one component. Within racks and no server: 65 components.
#[derive(Clone, Copy, PartialEq)]
enum Traffic {
    CrossRack,
    InRack,
    InRackNoServer,
}

/// Hosts with 1 Gb/s NICs, racks with 10 Gb/s links (4:1 oversubscribed), a
/// server of 2 Gb/s; one flow in ten comes from the server (unless
/// `InRackNoServer`).
struct DataCenter {
    net: MaxMinNetwork,
    nic_up: Vec<ResourceId>,
    nic_down: Vec<ResourceId>,
    rack_up: Vec<ResourceId>,
    rack_down: Vec<ResourceId>,
    server: ResourceId,
    traffic: Traffic,
    rng: Xoshiro256PlusPlus,
}

impl DataCenter {
    fn new(traffic: Traffic) -> Self {
        let mut net = MaxMinNetwork::new();
        let hosts = RACKS * HOSTS_PER_RACK;
        let nic_up = (0..hosts).map(|_| net.add_resource(1000.0)).collect();
        let nic_down = (0..hosts).map(|_| net.add_resource(1000.0)).collect();
        let rack_up = (0..RACKS).map(|_| net.add_resource(10_000.0)).collect();
        let rack_down = (0..RACKS).map(|_| net.add_resource(10_000.0)).collect();
        let server = net.add_resource(2048.0);
        DataCenter {
            net,
            nic_up,
            nic_down,
            rack_up,
            rack_down,
            server,
            traffic,
            rng: Xoshiro256PlusPlus::seed_from_u64(10),
        }
    }

    /// The resources of a random transfer.
    fn random_path(&mut self) -> Vec<ResourceId> {
        let hosts = RACKS * HOSTS_PER_RACK;
        let dst = self.rng.random_range(0..hosts);
        let rack = |h: usize| h / HOSTS_PER_RACK;
        if self.traffic != Traffic::InRackNoServer && self.rng.random_range(0..10) == 0 {
            return vec![self.server, self.rack_down[rack(dst)], self.nic_down[dst]];
        }
        let src = match self.traffic {
            Traffic::CrossRack => self.rng.random_range(0..hosts),
            Traffic::InRack | Traffic::InRackNoServer => {
                rack(dst) * HOSTS_PER_RACK + self.rng.random_range(0..HOSTS_PER_RACK)
            }
        };
        if src == dst {
            vec![self.nic_down[dst]]
        } else if rack(src) == rack(dst) {
            vec![self.nic_up[src], self.nic_down[dst]]
        } else {
            let (rs, rd) = (rack(src), rack(dst));
            vec![
                self.nic_up[src],
                self.rack_up[rs],
                self.rack_down[rd],
                self.nic_down[dst],
            ]
        }
    }

    /// Fill with `FLOWS` flows in one batch (one recomputation).
    fn populate(&mut self) -> Vec<FlowId> {
        let paths: Vec<Vec<ResourceId>> = (0..FLOWS).map(|_| self.random_path()).collect();
        let flows = paths
            .iter()
            .enumerate()
            .map(|(i, p)| (i as FlowId, &p[..], SIZE_MB));
        self.net.add_flows(0.0, flows);
        (0..FLOWS as FlowId).collect()
    }
}

fn rack_churn(c: &mut Criterion) {
    let mut group = c.benchmark_group("maxmin_rack_10k_flows");
    group.throughput(Throughput::Elements(2));
    let cases = [
        ("cross_rack", Traffic::CrossRack),
        ("in_rack", Traffic::InRack),
        ("in_rack_no_server", Traffic::InRackNoServer),
    ];
    for (name, traffic) in cases {
        let mut dc = DataCenter::new(traffic);
        let mut active = dc.populate();
        let mut next_id = FLOWS as FlowId;
        let mut now_s = 0.0;
        group.bench_function(BenchmarkId::new("remove_add", name), |b| {
            b.iter(|| {
                now_s += 1e-3;
                let i = dc.rng.random_range(0..active.len());
                black_box(dc.net.remove_flow(now_s, active[i]));
                let path = dc.random_path();
                dc.net.add_flow(now_s, next_id, &path, SIZE_MB);
                active[i] = next_id;
                next_id += 1;
                black_box(dc.net.next_completion())
            })
        });
        let (resources, flows) = dc.net.last_component();
        println!("{name}: last component {resources} resources, {flows} flows");
    }
    group.finish();
}

/// One resource with `n` flows: max-min recomputes all of them per change,
/// `FairShare` does O(log n).
fn one_resource(c: &mut Criterion) {
    let mut group = c.benchmark_group("one_resource_churn");
    group.throughput(Throughput::Elements(2));
    for n in [10u32, 1000] {
        let mut net = MaxMinNetwork::new();
        let r = net.add_resource(1000.0);
        let path = [r];
        net.add_flows(0.0, (0..n).map(|f| (f, &path[..], SIZE_MB)));
        let mut share = FairShare::new(1000.0);
        for f in 0..n {
            share.add(0.0, f, SIZE_MB);
        }
        let (mut now_s, mut k) = (0.0, 0u32);
        group.bench_function(BenchmarkId::new("maxmin", n), |b| {
            b.iter(|| {
                now_s += 1e-3;
                black_box(net.remove_flow(now_s, k));
                net.add_flow(now_s, k + n, &[r], SIZE_MB);
                k += 1;
                black_box(net.next_completion())
            })
        });
        let (mut now_s, mut k) = (0.0, 0u32);
        group.bench_function(BenchmarkId::new("fair_share", n), |b| {
            b.iter(|| {
                now_s += 1e-3;
                black_box(share.remove(now_s, k));
                share.add(now_s, k + n, SIZE_MB);
                k += 1;
                black_box(share.next_completion())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rack_churn, one_resource);
criterion_main!(benches);
