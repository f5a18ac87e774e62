//! Criterion benchmark of the event engine alone. Whole runs are in
//! `benches/simulate.rs`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

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
                    // The event of handle j is j; a moved one gets a new handle.
                    let j = (i as usize * 31) % ids.len();
                    if let Some(moved) = e.reschedule(ids[j], t + 0.5, j as u64) {
                        ids[j] = moved;
                    }
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

criterion_group!(benches, engine_queue);
criterion_main!(benches);
