//! The machine's memory latency, measured beside the bench's runs.
//!
//! The simulator's wall time follows how long a load that misses a core's
//! private cache takes, far more than the load average says: a run of the
//! paper's default misses the 512 KiB private cache about twice per block
//! (cachegrind, README "Speed"), mostly on sampled holder-list entries, so
//! whether the shared cache answers (some 15 ns) or memory does (some
//! 200 ns, when neighbours on a cloud host fill the shared cache) makes a
//! run two or three times slower with the load average near 0. So the bench
//! measures, before each round, one step of a chase of dependent loads
//! through three spans of memory: one a core's private cache holds
//! (256 KiB), one a quiet shared cache holds (8 MiB), and one no cache
//! holds (64 MiB). Tables are comparable when these are.
//!
//! The chase follows one random cycle through every cache line of the span
//! (so the hardware prefetchers cannot guess the next line, and no step
//! finds a line a short loop left in cache), each step reading the index
//! of the next line from the line itself.

use std::time::Instant;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::SliceRandom;

/// Bytes of a cache line: one step of the chase reads one.
const LINE_BYTES: usize = 64;

/// `u32`s in a line.
const LINE_WORDS: usize = LINE_BYTES / 4;

/// The spans chased (bytes): a core's private cache (256 KiB), a shared
/// cache when no neighbour competes for it (8 MiB), and memory (64 MiB).
pub const SPANS_BYTES: [usize; 3] = [256 << 10, 8 << 20, 64 << 20];

/// Timed steps of one chase at least: enough that a chase of the smallest
/// span takes milliseconds, not microseconds.
const MIN_STEPS: usize = 1 << 20;

/// Nanoseconds a dependent load took, per span of [`SPANS_BYTES`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryLatency {
    /// One step of the chase through each span (ns), smallest span first.
    pub ns: [f64; 3],
}

impl MemoryLatency {
    /// Measure each span in turn (well under a second in all on a quiet
    /// machine; longer when memory is slow).
    pub fn measure() -> MemoryLatency {
        MemoryLatency {
            ns: SPANS_BYTES.map(chase_ns),
        }
    }

    /// `dependent loads 6.7 ns (256 KiB), 33.0 ns (8 MiB), 209.8 ns (64 MiB)`.
    pub fn describe(&self) -> String {
        let spans = SPANS_BYTES.iter().zip(self.ns).map(|(&bytes, ns)| {
            let size = if bytes >= 1 << 20 {
                format!("{} MiB", bytes >> 20)
            } else {
                format!("{} KiB", bytes >> 10)
            };
            format!("{ns:.1} ns ({size})")
        });
        format!("dependent loads {}", spans.collect::<Vec<_>>().join(", "))
    }
}

/// Lines of `bytes` linked into one random cycle: the first word of line
/// `i` is the index of the line after it.
fn cycle(bytes: usize) -> Vec<u32> {
    let lines = (bytes / LINE_BYTES).max(2);
    // A fixed seed: the cycle's shape is the same on every machine.
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    let mut order: Vec<u32> = (0..lines as u32).collect();
    order.shuffle(&mut rng);
    let mut memory = vec![0u32; lines * LINE_WORDS];
    for (i, &line) in order.iter().enumerate() {
        memory[line as usize * LINE_WORDS] = order[(i + 1) % lines];
    }
    memory
}

/// Follow the cycle from line 0 for `steps` steps; the line reached.
fn follow(memory: &[u32], steps: usize) -> u32 {
    let mut line = 0u32;
    for _ in 0..steps {
        line = memory[line as usize * LINE_WORDS];
    }
    line
}

/// One step of a chase through `bytes` (ns): a whole lap untimed, to bring
/// in what the caches can hold, then at least [`MIN_STEPS`] timed.
fn chase_ns(bytes: usize) -> f64 {
    let memory = cycle(bytes);
    let lines = memory.len() / LINE_WORDS;
    std::hint::black_box(follow(&memory, lines));
    let steps = lines.max(MIN_STEPS);
    let start = Instant::now();
    std::hint::black_box(follow(std::hint::black_box(&memory), steps));
    start.elapsed().as_secs_f64() * 1e9 / steps as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chase_visits_every_line_once_a_lap() {
        // A chase caught in a short loop would measure a cache, not memory.
        for bytes in [128, 64 * 7, 64 << 10] {
            let memory = cycle(bytes);
            let lines = memory.len() / LINE_WORDS;
            let mut seen = vec![false; lines];
            let mut line = 0u32;
            for _ in 0..lines {
                assert!(!seen[line as usize], "line {line} twice in a lap");
                seen[line as usize] = true;
                line = memory[line as usize * LINE_WORDS];
            }
            assert_eq!(line, 0, "a lap ends where it began");
            assert!(seen.iter().all(|&s| s));
            assert_eq!(follow(&memory, lines), 0);
        }
    }

    #[test]
    fn spans_are_described_in_kib_and_mib() {
        let latency = MemoryLatency {
            ns: [6.71, 33.0, 209.84],
        };
        assert_eq!(
            latency.describe(),
            "dependent loads 6.7 ns (256 KiB), 33.0 ns (8 MiB), 209.8 ns (64 MiB)"
        );
    }
}
