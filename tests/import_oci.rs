//! `vmswarm import oci` through the real binary, on the fixtures in
//! `tests/fixtures/oci/`: good manifests import and load back as shared
//! chunks of the right sizes; bad ones fail with one line naming the file
//! and the field, exit code 1, and no output file.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use vmswarm::input::config::{Config, ContentConfig};
use vmswarm::input::content::{Content, load_manifest};

const GOOD: &str = "tests/fixtures/oci/good";
const BAD: &str = "tests/fixtures/oci/bad";

/// The good fixtures, in image order.
const GOOD_FILES: [&str; 3] = ["alpine-app.json", "alpine-web.json", "alpine-tools.json"];

/// The bundled example, in the order of configs/oci-example.toml's comment.
const EXAMPLE: [&str; 5] = [
    "configs/oci/python-api.json",
    "configs/oci/node-web.json",
    "configs/oci/python-worker.json",
    "configs/oci/node-api.json",
    "configs/oci/debian-tools.json",
];

const BASE: &str = "sha256:e5f9721aa2886998a80bdd1719a7b7ad7763da09f55404e9f5838ffec21d63b7";

/// Run the binary from the crate's root, so fixture paths (and so the
/// messages and the generated header) are relative and stable.
fn vmswarm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the binary runs")
}

fn good() -> Vec<String> {
    GOOD_FILES.iter().map(|f| format!("{GOOD}/{f}")).collect()
}

fn import(manifests: &[String], out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["import", "oci"];
    args.extend(manifests.iter().map(String::as_str));
    args.extend(["--out", out.to_str().unwrap()]);
    args.extend(extra);
    vmswarm(&args)
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn chunk<'a>(content: &'a Content, id: &str) -> (usize, &'a vmswarm::input::content::Chunk) {
    content
        .chunks
        .iter()
        .enumerate()
        .find(|(_, c)| c.id == id)
        .unwrap_or_else(|| panic!("no chunk {id}"))
}

fn holders(content: &Content, chunk: usize) -> Vec<&str> {
    content
        .images
        .iter()
        .filter(|im| im.chunks.contains(&chunk))
        .map(|im| im.name.as_str())
        .collect()
}

#[test]
fn imported_layers_load_back_as_shared_chunks_of_the_right_size() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("images.toml");
    let o = import(&good(), &out, &[]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    // The repeated layer is kept once, and said so.
    assert!(
        stderr.contains("alpine-tools.json: layers[3] repeats layers[1]"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("3 images, 8 chunks (1 shared"), "{stdout}");
    assert_eq!(files_in(tmp.path()), BTreeSet::from(["images.toml".into()]));

    let content = load_manifest(&out, &ContentConfig::default()).unwrap();
    let names: Vec<&str> = content.images.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["alpine-app", "alpine-web", "alpine-tools"]);
    assert_eq!(content.chunks.len(), 8);
    // The base layer: one chunk in all three images, whatever the format
    // (OCI in two, Docker in one); 3,623,807 bytes = 7.25 blocks of 500,000.
    let (base, c) = chunk(&content, BASE);
    assert_eq!(holders(&content, base).len(), 3);
    assert_eq!((c.blocks, c.block_mb), (8, 4.0));
    for image in &content.images {
        assert_eq!(image.chunks[0], base, "{} starts with the base", image.name);
    }
    // Sizes: exact multiples stay, the rest round up, empty layers get 1.
    let blocks: Vec<Vec<u32>> = content
        .images
        .iter()
        .map(|im| {
            im.chunks
                .iter()
                .map(|&c| content.chunks[c].blocks)
                .collect()
        })
        .collect();
    assert_eq!(blocks, [vec![8, 2, 1], vec![8, 1, 3], vec![8, 5, 1, 9]]);
    // The sha512 digest is kept whole as the chunk's id.
    assert!(content.chunks.iter().any(|c| c.id.starts_with("sha512:")));
    // Only the base is shared: the model's common fraction sees it.
    assert_eq!(content.report().all_image_intersection, 1);
}

#[test]
fn block_mb_sets_the_block_size() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("images.toml");
    let o = import(&good(), &out, &["--block-mb", "1", "--quiet"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "--quiet prints");
    let content = load_manifest(&out, &ContentConfig::default()).unwrap();
    let (_, c) = chunk(&content, BASE);
    // 3,623,807 bytes over 125,000-byte blocks: 28.99 -> 29.
    assert_eq!((c.blocks, c.block_mb), (29, 1.0));
}

#[test]
fn the_bundled_example_is_up_to_date_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("images.toml");
    let files: Vec<String> = EXAMPLE.iter().map(|s| s.to_string()).collect();
    let o = import(&files, &out, &["-q"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    assert_eq!(
        fs::read_to_string(&out).unwrap(),
        fs::read_to_string(root.join("configs/oci/images.toml")).unwrap(),
        "configs/oci/images.toml is stale: regenerate it with the command in configs/oci-example.toml"
    );
    // The Debian base layer is in all five images.
    let config = Config::load(&root.join("configs/oci-example.toml")).unwrap();
    let manifest = config.content.manifest.as_deref().unwrap();
    let content = load_manifest(manifest, &config.content).unwrap();
    assert_eq!(content.images.len(), 5);
    assert_eq!(content.report().all_image_intersection, 1);
    let run_out = tmp.path().join("run");
    let o = vmswarm(&[
        "run",
        "configs/oci-example.toml",
        "--policy",
        "cross-opt-exact",
        "--quiet",
        "--out",
        run_out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(run_out.join("summary.csv").exists());
}

/// A bad import: the arguments' manifests, what the one-line message must
/// contain (the file and the field first), and extra flags.
struct Bad {
    manifests: Vec<String>,
    expect: Vec<String>,
    flags: Vec<&'static str>,
}

fn bad(file: &str, field: &'static str, allowed: &'static str) -> Bad {
    let path = format!("{BAD}/{file}");
    Bad {
        expect: vec![path.clone(), field.into(), allowed.into()],
        manifests: vec![path],
        flags: vec![],
    }
}

fn bad_cases() -> Vec<Bad> {
    let mut cases = vec![
        bad(
            "index.json",
            "field `mediaType`",
            "pass the per-platform image manifests",
        ),
        bad(
            "manifest-list.json",
            "field `mediaType`",
            "manifest.list.v2+json",
        ),
        bad(
            "index-no-media-type.json",
            "field `manifests`",
            "per-platform",
        ),
        bad("schema1.json", "field `schemaVersion`", "allowed: 2"),
        bad(
            "schema-version-string.json",
            "field `schemaVersion`",
            "the integer 2 (got \"2\")",
        ),
        bad(
            "artifact-media-type.json",
            "field `mediaType`",
            "manifest.v2+json` (or no mediaType)",
        ),
        bad(
            "no-layers.json",
            "field `layers`",
            "array of layer descriptors",
        ),
        bad("empty-layers.json", "field `layers`", "at least one layer"),
        bad("no-config.json", "field `config`", "descriptor"),
        bad(
            "digest-uppercase.json",
            "field `layers[1].digest`",
            "64 lowercase hex",
        ),
        bad(
            "digest-short.json",
            "field `layers[0].digest`",
            "64 lowercase hex",
        ),
        bad(
            "digest-md5.json",
            "field `layers[0].digest`",
            "algorithm `md5`",
        ),
        bad(
            "digest-missing.json",
            "field `layers[2].digest`",
            "missing; allowed",
        ),
        bad(
            "size-negative.json",
            "field `layers[1].size`",
            "non-negative integer",
        ),
        bad("size-float.json", "field `layers[0].size`", "is 3623807.5"),
        bad(
            "size-string.json",
            "field `layers[0].size`",
            "non-negative integer",
        ),
        bad("size-missing.json", "field `layers[0].size`", "missing"),
        bad(
            "config-as-layer.json",
            "field `layers[1].mediaType`",
            "tar+zstd",
        ),
        bad(
            "helm-chart.json",
            "field `layers[0].mediaType`",
            "allowed: a layer media type",
        ),
        bad(
            "layer-not-object.json",
            "field `layers[1]`",
            "descriptor object",
        ),
        bad("not-json.json", "not valid JSON", "line 6 column 3"),
        bad("top-array.json", "the top level is [", "a JSON object"),
        bad(
            "huge-layer.json",
            "field `layers[0].size`",
            "larger --block-mb",
        ),
    ];
    cases.last_mut().unwrap().flags = vec!["--block-mb", "0.000008"];
    // Across files: a digest with two sizes; two files with one stem.
    let mut conflict = bad(
        "size-conflict.json",
        "field `layers[0].size`",
        "alpine-app.json",
    );
    conflict
        .manifests
        .insert(0, format!("{GOOD}/alpine-app.json"));
    let mut twins = bad(
        "dup-name/alpine-app.json",
        "named `alpine-app`",
        "distinct names",
    );
    twins.manifests.insert(0, format!("{GOOD}/alpine-app.json"));
    cases.extend([conflict, twins]);
    // The command line: a missing file, bad block sizes.
    cases.push(Bad {
        manifests: vec!["tests/fixtures/oci/nope.json".into()],
        expect: [
            "tests/fixtures/oci/nope.json",
            "cannot read",
            "No such file",
        ]
        .map(String::from)
        .to_vec(),
        flags: vec![],
    });
    for (flag, allowed) in [("0", "> 0"), ("0.0000123", "whole number of bytes")] {
        cases.push(Bad {
            manifests: good(),
            expect: vec![format!("--block-mb {flag}"), allowed.into()],
            flags: vec!["--block-mb", flag],
        });
    }
    cases
}

/// Run one bad case into a directory holding an older `images.toml`; an
/// `Err` says what went wrong.
fn check(case: &Bad) -> Result<(), String> {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("images.toml");
    fs::write(&out, "# an older import\n").unwrap();
    let o = import(&case.manifests, &out, &case.flags);
    let stderr = String::from_utf8_lossy(&o.stderr);
    let mut problems = Vec::new();
    if o.status.code() != Some(1) {
        problems.push(format!("exit status {:?}, not 1", o.status.code()));
    }
    if stderr.contains("panicked") || stderr.trim().lines().count() != 1 {
        problems.push("stderr is not one line".into());
    }
    for fragment in &case.expect {
        if !stderr.contains(fragment.as_str()) {
            problems.push(format!("no `{fragment}`"));
        }
    }
    if files_in(tmp.path()) != BTreeSet::from(["images.toml".into()])
        || fs::read_to_string(&out).unwrap() != "# an older import\n"
    {
        problems.push(format!("output touched: {:?}", files_in(tmp.path())));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{:?}: {}\n    stderr: {}",
            case.manifests,
            problems.join("; "),
            stderr.trim()
        ))
    }
}

#[test]
fn bad_manifests_fail_with_one_line_naming_file_and_field() {
    let cases = bad_cases();
    let failures: Vec<String> = cases.iter().filter_map(|c| check(c).err()).collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases mishandled:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_bad_fixture_has_a_case() {
    let named: BTreeSet<PathBuf> = bad_cases()
        .into_iter()
        .flat_map(|c| c.manifests)
        .map(PathBuf::from)
        .collect();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stack = vec![root.join(BAD)];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(root).unwrap().to_path_buf();
                assert!(named.contains(&rel), "{} is in no case", rel.display());
            }
        }
    }
}

#[test]
fn bad_output_paths_fail_before_reading() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("file.txt"), "x").unwrap();
    for (out, expect) in [
        (tmp.path().to_path_buf(), "is a directory"),
        (
            tmp.path().join("file.txt/images.toml"),
            "is not a directory",
        ),
    ] {
        let o = import(&good(), &out, &[]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("cannot write output") && stderr.contains(expect),
            "{stderr}"
        );
        assert_eq!(stderr.trim().lines().count(), 1);
    }
    assert_eq!(files_in(tmp.path()), BTreeSet::from(["file.txt".into()]));
}
