//! The machine's memory latency, measured beside the bench's runs.
//!
//! The simulator's wall time depends on how long a load that misses a
//! core's private cache takes, which the load average does not show: a
//! run of the paper's default misses a 512 KiB private cache 1.9-2.8 times
//! per block (cachegrind, docs/speed.md), half of them on sampled
//! holder-list entries, so it matters whether the shared cache answers
//! (tens of ns) or memory does (some 200 ns, when neighbours on a cloud
//! host fill the shared cache). On the machine of docs/speed.md the same
//! code ran 1.5-2.6 times slower on such a day, with the load average
//! near 0. So the bench measures, before each round, one step of a chase
//! of dependent loads through three spans of memory: one a core's private
//! cache holds (256 KiB), one a quiet shared cache holds (8 MiB), and one
//! no cache holds (64 MiB). Two tables whose probes differ much were
//! measured on different machines, in effect.
//!
//! The chase follows one random cycle through every cache line of the span
//! (so the hardware prefetchers cannot guess the next line, and no step
//! finds a line a short loop left in cache), each step reading the index
//! of the next line from the line itself. Its lines lie on random 4 KiB
//! pages, so the larger spans' steps include address-translation misses,
//! as the simulator's own random loads did before the binary asked for
//! huge pages (and still do where the kernel gives none).

use std::time::Instant;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::sim::CACHE_LINE_BYTES;

/// `u32`s in a cache line.
const LINE_WORDS: usize = CACHE_LINE_BYTES / 4;

/// A span a core's private cache holds.
pub const PRIVATE_SPAN_BYTES: usize = 256 << 10;
/// A span a shared cache holds when no neighbour competes for it.
pub const SHARED_SPAN_BYTES: usize = 8 << 20;
/// A span no cache holds.
pub const MEMORY_SPAN_BYTES: usize = 64 << 20;

/// Timed steps of one chase at least: enough that a chase of the smallest
/// span takes milliseconds, not microseconds.
const MIN_STEPS: usize = 1 << 20;

/// Untimed steps before the timed ones, at most: a lap of the shared span
/// (warming the caches pays only for spans they can hold).
const MAX_WARM_STEPS: usize = SHARED_SPAN_BYTES / CACHE_LINE_BYTES;

/// Nanoseconds one dependent load took, per span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryLatency {
    /// Through [`PRIVATE_SPAN_BYTES`] (ns).
    pub private_ns: f64,
    /// Through [`SHARED_SPAN_BYTES`] (ns).
    pub shared_ns: f64,
    /// Through [`MEMORY_SPAN_BYTES`] (ns).
    pub memory_ns: f64,
}

impl MemoryLatency {
    /// Measure each span in turn, smallest first (about a second).
    ///
    /// One buffer of the largest span serves all three, its first lines
    /// for the smaller ones. It is above the 32 MiB up to which freeing a
    /// block raises glibc's threshold for mapping blocks of their own, so
    /// the probe leaves the allocator as it found it for the runs after.
    /// It is kept in 4 KiB pages, even under the binary's allocator
    /// ([`crate::huge_pages`]), so that its steps compare with those of
    /// the tables measured before that allocator asked for huge pages.
    pub fn measure() -> MemoryLatency {
        let mut memory = crate::huge_pages::without(|| vec![0u32; MEMORY_SPAN_BYTES / 4]);
        let mut chase = |bytes: usize| chase_ns(&mut memory[..bytes / 4]);
        MemoryLatency {
            private_ns: chase(PRIVATE_SPAN_BYTES),
            shared_ns: chase(SHARED_SPAN_BYTES),
            memory_ns: chase(MEMORY_SPAN_BYTES),
        }
    }

    /// `dependent loads 9.2 ns (256 KiB), 177.7 ns (8 MiB), 213.7 ns (64 MiB)`.
    pub fn describe(&self) -> String {
        format!(
            "dependent loads {:.1} ns (256 KiB), {:.1} ns (8 MiB), {:.1} ns (64 MiB)",
            self.private_ns, self.shared_ns, self.memory_ns
        )
    }
}

/// Link the lines of `memory` into one random cycle (Sattolo's shuffle,
/// in place): the first word of line `i` is the index of the line after
/// it. The seed is fixed, so the cycle is the same on every machine.
fn link_cycle(memory: &mut [u32]) {
    let lines = memory.len() / LINE_WORDS;
    for i in 0..lines {
        memory[i * LINE_WORDS] = i as u32;
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed);
    for i in (1..lines).rev() {
        // j < i, never i itself: that is what leaves one cycle.
        let j = rng.random_range(0..i);
        memory.swap(i * LINE_WORDS, j * LINE_WORDS);
    }
}

/// Follow the cycle from line 0 for `steps` steps; the line reached.
fn follow(memory: &[u32], steps: usize) -> u32 {
    let mut line = 0u32;
    for _ in 0..steps {
        line = memory[line as usize * LINE_WORDS];
    }
    line
}

/// One step of a chase through `memory` (ns): up to a lap untimed, to
/// bring in what the caches can hold, then at least [`MIN_STEPS`] timed.
fn chase_ns(memory: &mut [u32]) -> f64 {
    link_cycle(memory);
    let lines = memory.len() / LINE_WORDS;
    std::hint::black_box(follow(memory, lines.min(MAX_WARM_STEPS)));
    let steps = lines.max(MIN_STEPS);
    let start = Instant::now();
    std::hint::black_box(follow(std::hint::black_box(memory), steps));
    start.elapsed().as_secs_f64() * 1e9 / steps as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chase_visits_every_line_once_a_lap() {
        // A chase caught in a short loop would measure a cache, not memory.
        for lines in [1, 2, 7, 1024] {
            let mut memory = vec![0u32; lines * LINE_WORDS];
            link_cycle(&mut memory);
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
    fn the_spans_are_described_in_order() {
        let latency = MemoryLatency {
            private_ns: 9.21,
            shared_ns: 177.7,
            memory_ns: 213.74,
        };
        assert_eq!(
            latency.describe(),
            "dependent loads 9.2 ns (256 KiB), 177.7 ns (8 MiB), 213.7 ns (64 MiB)"
        );
    }
}
