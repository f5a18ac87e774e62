//! Trace bytes -> `parse_trace` against a small fixed content (three
//! images, `image-1`..`image-3`). Properties: no panic; every error's Display
//! starts with the file's name; a parsed trace is non-empty, its times
//! finite, non-negative and non-decreasing, its images in range.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use vmswarm::input::content::{Chunk, Content, Image};
use vmswarm::input::workload::parse_trace;

const FILE: &str = "fuzz-trace.csv";

fn content() -> &'static Content {
    static CONTENT: OnceLock<Content> = OnceLock::new();
    CONTENT.get_or_init(|| Content {
        chunks: (0..4)
            .map(|i| Chunk {
                id: format!("chunk-{}", i + 1),
                blocks: 2,
                block_mb: 1.0,
            })
            .collect(),
        images: (0..3)
            .map(|i| Image {
                name: format!("image-{}", i + 1),
                chunks: vec![0, i + 1],
            })
            .collect(),
    })
}

fuzz_target!(|data: &[u8]| {
    let content = content();
    match parse_trace(data, Path::new(FILE), content) {
        Ok(rows) => {
            assert!(!rows.is_empty());
            let mut last = 0.0;
            for &(t, image) in &rows {
                assert!(t.is_finite() && t >= last, "time {t} after {last}");
                assert!(image < content.images.len());
                last = t;
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
