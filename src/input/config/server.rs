//! `[server]`: the image server.

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};
use super::peers::MAX_RATE_MBPS;
use super::workload::{ArrivalKind, WorkloadConfig};

/// The most server ticks the arrivals may span (`window_s / tick_s`, or a
/// burst's spread or a trace's last request over `tick_s`). The server
/// re-allocates every tick, even while no one is downloading, so a longer
/// span makes a run that seems to hang.
pub const MAX_ARRIVAL_TICKS: f64 = 1e7;

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `u_s`: the image server's upload (Mb/s).
    pub u_s_mbps: f64,
    /// The allocation is re-set every `tick_s` seconds.
    pub tick_s: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            u_s_mbps: 5120.0,
            tick_s: 1.0,
        }
    }
}

impl ServerConfig {
    /// Check the section's ranges, and that the server can serve the
    /// `workload`: someone must hold the images, and the arrivals may span
    /// at most [`MAX_ARRIVAL_TICKS`] ticks.
    pub(crate) fn validate(
        &self,
        workload: &WorkloadConfig,
        check: &Checks,
    ) -> Result<(), ConfigError> {
        check.non_negative("server.u_s_mbps", self.u_s_mbps)?;
        check.at_most("server.u_s_mbps", self.u_s_mbps, MAX_RATE_MBPS)?;
        if self.u_s_mbps == 0.0 && workload.initial_seeders == 0 {
            return Err(check.err(
                "server.u_s_mbps",
                "must be > 0 when workload.initial_seeders = 0: the server is then the \
                 images' only source, and no VM could ever complete"
                    .into(),
            ));
        }
        check.positive("server.tick_s", self.tick_s)?;
        let span = match workload.arrivals {
            ArrivalKind::Poisson => Some(("workload.window_s", workload.window_s)),
            ArrivalKind::Burst => Some(("workload.burst_spread_s", workload.burst_spread_s)),
            ArrivalKind::Trace => None, // checked against the trace's last request
        };
        if let Some((key, span_s)) = span {
            let ticks = span_s / self.tick_s;
            if ticks > MAX_ARRIVAL_TICKS {
                return Err(check.err(
                    key,
                    format!(
                        "spans {ticks:.3e} ticks of server.tick_s = {} s; allowed: at most \
                         {MAX_ARRIVAL_TICKS:.0e} ticks (the server re-allocates every tick)",
                        self.tick_s
                    ),
                ));
            }
        }
        Ok(())
    }
}
