//! Config text -> `Config::parse`; when it parses, `Sweep::new` (normal and
//! `--quick`) and `Scenario::build` on the config and on the first grid
//! points, as long as the scenario is small. Properties: no panic, and every
//! error's Display starts with the file's name.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vmswarm::input::config::{ArrivalKind, Config, ConfigError, ContentKind};
use vmswarm::scenario::Scenario;
use vmswarm::experiments::sweep::Sweep;

const FILE: &str = "fuzz-config.toml";

/// Largest images x chunks x blocks (or initial seeders) built.
const MAX_BLOCKS: f64 = 1e5;
/// Largest expected number of requests built.
const MAX_REQUESTS: f64 = 1e4;
/// Largest grid expanded.
const MAX_POINTS: usize = 64;
/// Grid points whose scenario is built.
const BUILT_POINTS: usize = 4;

fn check_error(e: &ConfigError) {
    let shown = e.to_string();
    assert!(
        shown.starts_with(FILE),
        "error does not name the file: {shown:?}"
    );
}

/// Whether the config's scenario is small enough to build: allocation size
/// is not a bug. Manifests and traces are read from disk, so they are left
/// to their own targets.
fn small(c: &Config) -> bool {
    let k = c.content.images as f64;
    let chunks = c.content.chunks_per_image as f64;
    let blocks = c.content.blocks_per_chunk as f64;
    let w = &c.workload;
    if c.content.kind == ContentKind::Manifest || w.arrivals == ArrivalKind::Trace {
        return false;
    }
    if k * chunks * blocks > MAX_BLOCKS || k * w.initial_seeders as f64 > MAX_BLOCKS {
        return false;
    }
    match w.arrivals {
        ArrivalKind::Poisson => w.rate_per_s * w.window_s <= MAX_REQUESTS,
        ArrivalKind::Burst => w.burst_count as f64 <= MAX_REQUESTS,
        ArrivalKind::Trace => false,
    }
}

fn build(c: &Config) {
    if !small(c) {
        return;
    }
    match Scenario::build(c) {
        Ok(s) => {
            assert!(!s.content.images.is_empty());
            for r in &s.workload.requests {
                assert!(r.image < s.content.images.len());
                assert!(r.arrival_s.is_finite() && r.arrival_s >= 0.0);
            }
        }
        Err(e) => check_error(&e),
    }
}

/// An upper bound of the grid's size with or without `--quick`.
fn grid_points(c: &Config) -> usize {
    let mut n = 1usize;
    for a in &c.sweep.axis {
        n = n.saturating_mul(a.values.len().max(1));
    }
    if let Some(q) = &c.sweep.quick {
        for a in &q.axis {
            n = n.saturating_mul(a.values.len().max(1));
        }
    }
    n
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new(FILE);
    let config = match Config::parse(text, path) {
        Ok(c) => c,
        Err(e) => {
            check_error(&e);
            return;
        }
    };
    build(&config);
    if grid_points(&config) > MAX_POINTS {
        return;
    }
    for quick in [false, true] {
        match Sweep::new(&config, quick, path) {
            Ok(sweep) => {
                assert!(!sweep.points.is_empty());
                assert!(sweep.replications >= 1);
                for p in sweep.points.iter().take(BUILT_POINTS) {
                    build(&p.config);
                }
            }
            Err(e) => check_error(&e),
        }
    }
});
