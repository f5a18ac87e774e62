//! `[limits]`: guards against runaway runs.

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};

/// `[limits]`: a run that exceeds either stops with an error naming the
/// limit, instead of running on (a scenario that never drains, a typo that
/// asks for a million VMs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most events one run may process (`--max-events`).
    pub max_events: Option<u64>,
    /// Latest simulated time one run may reach, in s (`--max-sim-time`).
    pub max_sim_time_s: Option<f64>,
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
        Ok(())
    }
}
