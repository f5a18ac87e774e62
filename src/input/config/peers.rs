//! `[peers]`: the hosts the VMs run on.

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};
use crate::input::topology::Locality;

/// The largest rate accepted (Mb/s): a petabit per second.
pub const MAX_RATE_MBPS: f64 = 1e9;

/// Block selection order of a leecher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PieceSelection {
    /// Fewest holders in the leecher's swarms first, random tie-break.
    Rarest,
    /// Uniformly random among available blocks.
    Random,
    /// Lowest block index of the image first.
    Sequential,
}

/// How a leecher picks the source of a block among its holders
/// (docs/model.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceChoice {
    /// The holder with the fewest active uploads among those with a free
    /// slot, random tie-break (sampled among `source_samples` holders when
    /// there are more).
    LeastLoaded,
    /// The first holder with a free slot found from a random position: the
    /// simulator's early rule, kept only for comparison (it piles flows on
    /// some holders while others idle).
    FirstFree,
}

/// What a leecher does with its server blocks in flight once it has nothing
/// left to request from peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endgame {
    /// Move each to a free holder that would deliver it sooner, cancelling
    /// the server flow (its partial data is waste).
    Switch,
    /// Keep them with the server, however slow (for comparison).
    Off,
}

/// Default of `peers.source_samples`: with 8 samples, a request lands on a
/// busy holder only when all 8 are busy (under 0.1% when 40% are busy).
pub const DEFAULT_SOURCE_SAMPLES: u32 = 8;

/// Largest `peers.upload_slots`: the simulator keeps a peer's free slots
/// in 15 bits, beside a departed flag, so that source choice reads two
/// bytes a holder sampled.
pub const MAX_UPLOAD_SLOTS: u32 = (1 << 15) - 1;

/// `[peers]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeersConfig {
    /// `u_c`: mean upload capacity of a host (Mb/s).
    pub upload_mbps: f64,
    /// Heterogeneous hosts: each host's upload is drawn uniformly from
    /// `[u_c (1 - spread), u_c (1 + spread)]`. 0 means every host has `u_c`.
    pub upload_spread: f64,
    /// `d_c`: download capacity (Mb/s); absent means unlimited.
    pub download_cap_mbps: Option<f64>,
    /// Block requests a leecher keeps in flight to peers.
    pub max_downloads: u32,
    /// Blocks a peer uploads at once, sharing its upload equally.
    pub upload_slots: u32,
    /// `rarest`, `random` or `sequential`.
    pub piece_selection: PieceSelection,
    /// `least-loaded` or `first-free`.
    pub source_choice: SourceChoice,
    /// Holders a `least-loaded` choice samples when a block has more; with
    /// fewer, it looks at all of them.
    pub source_samples: u32,
    /// `switch` or `off`.
    pub endgame: Endgame,
    /// `none` or `rack` (rack-first source choice; needs `[topology]`).
    #[serde(skip_serializing_if = "Locality::is_none")]
    pub locality: Locality,
}

impl Default for PeersConfig {
    fn default() -> Self {
        PeersConfig {
            upload_mbps: 128.0,
            upload_spread: 0.0,
            download_cap_mbps: None,
            max_downloads: 4,
            upload_slots: 4,
            piece_selection: PieceSelection::Rarest,
            source_choice: SourceChoice::LeastLoaded,
            source_samples: DEFAULT_SOURCE_SAMPLES,
            endgame: Endgame::Switch,
            locality: Locality::None,
        }
    }
}

impl PeersConfig {
    /// Check the section's ranges; the error names the first bad key.
    pub(crate) fn validate(&self, check: &Checks) -> Result<(), ConfigError> {
        check.non_negative("peers.upload_mbps", self.upload_mbps)?;
        check.at_most("peers.upload_mbps", self.upload_mbps, MAX_RATE_MBPS)?;
        if !(0.0..=1.0).contains(&self.upload_spread) {
            return Err(check.err(
                "peers.upload_spread",
                format!("must be in [0, 1] (got {})", self.upload_spread),
            ));
        }
        if let Some(d) = self.download_cap_mbps {
            check.positive("peers.download_cap_mbps", d)?;
            check.at_most("peers.download_cap_mbps", d, MAX_RATE_MBPS)?;
        }
        check.at_least_one("peers.max_downloads", self.max_downloads.into())?;
        if !(1..=MAX_UPLOAD_SLOTS).contains(&self.upload_slots) {
            return Err(check.err(
                "peers.upload_slots",
                format!(
                    "must be in 1..={MAX_UPLOAD_SLOTS} (got {})",
                    self.upload_slots
                ),
            ));
        }
        if !(1..=1024).contains(&self.source_samples) {
            return Err(check.err(
                "peers.source_samples",
                format!("must be in 1..=1024 (got {})", self.source_samples),
            ));
        }
        Ok(())
    }
}
