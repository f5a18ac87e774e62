//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::Path;

use vmswarm::input::config::Config;
use vmswarm::scenario::{PolicyRun, Scenario};

/// A small scenario (4 images x 4 chunks x 16 blocks, 60 s of arrivals) that
/// still has every mechanism: shared chunks, Zipf demand, seeding, departures.
pub const SMALL: &str = r#"
name = "small"
seed = 7
[content]
images = 4
chunks_per_image = 4
blocks_per_chunk = 16
block_mb = 4.0
common_ratio = 0.3
[workload]
rate_per_s = 1.5
window_s = 60.0
lifetime_min_s = 5.0
lifetime_max_s = 15.0
[peers]
upload_mbps = 64.0
[server]
u_s_mbps = 256.0
"#;

/// Parse config text (panics on error: tests write valid configs).
pub fn config(text: &str) -> Config {
    Config::parse(text, Path::new("test.toml")).expect("test config is valid")
}

/// Run every policy of a config.
pub fn run_all(config: &Config) -> (Scenario, Vec<PolicyRun>) {
    let scenario = Scenario::build(config).expect("scenario builds");
    let runs = config
        .resolved_policies()
        .iter()
        .map(|p| scenario.run_policy(p, &mut |_| {}).expect("run succeeds"))
        .collect();
    (scenario, runs)
}
