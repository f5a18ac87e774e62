//! `[workload]`: who asks for which image, and when.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};

/// How request arrivals are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArrivalKind {
    /// Poisson process of rate `rate_per_s` during `[0, window_s)`.
    Poisson,
    /// A flash crowd: `burst_count` requests spread uniformly over `[0, burst_spread_s]`.
    Burst,
    /// Arrivals read from a CSV trace (`time_s,image`).
    Trace,
}

/// How a request picks its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PopularityKind {
    /// `p_i` proportional to `1 / i^s`, image 1 the hottest.
    Zipf,
    /// `p_i = 1 / K`.
    Uniform,
}

/// `[workload]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// `poisson`, `burst` or `trace`.
    pub arrivals: ArrivalKind,
    /// `lambda`: total request rate (req/s), for `poisson`.
    pub rate_per_s: f64,
    /// Arrival window (s), for `poisson`.
    pub window_s: f64,
    /// VMs arriving before this time (s) are simulated but left out of the
    /// statistics. Default: 10% of the window.
    pub warmup_s: Option<f64>,
    /// Number of requests, for `burst`.
    pub burst_count: usize,
    /// The burst's requests are spread uniformly over `[0, burst_spread_s]`
    /// (0: all at time 0).
    pub burst_spread_s: f64,
    /// Path of the trace (`trace` only), relative to the config file.
    pub trace: Option<PathBuf>,
    /// `zipf` or `uniform`.
    pub popularity: PopularityKind,
    /// `s`: the Zipf exponent.
    pub zipf_exponent: f64,
    /// Shortest time (s) a VM seeds after it completes.
    pub lifetime_min_s: f64,
    /// Longest time (s) a VM seeds after it completes.
    pub lifetime_max_s: f64,
    /// Peers per image that hold the image at time 0 and never leave (a
    /// registry's preheat).
    pub initial_seeders: usize,
    /// Stream a long `poisson` run: draw each arrival as the run reaches
    /// it, reuse a departed peer's memory for the next arrival, and write
    /// `vms.csv` rows as VMs complete, so memory follows the peers present
    /// at once rather than all requests (docs/model.md section 2). The
    /// requests, and so the results, are the same as without it. Left out
    /// of a manifest when off, as configs before it had no such key.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            arrivals: ArrivalKind::Poisson,
            rate_per_s: 2.0,
            window_s: 300.0,
            warmup_s: None,
            burst_count: 100,
            burst_spread_s: 0.0,
            trace: None,
            popularity: PopularityKind::Zipf,
            zipf_exponent: 1.0,
            lifetime_min_s: 50.0,
            lifetime_max_s: 100.0,
            initial_seeders: 0,
            stream: false,
        }
    }
}

impl WorkloadConfig {
    /// The warm-up actually used: `warmup_s`, or 10% of the arrival window.
    pub fn warmup_s(&self) -> f64 {
        self.warmup_s.unwrap_or(0.1 * self.window_s)
    }

    /// Check the section's ranges; the error names the first bad key.
    pub(crate) fn validate(&self, check: &Checks) -> Result<(), ConfigError> {
        match self.arrivals {
            ArrivalKind::Poisson => {
                check.positive("workload.rate_per_s", self.rate_per_s)?;
                check.positive("workload.window_s", self.window_s)?;
            }
            ArrivalKind::Burst => {
                check.at_least_one("workload.burst_count", self.burst_count as u64)?;
                check.non_negative("workload.burst_spread_s", self.burst_spread_s)?;
            }
            ArrivalKind::Trace => {
                if self.trace.is_none() {
                    return Err(check.err(
                        "workload.trace",
                        "is required when workload.arrivals = \"trace\"".into(),
                    ));
                }
            }
        }
        if let Some(warmup) = self.warmup_s {
            check.non_negative("workload.warmup_s", warmup)?;
            if self.arrivals == ArrivalKind::Poisson && warmup >= self.window_s {
                return Err(check.err(
                    "workload.warmup_s",
                    format!(
                        "must be < workload.window_s ({warmup} >= {}): no VM would be counted",
                        self.window_s
                    ),
                ));
            }
        }
        if self.stream && self.arrivals != ArrivalKind::Poisson {
            return Err(check.err(
                "workload.stream",
                "is allowed only with workload.arrivals = \"poisson\" (a burst is sorted and a \
                 trace is read whole before the run)"
                    .into(),
            ));
        }
        check.non_negative("workload.zipf_exponent", self.zipf_exponent)?;
        check.non_negative("workload.lifetime_min_s", self.lifetime_min_s)?;
        check.non_negative("workload.lifetime_max_s", self.lifetime_max_s)?;
        if self.lifetime_max_s < self.lifetime_min_s {
            return Err(check.err(
                "workload.lifetime_max_s",
                format!(
                    "must be >= workload.lifetime_min_s ({} < {})",
                    self.lifetime_max_s, self.lifetime_min_s
                ),
            ));
        }
        Ok(())
    }
}
