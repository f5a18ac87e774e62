//! Manifest text -> `parse_manifest`. Properties: no panic; every error's
//! Display starts with the file's name; parsed content is well formed (every
//! image non-empty, chunk indices in range and distinct within an image,
//! every chunk used, sizes positive and finite).
#![no_main]

use std::collections::HashSet;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use vmswarm::input::config::ContentConfig;
use vmswarm::input::content::parse_manifest;

const FILE: &str = "fuzz-manifest.toml";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = ContentConfig::default();
    match parse_manifest(text, Path::new(FILE), &config) {
        Ok(content) => {
            assert!(!content.images.is_empty());
            let mut used = vec![false; content.chunks.len()];
            let mut names = HashSet::new();
            for im in &content.images {
                assert!(!im.name.is_empty());
                assert!(names.insert(im.name.as_str()), "duplicate image name");
                assert!(!im.chunks.is_empty());
                let mut seen = HashSet::new();
                for &c in &im.chunks {
                    assert!(c < content.chunks.len());
                    assert!(seen.insert(c), "chunk twice in an image");
                    used[c] = true;
                }
            }
            assert!(used.iter().all(|&u| u), "unused chunk kept");
            let mut ids = HashSet::new();
            for ch in &content.chunks {
                assert!(!ch.id.is_empty());
                assert!(ids.insert(ch.id.as_str()), "duplicate chunk id");
                assert!(ch.blocks >= 1);
                assert!(ch.block_mb.is_finite() && ch.block_mb > 0.0);
            }
            // Sizes stay finite (bug 4 of fuzz/README.md, fixed).
            assert!((0..content.images.len()).all(|i| content.image_size_mb(i).is_finite()));
            if content.images.len() <= 64 {
                let r = content.report();
                assert!(r.unique_chunks == content.chunks.len());
                assert!((0.0..=1.0).contains(&r.pairwise_common_mean));
            }
        }
        Err(e) => {
            let shown = e.to_string();
            assert!(
                shown.starts_with(FILE),
                "error does not name the file: {shown:?}"
            );
        }
    }
});
