//! What the images are made of (docs/model.md section 1): chunks, blocks, and the
//! generators `pool`, `shared-core` and `manifest`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rand::Rng;
use rand::seq::index;
use serde::Deserialize;

use crate::input::config::{
    ConfigError, ContentConfig, ContentKind, Grouping, PolicyDef, SwarmModel, describe_toml_error,
};

/// One unique chunk: an identity and a size in blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Chunk {
    /// The chunk's id (generated) or hash (from a manifest).
    pub id: String,
    /// Blocks in the chunk.
    pub blocks: u32,
    /// Size of each block (Mb).
    pub block_mb: f64,
}

impl Chunk {
    /// The chunk's size (Mb).
    pub fn size_mb(&self) -> f64 {
        self.blocks as f64 * self.block_mb
    }
}

/// One image: an ordered list of chunk indices into [`Content::chunks`].
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    /// The image's name.
    pub name: String,
    /// Indices into [`Content::chunks`], in image order. No chunk twice.
    pub chunks: Vec<usize>,
}

/// All images and the unique chunks they are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Content {
    /// The unique chunks (`K_c` of them).
    pub chunks: Vec<Chunk>,
    /// The images, image 1 (index 0) first.
    pub images: Vec<Image>,
}

/// Summary statistics of generated content (docs/model.md section 1).
#[derive(Debug, Clone, PartialEq)]
pub struct ContentReport {
    /// `K_c`: unique chunks over all images.
    pub unique_chunks: usize,
    /// Mean over image pairs of the common fraction (common Mb / larger image Mb).
    pub pairwise_common_mean: f64,
    /// Smallest pairwise common fraction.
    pub pairwise_common_min: f64,
    /// Largest pairwise common fraction.
    pub pairwise_common_max: f64,
    /// Chunks held by every image.
    pub all_image_intersection: usize,
}

impl Content {
    /// Build the content the config asks for, drawing from `rng` where random.
    pub fn generate<R: Rng>(config: &ContentConfig, rng: &mut R) -> Result<Content, ConfigError> {
        match config.kind {
            ContentKind::Pool => Ok(pool(config, rng)),
            ContentKind::SharedCore => Ok(shared_core(config)),
            ContentKind::Manifest => {
                let path = config.manifest.as_deref().unwrap_or(Path::new(""));
                load_manifest(path, config)
            }
        }
    }

    /// Size of image `i` (Mb).
    pub fn image_size_mb(&self, i: usize) -> f64 {
        self.images[i]
            .chunks
            .iter()
            .map(|&c| self.chunks[c].size_mb())
            .sum()
    }

    /// Common Mb of images `a` and `b` over the larger image's size.
    pub fn common_fraction(&self, a: usize, b: usize) -> f64 {
        let set_a: HashSet<usize> = self.images[a].chunks.iter().copied().collect();
        let common: f64 = 0.0
            + self.images[b]
                .chunks
                .iter()
                .filter(|c| set_a.contains(c))
                .map(|&c| self.chunks[c].size_mb())
                .sum::<f64>();
        let larger = self.image_size_mb(a).max(self.image_size_mb(b));
        if larger > 0.0 { common / larger } else { 0.0 }
    }

    /// Unique chunks, pairwise common fractions and the all-image intersection.
    pub fn report(&self) -> ContentReport {
        let k = self.images.len();
        let (mut sum, mut min, mut max, mut pairs) = (0.0, f64::INFINITY, 0.0f64, 0usize);
        for a in 0..k {
            for b in a + 1..k {
                let f = self.common_fraction(a, b);
                sum += f;
                min = min.min(f);
                max = max.max(f);
                pairs += 1;
            }
        }
        let mut held_by = vec![0usize; self.chunks.len()];
        for image in &self.images {
            for &c in &image.chunks {
                held_by[c] += 1;
            }
        }
        ContentReport {
            unique_chunks: held_by.iter().filter(|&&n| n > 0).count(),
            pairwise_common_mean: if pairs > 0 { sum / pairs as f64 } else { 1.0 },
            pairwise_common_min: if pairs > 0 { min } else { 1.0 },
            pairwise_common_max: if pairs > 0 { max } else { 1.0 },
            all_image_intersection: held_by.iter().filter(|&&n| n == k).count(),
        }
    }
}

fn generated_chunk(id: usize, config: &ContentConfig) -> Chunk {
    Chunk {
        id: format!("chunk-{}", id + 1),
        blocks: config.blocks_per_chunk,
        block_mb: config.block_mb,
    }
}

fn image_name(i: usize) -> String {
    format!("image-{}", i + 1)
}

/// Section V's generator: a pool of `P = round(C / rho)` chunks; each image
/// draws `C` of them uniformly without replacement, so two images share
/// `C^2 / P = rho * C` chunks in expectation while few chunks are in all.
fn pool<R: Rng>(config: &ContentConfig, rng: &mut R) -> Content {
    let c = config.chunks_per_image;
    // `rho` near 1 could round P below C; an image needs C distinct chunks.
    // A tiny `rho` makes P huge (it saturates at `usize::MAX`), so only the
    // pool slots some image draws become chunks: the same content as making
    // every slot a chunk and dropping the unused ones, without the memory.
    let pool_size = ((c as f64 / config.common_ratio).round() as usize).max(c);
    let drawn: Vec<Vec<usize>> = (0..config.images)
        .map(|_| {
            let mut slots = index::sample(rng, pool_size, c).into_vec();
            slots.sort_unstable();
            slots
        })
        .collect();
    let mut used: Vec<usize> = drawn.iter().flatten().copied().collect();
    used.sort_unstable();
    used.dedup();
    let chunks = used
        .iter()
        .map(|&slot| generated_chunk(slot, config))
        .collect();
    let images = drawn
        .into_iter()
        .enumerate()
        .map(|(i, slots)| Image {
            name: image_name(i),
            chunks: slots
                .iter()
                .map(|s| used.binary_search(s).expect("a drawn slot is used"))
                .collect(),
        })
        .collect();
    Content { chunks, images }
}

/// Section III.B's generator: `round(beta * C)` chunks common to all images,
/// then `C - round(beta * C)` chunks of each image's own.
fn shared_core(config: &ContentConfig) -> Content {
    let c = config.chunks_per_image;
    let core = ((config.common_ratio * c as f64).round() as usize).min(c);
    let own = c - core;
    let chunks = (0..core + own * config.images)
        .map(|id| generated_chunk(id, config))
        .collect();
    let images = (0..config.images)
        .map(|i| Image {
            name: image_name(i),
            chunks: (0..core)
                .chain(core + i * own..core + (i + 1) * own)
                .collect(),
        })
        .collect();
    Content { chunks, images }
}

/// Keep only chunks some image holds, in their original order (a
/// manifest's `[[chunk]]` entries that no image lists are dropped).
fn drop_unused_chunks(content: Content) -> Content {
    let mut new_index = vec![usize::MAX; content.chunks.len()];
    let mut chunks = Vec::new();
    let mut used: Vec<usize> = content
        .images
        .iter()
        .flat_map(|im| im.chunks.iter().copied())
        .collect();
    used.sort_unstable();
    used.dedup();
    for old in used {
        new_index[old] = chunks.len();
        chunks.push(content.chunks[old].clone());
    }
    let images = content
        .images
        .into_iter()
        .map(|im| Image {
            name: im.name,
            chunks: im.chunks.iter().map(|&c| new_index[c]).collect(),
        })
        .collect();
    Content { chunks, images }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    #[serde(default)]
    chunk: Vec<ManifestChunk>,
    // Defaulted so that a manifest without images gets the message below.
    #[serde(default)]
    image: Vec<ManifestImage>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestChunk {
    id: String,
    blocks: Option<u32>,
    block_mb: Option<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestImage {
    name: String,
    chunks: Vec<String>,
}

/// Read a manifest (TOML): `[[image]]` entries with a `name` and a list of
/// chunk ids, and optional `[[chunk]]` entries giving a chunk's `blocks` and
/// `block_mb` (default: the config's `blocks_per_chunk` and `block_mb`).
pub fn load_manifest(path: &Path, config: &ContentConfig) -> Result<Content, ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: path.to_path_buf(),
        key: key.to_string(),
        message,
    };
    let text = std::fs::read_to_string(path)
        .map_err(|e| err("", format!("cannot read the manifest: {e}")))?;
    parse_manifest(&text, path, config)
}

/// Parse manifest text; `path` is only used in messages.
pub fn parse_manifest(
    text: &str,
    path: &Path,
    config: &ContentConfig,
) -> Result<Content, ConfigError> {
    let err = |key: &str, message: String| ConfigError {
        file: path.to_path_buf(),
        key: key.to_string(),
        message,
    };
    let file: ManifestFile =
        toml::from_str(text).map_err(|e| err("", describe_toml_error(text, &e)))?;
    if file.image.is_empty() {
        return Err(err(
            "image",
            "the manifest lists no image; allowed: one or more [[image]] tables, each with \
             a `name` and a non-empty `chunks` list"
                .into(),
        ));
    }
    let mut chunks = manifest_chunks(&file.chunk, config, &err)?;
    let images = manifest_images(&file.image, &mut chunks, config, &err)?;
    Ok(drop_unused_chunks(Content {
        chunks: chunks.list,
        images,
    }))
}

/// A manifest's chunks so far, and the index of each id.
struct ManifestChunks {
    list: Vec<Chunk>,
    by_id: HashMap<String, usize>,
}

/// The `[[chunk]]` entries, checked: unique non-empty ids, sizes in range
/// (the config's defaults where a chunk gives none).
fn manifest_chunks(
    entries: &[ManifestChunk],
    config: &ContentConfig,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<ManifestChunks, ConfigError> {
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for (i, mc) in entries.iter().enumerate() {
        if mc.id.is_empty() {
            return Err(err(&format!("chunk[{i}].id"), "must not be empty".into()));
        }
        if by_id.contains_key(&mc.id) {
            return Err(err(
                &format!("chunk[{i}].id"),
                format!(
                    "duplicate chunk id `{}`; the ids in [[chunk]] must be unique",
                    mc.id
                ),
            ));
        }
        let blocks = mc.blocks.unwrap_or(config.blocks_per_chunk);
        if blocks == 0 {
            return Err(err(
                &format!("chunk[{i}].blocks"),
                "must be at least 1 (got 0)".into(),
            ));
        }
        let block_mb = mc.block_mb.unwrap_or(config.block_mb);
        if !(block_mb.is_finite()
            && block_mb > 0.0
            && block_mb <= crate::input::config::MAX_BLOCK_MB)
        {
            return Err(err(
                &format!("chunk[{i}].block_mb"),
                format!(
                    "must be a number > 0 and at most {:e} (got {block_mb})",
                    crate::input::config::MAX_BLOCK_MB
                ),
            ));
        }
        by_id.insert(mc.id.clone(), chunks.len());
        chunks.push(Chunk {
            id: mc.id.clone(),
            blocks,
            block_mb,
        });
    }
    Ok(ManifestChunks {
        list: chunks,
        by_id,
    })
}

/// The `[[image]]` entries, checked: unique non-empty names, non-empty
/// chunk lists without repeats. A chunk id not in `[[chunk]]` is added to
/// `chunks` with the config's default size.
fn manifest_images(
    entries: &[ManifestImage],
    chunks: &mut ManifestChunks,
    config: &ContentConfig,
    err: &dyn Fn(&str, String) -> ConfigError,
) -> Result<Vec<Image>, ConfigError> {
    let mut images = Vec::new();
    let mut names = HashSet::new();
    for (i, mi) in entries.iter().enumerate() {
        if mi.name.is_empty() {
            return Err(err(&format!("image[{i}].name"), "must not be empty".into()));
        }
        if !names.insert(mi.name.clone()) {
            return Err(err(
                &format!("image[{i}].name"),
                format!(
                    "duplicate image name `{}`; image names must be unique",
                    mi.name
                ),
            ));
        }
        if mi.chunks.is_empty() {
            return Err(err(
                &format!("image[{i}].chunks"),
                "must list at least one chunk".into(),
            ));
        }
        let mut list = Vec::with_capacity(mi.chunks.len());
        let mut seen = HashSet::new();
        for id in &mi.chunks {
            if id.is_empty() {
                return Err(err(
                    &format!("image[{i}].chunks"),
                    "chunk ids must not be empty".into(),
                ));
            }
            if !seen.insert(id.as_str()) {
                return Err(err(
                    &format!("image[{i}].chunks"),
                    format!("chunk `{id}` is listed twice in image `{}`", mi.name),
                ));
            }
            let list_of_chunks = &mut chunks.list;
            let idx = *chunks.by_id.entry(id.clone()).or_insert_with(|| {
                list_of_chunks.push(Chunk {
                    id: id.clone(),
                    blocks: config.blocks_per_chunk,
                    block_mb: config.block_mb,
                });
                list_of_chunks.len() - 1
            });
            list.push(idx);
        }
        images.push(Image {
            name: mi.name.clone(),
            chunks: list,
        });
    }
    Ok(images)
}

/// Number of server groups a policy has on this content: images, or the
/// swarm model's chunks (unique chunks for `cross`, every image's chunks for
/// `isolated`).
pub fn group_count(content: &Content, policy: &PolicyDef) -> usize {
    match (policy.groups, policy.swarms) {
        (Grouping::Image, _) => content.images.len(),
        (Grouping::Chunk, SwarmModel::Cross) => content.chunks.len(),
        (Grouping::Chunk, SwarmModel::Isolated) => {
            content.images.iter().map(|im| im.chunks.len()).sum()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    fn config(kind: ContentKind, ratio: f64) -> ContentConfig {
        ContentConfig {
            kind,
            common_ratio: ratio,
            ..ContentConfig::default()
        }
    }

    #[test]
    fn shared_core_is_exact() {
        for beta in [0.0, 0.25, 0.5, 1.0] {
            let content = shared_core(&config(ContentKind::SharedCore, beta));
            let r = content.report();
            let core = (beta * 16.0_f64).round() as usize;
            assert_eq!(r.all_image_intersection, core);
            assert_eq!(r.unique_chunks, core + 10 * (16 - core));
            assert!((r.pairwise_common_min - core as f64 / 16.0).abs() < 1e-12);
            assert!((r.pairwise_common_max - core as f64 / 16.0).abs() < 1e-12);
        }
    }

    #[test]
    fn pool_images_have_distinct_chunks_and_rho_one_is_identical() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let content = pool(&config(ContentKind::Pool, 0.3), &mut rng);
        for im in &content.images {
            let set: HashSet<_> = im.chunks.iter().collect();
            assert_eq!(set.len(), 16);
        }
        let same = pool(&config(ContentKind::Pool, 1.0), &mut rng);
        assert_eq!(same.report().all_image_intersection, 16);
        assert_eq!(same.chunks.len(), 16);
    }

    #[test]
    fn a_tiny_rho_makes_a_huge_pool_without_allocating_it() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let content = pool(&config(ContentKind::Pool, 1e-300), &mut rng);
        assert_eq!(content.images.len(), 10);
        assert_eq!(content.report().unique_chunks, content.chunks.len());
        assert!(content.images.iter().all(|im| im.chunks.len() == 16));
    }

    #[test]
    fn manifest_rejects_duplicates_and_empty_lists() {
        let cfg = ContentConfig::default();
        let p = Path::new("m.toml");
        let e = parse_manifest("[[image]]\nname = \"a\"\nchunks = []\n", p, &cfg).unwrap_err();
        assert_eq!(e.key, "image[0].chunks");
        let e = parse_manifest(
            "[[image]]\nname = \"a\"\nchunks = [\"x\"]\n[[image]]\nname = \"a\"\nchunks = [\"x\"]\n",
            p,
            &cfg,
        )
        .unwrap_err();
        assert!(e.message.contains("duplicate image name"));
        let ok = parse_manifest(
            "[[chunk]]\nid = \"x\"\nblocks = 2\nblock_mb = 1.5\n[[image]]\nname = \"a\"\nchunks = [\"x\", \"y\"]\n[[image]]\nname = \"b\"\nchunks = [\"y\"]\n",
            p,
            &cfg,
        )
        .unwrap();
        assert_eq!(ok.chunks.len(), 2);
        assert_eq!(ok.image_size_mb(0), 3.0 + 256.0);
        assert_eq!(ok.report().all_image_intersection, 1);
    }
}
