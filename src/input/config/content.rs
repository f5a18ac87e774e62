//! `[content]`: what the images are made of.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};

/// The largest block size accepted (Mb): a terabit. Larger values are
/// typos, and sizes must stay finite when multiplied out.
pub const MAX_BLOCK_MB: f64 = 1e6;

/// How the images' chunks are generated (docs/model.md section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentKind {
    /// Each image draws its chunks from a common pool (Section V).
    Pool,
    /// Every image holds the same common core plus chunks of its own (Section III.B).
    SharedCore,
    /// Explicit chunk lists per image, from a manifest file.
    Manifest,
}

/// `[content]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentConfig {
    /// Generator: `pool`, `shared-core` or `manifest`.
    pub kind: ContentKind,
    /// `K`: number of images (ignored for `manifest`).
    pub images: usize,
    /// `C`: chunks per image (ignored for `manifest`).
    pub chunks_per_image: usize,
    /// `B`: blocks per chunk (the default for manifest chunks without a size).
    pub blocks_per_chunk: u32,
    /// `b`: block size in Mb.
    pub block_mb: f64,
    /// `rho` for `pool` (expected pairwise common fraction), `beta` for
    /// `shared-core` (fraction of each image in the common core). In (0, 1]
    /// for `pool`, [0, 1] for `shared-core`.
    pub common_ratio: f64,
    /// Path of the manifest (`manifest` only), relative to the config file.
    pub manifest: Option<PathBuf>,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            kind: ContentKind::Pool,
            images: 10,
            chunks_per_image: 16,
            blocks_per_chunk: 64,
            block_mb: 4.0,
            common_ratio: 0.2,
            manifest: None,
        }
    }
}

impl ContentConfig {
    /// Check the section's ranges; the error names the first bad key.
    pub(crate) fn validate(&self, check: &Checks) -> Result<(), ConfigError> {
        if self.kind != ContentKind::Manifest {
            check.at_least_one("content.images", self.images as u64)?;
            check.at_least_one("content.chunks_per_image", self.chunks_per_image as u64)?;
        }
        check.at_least_one("content.blocks_per_chunk", self.blocks_per_chunk.into())?;
        check.positive("content.block_mb", self.block_mb)?;
        check.at_most("content.block_mb", self.block_mb, MAX_BLOCK_MB)?;
        match self.kind {
            ContentKind::Pool => {
                if !(self.common_ratio > 0.0 && self.common_ratio <= 1.0) {
                    return Err(check.err(
                        "content.common_ratio",
                        format!(
                            "must be in (0, 1] for the pool generator (got {})",
                            self.common_ratio
                        ),
                    ));
                }
            }
            ContentKind::SharedCore => {
                if !(0.0..=1.0).contains(&self.common_ratio) {
                    return Err(check.err(
                        "content.common_ratio",
                        format!(
                            "must be in [0, 1] for the shared-core generator (got {})",
                            self.common_ratio
                        ),
                    ));
                }
            }
            ContentKind::Manifest => {
                if self.manifest.is_none() {
                    return Err(check.err(
                        "content.manifest",
                        "is required when content.kind = \"manifest\"".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}
