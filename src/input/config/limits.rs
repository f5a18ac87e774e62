//! `[limits]`: guards against runaway runs, during a run (events, simulated
//! time) and before it (estimated memory and work).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};
use super::estimate::{Driver, Estimate, RunSize};
use super::workload::ArrivalKind;
use super::{Config, ContentKind};

/// Default of `limits.max_memory_gb`.
pub const DEFAULT_MAX_MEMORY_GB: f64 = 8.0;

/// Default of `limits.max_block_transfers`: about 5 hours of simulation at
/// the half a million block transfers a second of one core.
pub const DEFAULT_MAX_BLOCK_TRANSFERS: f64 = 1e10;

/// Default of `limits.purge_stale_holders`: 4 M entries, 16 MB.
pub const DEFAULT_PURGE_STALE_HOLDERS: u64 = 4_000_000;

/// Default of `limits.purge_departed_peers`.
pub const DEFAULT_PURGE_DEPARTED_PEERS: u64 = 10_000;

/// `[limits]`: a run that exceeds either stops with an error naming the
/// limit, instead of running on (a scenario that never drains, a typo that
/// asks for a million VMs). A config whose estimated memory or work is above
/// its limit fails before anything runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most events one run may process (`--max-events`).
    pub max_events: Option<u64>,
    /// Latest simulated time one run may reach, in s (`--max-sim-time`).
    pub max_sim_time_s: Option<f64>,
    /// Most memory a run may be estimated to need, in GB (10^9 bytes);
    /// default [`DEFAULT_MAX_MEMORY_GB`].
    pub max_memory_gb: Option<f64>,
    /// Most block transfers a run may be estimated to take, over all its
    /// policies; default [`DEFAULT_MAX_BLOCK_TRANSFERS`].
    pub max_block_transfers: Option<f64>,
    /// Departed peers' entries in the holder lists (and waiting queues)
    /// are purged once there are more than this many and more than present
    /// holders' entries; default [`DEFAULT_PURGE_STALE_HOLDERS`]. A memory
    /// bound for long runs; of the bundled configs only `million.toml`
    /// reaches it.
    pub purge_stale_holders: Option<u64>,
    /// They are also purged once more than this many peers departed since
    /// the last purge, and more than are present (under `workload.stream` a
    /// departed peer's slot is reused only after a purge); default
    /// [`DEFAULT_PURGE_DEPARTED_PEERS`].
    pub purge_departed_peers: Option<u64>,
}

impl LimitsConfig {
    /// Check the section's ranges; the error names the first bad key.
    pub(crate) fn validate(&self, check: &Checks) -> Result<(), ConfigError> {
        if self.max_events == Some(0) {
            return Err(check.err("limits.max_events", "must be at least 1 (got 0)".into()));
        }
        if let Some(t) = self.max_sim_time_s {
            check.positive("limits.max_sim_time_s", t)?;
        }
        if let Some(gb) = self.max_memory_gb {
            check.positive("limits.max_memory_gb", gb)?;
        }
        if let Some(n) = self.max_block_transfers {
            check.positive("limits.max_block_transfers", n)?;
        }
        Ok(())
    }

    /// The departures that make a purge due (see `purge_departed_peers`).
    pub fn purge_departed_peers(&self) -> usize {
        self.purge_departed_peers
            .unwrap_or(DEFAULT_PURGE_DEPARTED_PEERS) as usize
    }

    /// The purge threshold in use (holder entries).
    pub fn purge_stale_holders(&self) -> usize {
        self.purge_stale_holders
            .unwrap_or(DEFAULT_PURGE_STALE_HOLDERS) as usize
    }

    /// The memory limit in use (GB).
    pub fn memory_gb(&self) -> f64 {
        self.max_memory_gb.unwrap_or(DEFAULT_MAX_MEMORY_GB)
    }

    /// The work limit in use (block transfers).
    pub fn block_transfers(&self) -> f64 {
        self.max_block_transfers
            .unwrap_or(DEFAULT_MAX_BLOCK_TRANSFERS)
    }
}

impl Config {
    /// Check a run of this config on content and a workload of `size`
    /// against `limits.max_memory_gb` and `limits.max_block_transfers`; the
    /// error (naming `file`) gives the estimate and the key that drives it.
    pub fn check_cost(&self, size: &RunSize, file: &Path) -> Result<(), ConfigError> {
        let e = size.estimate(self);
        let check = Checks::new(file);
        let limit_gb = self.limits.memory_gb();
        let gb = e.memory_bytes / 1e9;
        if gb > limit_gb {
            let (key, what, hint) = self.blame(e.memory_driver, size, &e, false);
            return Err(check.err(
                key,
                format!(
                    "about {} GB {what}; the limit is {limit_gb} GB (limits.max_memory_gb); {hint}",
                    round_gb(gb)
                ),
            ));
        }
        let limit = self.limits.block_transfers();
        if e.block_transfers > limit {
            let (key, what, hint) = self.blame(e.work_driver, size, &e, true);
            return Err(check.err(
                key,
                format!(
                    "about {:.1e} block transfers {what}; the limit is {limit:.1e} \
                     (limits.max_block_transfers); {hint}",
                    e.block_transfers
                ),
            ));
        }
        Ok(())
    }

    /// The key an estimate blames, what it is for, and what to change.
    fn blame(
        &self,
        driver: Driver,
        size: &RunSize,
        e: &Estimate,
        work: bool,
    ) -> (&'static str, String, &'static str) {
        let k = size.images.max(1.0);
        match driver {
            Driver::Requests => {
                let what = if work {
                    format!(
                        "for {} requests x {:.0} blocks x {} policies",
                        count(size.requests),
                        size.image_blocks / k,
                        self.policies.len()
                    )
                } else {
                    format!("for {} requests", count(size.requests))
                };
                let (key, hint) = match self.workload.arrivals {
                    ArrivalKind::Poisson => ("workload.rate_per_s", "lower the rate or the window"),
                    ArrivalKind::Burst => ("workload.burst_count", "lower the burst count"),
                    ArrivalKind::Trace => ("workload.trace", "use a shorter trace"),
                };
                (key, what, hint)
            }
            Driver::Content => {
                let what = if work {
                    format!(
                        "to compare {} pairs of images for the content report",
                        count(k * (k - 1.0) / 2.0)
                    )
                } else {
                    format!(
                        "for {k:.0} images of {:.0} chunks of {:.0} blocks",
                        size.image_chunks / k,
                        size.image_blocks / size.image_chunks.max(1.0)
                    )
                };
                // Rack locality keeps each key's lists and queues per rack.
                let racks = size.locality_racks(self);
                if racks > 0.0 && !work {
                    let what = format!("{what}, listed per key in each of {} racks", count(racks));
                    return ("topology.hosts_per_rack", what, "use fewer, larger racks");
                }
                match self.content.kind {
                    ContentKind::Manifest => ("content.manifest", what, "use a smaller manifest"),
                    _ => ("content.images", what, "use fewer images, chunks or blocks"),
                }
            }
            Driver::Ticks => (
                "server.tick_s",
                format!(
                    "for {} ticks of server.tick_s = {} s",
                    count(e.ticks),
                    self.server.tick_s
                ),
                "raise server.tick_s or shorten the arrivals",
            ),
        }
    }
}

/// GB for a message, to two significant digits (whole from 10 GB).
fn round_gb(gb: f64) -> String {
    let decimals = (1.0 - gb.log10().floor()).clamp(0.0, 9.0) as usize;
    format!("{gb:.decimals$}")
}

/// A count for a message: whole below a million, else in exponent form.
fn count(n: f64) -> String {
    if n < 1e6 {
        format!("{n:.0}")
    } else {
        format!("{n:.1e}")
    }
}
