//! `vmswarm import oci`: container image manifests turned into the
//! `manifest` content file that `content.kind = "manifest"` loads.
//!
//! Two formats are read: the OCI image manifest
//! (`application/vnd.oci.image.manifest.v1+json`) and Docker's image
//! manifest v2 schema 2 (`application/vnd.docker.distribution.manifest.v2+json`).
//! Each file is one image, named after the file's stem (`python-api.json`
//! is image `python-api`); annotations are ignored. Each distinct layer
//! digest is one chunk whose id is the digest, so a layer that several
//! images share (a base image, a language runtime) is one chunk held by all
//! of them, as the cross swarm model needs. A layer of `S` bytes is
//! `max(1, ceil(S / block_bytes))` blocks: rounding up never understates a
//! layer, and an empty layer still has a block to transfer. The config blob
//! is not a layer and is skipped. Image indexes (manifest lists) are
//! rejected: they point at manifests, not at layers.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::input::config::{ConfigError, MAX_BLOCK_MB};

/// The default block size (Mb): 4 Mb = 500,000 bytes, the simulator's own
/// default `block_mb`.
pub const DEFAULT_BLOCK_MB: f64 = 4.0;

/// Bytes in one Mb (10^6 bits).
pub const BYTES_PER_MB: f64 = 125_000.0;

/// The OCI image manifest's media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// Docker's image manifest v2 schema 2 media type.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";

/// Media types of image indexes (OCI) and manifest lists (Docker): they list
/// per-platform manifests, not layers.
pub const INDEX_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
];

/// Layer media types accepted: OCI layers (plain, gzip, zstd) and their
/// deprecated non-distributable variants, and Docker's layers, foreign ones
/// included. Non-distributable and foreign layers are usually fetched from
/// elsewhere than the registry, but a host still has to get their bytes, so
/// they are chunks like any other.
pub const LAYER_MEDIA_TYPES: [&str; 11] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    // Not in Docker's spec, but containerd writes it for zstd layers.
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
    "application/vnd.docker.image.rootfs.foreign.diff.tar",
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
];

/// One layer of an image manifest: what the model needs of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    /// The layer's digest, `algorithm:hex`; it becomes the chunk's id.
    pub digest: String,
    /// The layer's size in bytes (compressed, as transferred).
    pub size: u64,
}

/// The result of an import: the content file's text and what went into it.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// The `manifest` content file (TOML).
    pub toml: String,
    /// Images, one per manifest file.
    pub images: usize,
    /// Distinct layers, i.e. chunks.
    pub chunks: usize,
    /// Distinct layers held by more than one image.
    pub shared_chunks: usize,
    /// Bytes of all distinct layers.
    pub unique_bytes: u64,
    /// Bytes of all images added up (shared layers counted once per image).
    pub total_bytes: u64,
    /// Things worth telling the user that are not errors (a layer listed
    /// twice in one image).
    pub notes: Vec<String>,
}

/// Bytes per block for a block of `block_mb` Mb; an error message (what is
/// allowed) when `block_mb` is out of range or not a whole number of bytes.
pub fn block_bytes(block_mb: f64) -> Result<u64, String> {
    let allowed = format!(
        "must be a number > 0 and at most {MAX_BLOCK_MB:e} Mb that is a whole number of bytes \
         (a multiple of 0.000008 Mb; 1 Mb = 125000 bytes)"
    );
    if !(block_mb.is_finite() && block_mb > 0.0 && block_mb <= MAX_BLOCK_MB) {
        return Err(format!("{allowed} (got {block_mb})"));
    }
    let bytes = block_mb * BYTES_PER_MB;
    // Layer sizes are whole bytes; a fractional block would make the block
    // count depend on float rounding. The tolerance absorbs decimal inputs
    // such as 0.1 Mb (12500.000000000002 bytes in binary floating point).
    if bytes < 0.5 || (bytes - bytes.round()).abs() > 1e-9 * bytes {
        return Err(format!("{allowed} (got {block_mb}, i.e. {bytes} bytes)"));
    }
    Ok(bytes.round() as u64)
}

/// Blocks for a layer of `size` bytes: rounded up, and at least 1.
pub fn blocks_for(size: u64, block_bytes: u64) -> u64 {
    size.div_ceil(block_bytes).max(1)
}

/// Check a digest: `sha256:` and 64 lowercase hex digits, or `sha512:` and
/// 128. On error, what is wrong and what is allowed.
pub fn check_digest(digest: &str) -> Result<(), String> {
    let allowed = "allowed: `sha256:` + 64 lowercase hex digits or `sha512:` + 128";
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return Err(format!(
            "`{digest}` is not of the form algorithm:hex; {allowed}"
        ));
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha512" => 128,
        _ => return Err(format!("unsupported algorithm `{algorithm}`; {allowed}")),
    };
    if hex.len() != want || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(format!(
            "`{digest}` does not have {want} lowercase hex digits after `{algorithm}:`; {allowed}"
        ));
    }
    Ok(())
}

/// Builds a [`ConfigError`] naming `file` and a JSON field.
fn field_error(file: &Path, field: &str, message: String) -> ConfigError {
    ConfigError {
        file: file.to_path_buf(),
        key: field.to_string(),
        message,
    }
}

/// A JSON value as it appears in the file, shortened for a message (long
/// enough for any media type to show whole).
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(120) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

/// Read one image manifest file and return its layers, in order.
pub fn read_manifest(path: &Path) -> Result<Vec<Layer>, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| field_error(path, "", format!("cannot read the image manifest: {e}")))?;
    parse_manifest(&text, path)
}

/// Parse an image manifest (JSON) and return its layers, in order; `path`
/// is only used in messages. Fields other than `schemaVersion`,
/// `mediaType`, `config`, `manifests` and `layers` are ignored, as the OCI
/// spec asks of readers.
pub fn parse_manifest(text: &str, path: &Path) -> Result<Vec<Layer>, ConfigError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| field_error(path, "", format!("not valid JSON: {e}")))?;
    let Value::Object(top) = value else {
        return Err(field_error(
            path,
            "",
            format!(
                "the top level is {}; allowed: a JSON object (an image manifest)",
                shown(&value)
            ),
        ));
    };
    // The media type first: an index gets its own message, whatever else
    // is wrong with it.
    check_media_type(&top, path)?;
    check_schema_version(&top, path)?;
    // The config blob describes the image (architecture, environment) and
    // is not a layer: it is checked to be there, then skipped.
    if !matches!(top.get("config"), Some(Value::Object(_))) {
        return Err(field_error(
            path,
            "config",
            "missing or not an object; allowed: the config blob's descriptor, an object (it is \
             not a layer and is skipped, but an image manifest has one)"
                .into(),
        ));
    }
    let layers = match top.get("layers") {
        Some(Value::Array(layers)) => layers,
        Some(other) => {
            return Err(field_error(
                path,
                "layers",
                format!(
                    "must be an array of layer descriptors (got {})",
                    shown(other)
                ),
            ));
        }
        None => {
            return Err(field_error(
                path,
                "layers",
                "missing; allowed: an array of layer descriptors".into(),
            ));
        }
    };
    if layers.is_empty() {
        return Err(field_error(
            path,
            "layers",
            "is empty; allowed: at least one layer descriptor (an image needs a layer)".into(),
        ));
    }
    layers
        .iter()
        .enumerate()
        .map(|(i, layer)| parse_layer(layer, &format!("layers[{i}]"), path))
        .collect()
}

fn check_schema_version(top: &Map<String, Value>, path: &Path) -> Result<(), ConfigError> {
    match top.get("schemaVersion") {
        Some(v) if v.as_u64() == Some(2) => Ok(()),
        Some(v) if v.as_u64() == Some(1) => Err(field_error(
            path,
            "schemaVersion",
            "is 1 (Docker's deprecated image manifest v2 schema 1); allowed: 2 (OCI image \
             manifest or Docker v2 schema 2; `docker manifest inspect` or `crane manifest` \
             fetch those)"
                .into(),
        )),
        Some(v) => Err(field_error(
            path,
            "schemaVersion",
            format!("must be the integer 2 (got {})", shown(v)),
        )),
        None => Err(field_error(
            path,
            "schemaVersion",
            "missing; allowed: 2".into(),
        )),
    }
}

/// The manifest's `mediaType`, optional in OCI (absent, it is taken as an
/// image manifest unless the file looks like an index).
fn check_media_type(top: &Map<String, Value>, path: &Path) -> Result<(), ConfigError> {
    let index = |field: &str, what: String| {
        field_error(
            path,
            field,
            format!(
                "{what}: an image index (manifest list) names one manifest per platform, not \
                 layers; pass the per-platform image manifests it lists instead, one file each"
            ),
        )
    };
    match top.get("mediaType") {
        None if top.contains_key("manifests") && !top.contains_key("layers") => Err(index(
            "manifests",
            "the file has `manifests` and no `layers`".into(),
        )),
        None => Ok(()),
        Some(Value::String(t)) if t == OCI_MANIFEST || t == DOCKER_MANIFEST => Ok(()),
        Some(Value::String(t)) if INDEX_MEDIA_TYPES.contains(&t.as_str()) => {
            Err(index("mediaType", format!("is `{t}`")))
        }
        Some(other) => Err(field_error(
            path,
            "mediaType",
            format!(
                "is {}; allowed: `{OCI_MANIFEST}` or `{DOCKER_MANIFEST}` (or no mediaType)",
                shown(other)
            ),
        )),
    }
}

/// One layer descriptor; `field` is its name in messages (`layers[2]`).
fn parse_layer(value: &Value, field: &str, path: &Path) -> Result<Layer, ConfigError> {
    let Value::Object(layer) = value else {
        return Err(field_error(
            path,
            field,
            format!(
                "must be a layer descriptor object with `mediaType`, `digest` and `size` (got {})",
                shown(value)
            ),
        ));
    };
    let got = |key: &str| {
        layer
            .get(key)
            .map_or("missing".to_string(), |v| format!("is {}", shown(v)))
    };
    if !matches!(layer.get("mediaType"), Some(Value::String(t)) if LAYER_MEDIA_TYPES.contains(&t.as_str()))
    {
        return Err(field_error(
            path,
            &format!("{field}.mediaType"),
            format!(
                "{}; allowed: a layer media type, one of {}",
                got("mediaType"),
                LAYER_MEDIA_TYPES.join(", ")
            ),
        ));
    }
    let Some(digest) = layer.get("digest").and_then(Value::as_str) else {
        return Err(field_error(
            path,
            &format!("{field}.digest"),
            format!(
                "{}; allowed: a string, `sha256:` + 64 lowercase hex digits or `sha512:` + 128",
                got("digest")
            ),
        ));
    };
    check_digest(digest).map_err(|m| field_error(path, &format!("{field}.digest"), m))?;
    // `as_u64` is `None` for negative numbers, fractions and numbers too
    // large for 64 bits alike: none of them is a size in bytes.
    let Some(size) = layer.get("size").and_then(Value::as_u64) else {
        return Err(field_error(
            path,
            &format!("{field}.size"),
            format!(
                "{}; allowed: the layer's size in bytes, a non-negative integer",
                got("size")
            ),
        ));
    };
    Ok(Layer {
        digest: digest.to_string(),
        size,
    })
}

/// Where a digest was first met, so that later mentions can be checked
/// against it (a digest names one blob, so one size).
struct FirstSeen {
    chunk: usize,
    size: u64,
    file: PathBuf,
    field: String,
}

/// The chunks found so far (distinct layers, in the order first met).
#[derive(Default)]
struct Chunks {
    layers: Vec<Layer>,
    seen: HashMap<String, FirstSeen>,
}

impl Chunks {
    /// The chunk indices of one image's layers, adding new layers as chunks.
    /// A layer listed twice in one image is kept once (with a note): a pull
    /// fetches a blob once however often the manifest names it, and the
    /// model holds each chunk once per image.
    fn image(
        &mut self,
        path: &Path,
        layers: &[Layer],
        block: u64,
        notes: &mut Vec<String>,
    ) -> Result<Vec<usize>, ConfigError> {
        let mut list: Vec<usize> = Vec::with_capacity(layers.len());
        let mut first_in_image: HashMap<usize, usize> = HashMap::new();
        for (i, layer) in layers.iter().enumerate() {
            let chunk = self.chunk(path, i, layer, block)?;
            if let Some(&j) = first_in_image.get(&chunk) {
                notes.push(format!(
                    "{}: layers[{i}] repeats layers[{j}] ({}); a pull fetches it once, so it is \
                     one chunk of the image",
                    path.display(),
                    layer.digest
                ));
                continue;
            }
            first_in_image.insert(chunk, i);
            list.push(chunk);
        }
        Ok(list)
    }

    /// The chunk of `layer` (layer `i` of `path`), new or already met.
    fn chunk(
        &mut self,
        path: &Path,
        i: usize,
        layer: &Layer,
        block: u64,
    ) -> Result<usize, ConfigError> {
        let field = format!("layers[{i}].size");
        if let Some(first) = self.seen.get(&layer.digest) {
            if first.size != layer.size {
                return Err(field_error(
                    path,
                    &field,
                    format!(
                        "is {} bytes, but {} bytes for the same digest {} in {} `{}`; a digest \
                         names one blob, so its size must agree everywhere",
                        layer.size,
                        first.size,
                        layer.digest,
                        first.file.display(),
                        first.field
                    ),
                ));
            }
            return Ok(first.chunk);
        }
        let blocks = blocks_for(layer.size, block);
        if blocks > u64::from(u32::MAX) {
            return Err(field_error(
                path,
                &field,
                format!(
                    "is {} bytes: {blocks} blocks at {block} bytes per block; a chunk has at \
                     most {} blocks: use a larger --block-mb",
                    layer.size,
                    u32::MAX
                ),
            ));
        }
        let chunk = self.layers.len();
        self.layers.push(layer.clone());
        self.seen.insert(
            layer.digest.clone(),
            FirstSeen {
                chunk,
                size: layer.size,
                file: path.to_path_buf(),
                field,
            },
        );
        Ok(chunk)
    }
}

/// The image name for a manifest file: its stem (`python-api.json` is
/// `python-api`), which must differ from every earlier file's.
fn image_name(path: &Path, names: &HashMap<String, PathBuf>) -> Result<String, ConfigError> {
    let Some(stem) = path.file_stem().map(|s| s.to_string_lossy().into_owned()) else {
        return Err(field_error(
            path,
            "",
            "has no file name to name the image after; pass a manifest file".into(),
        ));
    };
    if let Some(other) = names.get(&stem) {
        return Err(field_error(
            path,
            "",
            format!(
                "the image would be named `{stem}` (the file's stem), like the image from {}; \
                 allowed: manifest files with distinct names (rename one)",
                other.display()
            ),
        ));
    }
    Ok(stem)
}

/// Import image manifests, one image per file in the order given (image 1
/// is the most popular under Zipf popularity), with blocks of `block_mb`
/// Mb. The first bad input is an error naming the file and the field.
pub fn import(paths: &[PathBuf], block_mb: f64) -> Result<Import, ConfigError> {
    // The command line is the input at fault, so it stands where a file would.
    let block = block_bytes(block_mb).map_err(|message| ConfigError {
        file: PathBuf::from(format!("--block-mb {block_mb}")),
        key: String::new(),
        message,
    })?;
    let mut chunks = Chunks::default();
    let mut names: HashMap<String, PathBuf> = HashMap::new();
    let mut images: Vec<(String, Vec<usize>)> = Vec::new();
    let mut notes = Vec::new();
    for path in paths {
        let name = image_name(path, &names)?;
        let layers = read_manifest(path)?;
        let list = chunks.image(path, &layers, block, &mut notes)?;
        names.insert(name.clone(), path.clone());
        images.push((name, list));
    }
    let mut holders = vec![0usize; chunks.layers.len()];
    for &c in images.iter().flat_map(|(_, list)| list) {
        holders[c] += 1;
    }
    let toml = render(paths, &images, &chunks.layers, block_mb, block);
    Ok(Import {
        toml,
        images: images.len(),
        chunks: chunks.layers.len(),
        shared_chunks: holders.iter().filter(|&&n| n > 1).count(),
        unique_bytes: chunks.layers.iter().map(|l| l.size).sum(),
        total_bytes: images
            .iter()
            .flat_map(|(_, list)| list)
            .map(|&c| chunks.layers[c].size)
            .sum(),
        notes,
    })
}

/// Text safe inside a TOML comment: a line break in a file name would end
/// the comment and corrupt the file.
fn comment_safe(text: &str) -> String {
    text.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// The content file: a header saying where it came from and how sizes were
/// rounded, one `[[chunk]]` per distinct layer, one `[[image]]` per file.
fn render(
    paths: &[PathBuf],
    images: &[(String, Vec<usize>)],
    layers: &[Layer],
    block_mb: f64,
    block: u64,
) -> String {
    let quote = |s: &str| toml::Value::String(s.to_string()).to_string();
    let block_mb_text = toml::Value::Float(block_mb).to_string();
    let mut out = String::new();
    // Writing to a String cannot fail, hence the ignored results.
    let _ = writeln!(
        out,
        "# Generated by `vmswarm import oci --block-mb {block_mb}` from {} image manifests:",
        paths.len()
    );
    for path in paths {
        let _ = writeln!(out, "#   {}", comment_safe(&path.display().to_string()));
    }
    let _ = writeln!(
        out,
        "# One chunk per distinct layer digest (config blobs skipped). A layer of S bytes is\n\
         # max(1, ceil(S / {block})) blocks of {block_mb} Mb ({block} bytes). Images are in the\n\
         # order given: image 1 is the most popular under Zipf popularity.\n\
         # Load it with: [content] kind = \"manifest\", manifest = \"<this file>\"."
    );
    for layer in layers {
        let _ = writeln!(
            out,
            "\n[[chunk]]  # {} bytes\nid = {}\nblocks = {}\nblock_mb = {block_mb_text}",
            layer.size,
            quote(&layer.digest),
            blocks_for(layer.size, block)
        );
    }
    for (name, list) in images {
        let _ = writeln!(out, "\n[[image]]\nname = {}\nchunks = [", quote(name));
        for &c in list {
            let _ = writeln!(out, "  {},", quote(&layers[c].digest));
        }
        out.push_str("]\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA_A: &str = "sha256:4ccd55a5039e950dd02fecf0ed98005d10cc11ac53a89ed65ef2f5fe2505858e";

    fn manifest(layers: &str) -> String {
        format!(
            r#"{{"schemaVersion": 2, "mediaType": "{OCI_MANIFEST}",
                "config": {{"mediaType": "application/vnd.oci.image.config.v1+json",
                            "digest": "{SHA_A}", "size": 7023}},
                "layers": [{layers}]}}"#
        )
    }

    fn layer(digest: &str, size: &str) -> String {
        format!(
            r#"{{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                 "digest": "{digest}", "size": {size}}}"#
        )
    }

    #[test]
    fn blocks_round_up_and_never_reach_zero() {
        let b = block_bytes(4.0).unwrap();
        assert_eq!(b, 500_000);
        assert_eq!(blocks_for(0, b), 1);
        assert_eq!(blocks_for(1, b), 1);
        assert_eq!(blocks_for(500_000, b), 1);
        assert_eq!(blocks_for(500_001, b), 2);
        assert_eq!(blocks_for(29_126_484, b), 59);
    }

    #[test]
    fn block_sizes_must_be_whole_bytes_in_range() {
        assert_eq!(block_bytes(0.1), Ok(12_500));
        assert_eq!(block_bytes(0.000008), Ok(1));
        assert_eq!(block_bytes(MAX_BLOCK_MB), Ok(125_000_000_000));
        for bad in [0.0, -4.0, f64::NAN, f64::INFINITY, 2e6, 0.000004, 0.0000123] {
            let e = block_bytes(bad).unwrap_err();
            assert!(e.contains("whole number of bytes"), "{bad}: {e}");
        }
    }

    #[test]
    fn digests_are_sha256_or_sha512_in_lowercase_hex() {
        assert!(check_digest(SHA_A).is_ok());
        assert!(check_digest(&format!("sha512:{}", "0f".repeat(64))).is_ok());
        for bad in [
            "4ccd55a5",
            "sha256:4CCD55A5039E950DD02FECF0ED98005D10CC11AC53A89ED65EF2F5FE2505858E",
            "sha256:4ccd55a5",
            "sha512:4ccd55a5039e950dd02fecf0ed98005d10cc11ac53a89ed65ef2f5fe2505858e",
            "md5:0123456789abcdef0123456789abcdef",
            "sha256:",
        ] {
            assert!(check_digest(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn layers_come_back_in_order_and_the_config_is_skipped() {
        let b = format!("sha256:{}", "b".repeat(64));
        let text = manifest(&format!("{}, {}", layer(&b, "12"), layer(SHA_A, "0")));
        let layers = parse_manifest(&text, Path::new("m.json")).unwrap();
        assert_eq!(
            layers,
            [
                Layer {
                    digest: b,
                    size: 12
                },
                Layer {
                    digest: SHA_A.into(),
                    size: 0
                }
            ]
        );
    }

    #[test]
    fn bad_fields_are_named() {
        let p = Path::new("m.json");
        let key = |text: &str| parse_manifest(text, p).unwrap_err().key;
        assert_eq!(key(&manifest(&layer(SHA_A, "-1"))), "layers[0].size");
        assert_eq!(key(&manifest(&layer(SHA_A, "1.5"))), "layers[0].size");
        assert_eq!(key(&manifest(&layer(SHA_A, "\"1\""))), "layers[0].size");
        assert_eq!(key(&manifest(&layer("sha256:ab", "1"))), "layers[0].digest");
        assert_eq!(key(&manifest("")), "layers");
        assert_eq!(key(&manifest("7")), "layers[0]");
        assert_eq!(
            key(&manifest(&layer(SHA_A, "1"))
                .replace("\"schemaVersion\": 2", "\"schemaVersion\": 1")),
            "schemaVersion"
        );
        assert_eq!(key(r#"{"schemaVersion": 2, "manifests": []}"#), "manifests");
        assert_eq!(key("[]"), "");
        assert_eq!(key("{"), "");
    }

    #[test]
    fn repeated_layers_are_one_chunk_and_sizes_must_agree() {
        let mut chunks = Chunks::default();
        let mut notes = Vec::new();
        let a = Layer {
            digest: SHA_A.into(),
            size: 10,
        };
        let b = Layer {
            digest: format!("sha256:{}", "b".repeat(64)),
            size: 20,
        };
        let p = Path::new("x.json");
        let list = chunks
            .image(p, &[a.clone(), b.clone(), a.clone()], 4, &mut notes)
            .unwrap();
        assert_eq!(list, [0, 1]);
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("layers[2] repeats layers[0]"));
        let list = chunks
            .image(Path::new("y.json"), std::slice::from_ref(&b), 4, &mut notes)
            .unwrap();
        assert_eq!(list, [1]);
        let other = Layer { size: 21, ..b };
        let e = chunks
            .image(Path::new("z.json"), &[other], 4, &mut notes)
            .unwrap_err();
        assert_eq!(e.key, "layers[0].size");
        assert!(
            e.message.contains("x.json `layers[1].size`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn names_with_line_breaks_stay_inside_their_strings() {
        let layers = [Layer {
            digest: SHA_A.into(),
            size: 1,
        }];
        let path = PathBuf::from("we\nird\".json");
        let text = render(
            std::slice::from_ref(&path),
            &[("we\nird\"".into(), vec![0])],
            &layers,
            4.0,
            500_000,
        );
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(parsed["image"][0]["name"].as_str(), Some("we\nird\""));
    }
}
