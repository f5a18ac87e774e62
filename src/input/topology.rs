//! `[topology]`: hosts in racks, rack links with capacities, and the
//! batching of max-min re-solves (docs/model.md section 9). Optional: a
//! config without it runs the model of sections 1-6 unchanged.
//!
//! Kept apart from `config` so that the data center's keys, their
//! defaults and their checks sit together; `Config::validate` calls
//! [`validate`].

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::config::{Config, ConfigError, MAX_RATE_MBPS};

/// Default of `topology.resolve_s`: exact max-min re-solves at most every
/// 10 ms. Between solves each change re-shares its hosts' links at once, so
/// the period only delays effects that travel through rack links and group
/// rates; docs/datacenter.md measures download times within about 1% of
/// re-solving at every change, from 0.2 ms to 50 ms.
pub const DEFAULT_RESOLVE_S: f64 = 0.01;

/// How hosts are placed in racks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Placement {
    /// Host `i` (in the order peers join) goes to rack `i mod racks`.
    RoundRobin,
    /// Hosts fill a seeded random permutation of the racks' slots.
    Random,
}

/// Which holders a leecher prefers as sources (`peers.locality`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Locality {
    /// Any holder (docs/model.md section 4).
    #[default]
    None,
    /// Holders in the leecher's rack first, then any; a holder offering a
    /// free slot serves waiters of its own rack first.
    Rack,
}

impl Locality {
    /// Whether this is the default, `none` (left out of `manifest.toml`, so
    /// that configs without locality write the same manifest as before).
    pub fn is_none(&self) -> bool {
        *self == Locality::None
    }
}

/// `[topology]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TopologyConfig {
    /// Hosts per rack (every peer is a host of its own).
    pub hosts_per_rack: usize,
    /// `round-robin` or `random`.
    pub placement: Placement,
    /// Capacity of each rack's uplink (Mb/s); absent: unlimited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uplink_mbps: Option<f64>,
    /// Capacity of each rack's downlink (Mb/s); absent: `uplink_mbps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downlink_mbps: Option<f64>,
    /// Oversubscription ratio: the uplink is `hosts_per_rack x u_c / ratio`
    /// and the downlink `hosts_per_rack x d_c / ratio` (`u_c` when `d_c` is
    /// unlimited). Excludes `uplink_mbps` and `downlink_mbps`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oversubscription: Option<f64>,
    /// Exact max-min re-solves happen at most this often (s); 0 re-solves
    /// at every instant something changed (exact, slow).
    pub resolve_s: f64,
}

impl Default for TopologyConfig {
    fn default() -> Self {
        TopologyConfig {
            hosts_per_rack: 40,
            placement: Placement::RoundRobin,
            uplink_mbps: None,
            downlink_mbps: None,
            oversubscription: None,
            resolve_s: DEFAULT_RESOLVE_S,
        }
    }
}

impl TopologyConfig {
    /// Each rack's (uplink, downlink) capacity in Mb/s; `None` is unlimited.
    pub fn rack_links_mbps(
        &self,
        peers: &crate::input::config::PeersConfig,
    ) -> (Option<f64>, Option<f64>) {
        match self.oversubscription {
            Some(ratio) => {
                let hosts = self.hosts_per_rack as f64;
                let down_nic = peers.download_cap_mbps.unwrap_or(peers.upload_mbps);
                (
                    Some(hosts * peers.upload_mbps / ratio),
                    Some(hosts * down_nic / ratio),
                )
            }
            None => (self.uplink_mbps, self.downlink_mbps.or(self.uplink_mbps)),
        }
    }
}

/// Check `[topology]` and `peers.locality`; the error names the first bad
/// key.
pub fn validate(config: &Config, file: &Path) -> Result<(), ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: file.to_path_buf(),
        key: key.to_string(),
        message,
    };
    let Some(t) = &config.topology else {
        if !config.peers.locality.is_none() {
            return Err(err(
                "peers.locality",
                "\"rack\" needs a [topology] table: without one there are no racks".into(),
            ));
        }
        return Ok(());
    };
    if t.hosts_per_rack == 0 {
        return Err(err(
            "topology.hosts_per_rack",
            "must be at least 1 (got 0)".into(),
        ));
    }
    for (key, value) in [
        ("topology.uplink_mbps", t.uplink_mbps),
        ("topology.downlink_mbps", t.downlink_mbps),
    ] {
        if let Some(v) = value
            && !(v.is_finite() && v > 0.0 && v <= MAX_RATE_MBPS)
        {
            return Err(err(
                key,
                format!("must be a number > 0 and at most {MAX_RATE_MBPS:e} (got {v})"),
            ));
        }
    }
    if let Some(ratio) = t.oversubscription {
        if !(ratio.is_finite() && ratio > 0.0) {
            return Err(err(
                "topology.oversubscription",
                format!("must be a finite number > 0 (got {ratio})"),
            ));
        }
        if t.uplink_mbps.is_some() || t.downlink_mbps.is_some() {
            return Err(err(
                "topology.oversubscription",
                "cannot be given with topology.uplink_mbps or topology.downlink_mbps: \
                 give the ratio or the capacities"
                    .into(),
            ));
        }
        if config.peers.upload_mbps <= 0.0 {
            return Err(err(
                "topology.oversubscription",
                "needs peers.upload_mbps > 0: the uplink is hosts_per_rack x upload_mbps / ratio"
                    .into(),
            ));
        }
    }
    if !(t.resolve_s.is_finite() && t.resolve_s >= 0.0) {
        return Err(err(
            "topology.resolve_s",
            format!("must be a finite number >= 0 (got {})", t.resolve_s),
        ));
    }
    Ok(())
}
