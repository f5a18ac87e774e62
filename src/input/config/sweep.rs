//! `[sweep]`: a parameter grid, for `vmswarm sweep` and the figures.

use serde::{Deserialize, Serialize};

use super::Config;
use super::errors::{Checks, ConfigError};

/// `[sweep]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepConfig {
    /// Independent replications per grid point.
    pub replications: usize,
    /// Policy that paired differences are taken against (default: the
    /// config's first policy).
    pub baseline: Option<String>,
    /// The grid's axes, outermost first.
    pub axis: Vec<Axis>,
    /// What `--quick` changes.
    pub quick: Option<QuickConfig>,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            replications: 1,
            baseline: None,
            axis: Vec::new(),
            quick: None,
        }
    }
}

/// One axis of the grid: a dotted config key and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Dotted key, e.g. `workload.rate_per_s`.
    pub key: String,
    /// Values, in order.
    pub values: Vec<toml::Value>,
}

/// `[sweep.quick]`: a reduced sweep for trying things out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuickConfig {
    /// Replications in quick mode.
    pub replications: Option<usize>,
    /// Config values set in quick mode (dotted key -> value).
    pub set: toml::Table,
    /// Axes replacing those of the same key in quick mode.
    pub axis: Vec<Axis>,
}

impl Default for QuickConfig {
    fn default() -> Self {
        QuickConfig {
            replications: None,
            set: toml::Table::new(),
            axis: Vec::new(),
        }
    }
}

impl SweepConfig {
    /// Check the section's counts and that the baseline is a policy of
    /// `config`. The grid's values are checked when the sweep is expanded.
    pub(crate) fn validate(&self, config: &Config, check: &Checks) -> Result<(), ConfigError> {
        check.at_least_one("sweep.replications", self.replications as u64)?;
        if let Some(q) = &self.quick
            && q.replications == Some(0)
        {
            return Err(check.err(
                "sweep.quick.replications",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if let Some(b) = &self.baseline
            && config.find_policy(b).is_none()
        {
            return Err(check.err(
                "sweep.baseline",
                format!(
                    "unknown policy `{b}`; allowed: one of the policies run ({})",
                    config.policies.join(", ")
                ),
            ));
        }
        Ok(())
    }
}
