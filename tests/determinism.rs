//! Same config and seed, same bytes; another seed, other arrivals.

mod common;

use std::fs;
use std::path::Path;

use vmswarm::app::output::{RUN_FILES, write_run};
use vmswarm::scenario::Scenario;

fn write(config_text: &str, dir: &Path) {
    let config = common::config(config_text);
    let (scenario, runs) = common::run_all(&config);
    write_run(dir, &scenario, &runs).unwrap();
}

#[test]
fn same_seed_gives_byte_identical_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    write(common::SMALL, &a);
    write(common::SMALL, &b);
    for name in RUN_FILES {
        let x = fs::read(a.join(name)).unwrap();
        let y = fs::read(b.join(name)).unwrap();
        assert!(!x.is_empty(), "{name} is empty");
        assert_eq!(x, y, "{name} differs between identical runs");
    }
    // No temporary file is left behind.
    let names: Vec<_> = fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), RUN_FILES.len(), "{names:?}");
}

#[test]
fn another_seed_gives_other_arrivals() {
    let one = Scenario::build(&common::config(common::SMALL)).unwrap();
    let two = Scenario::build(&common::config(
        &common::SMALL.replace("seed = 7", "seed = 8"),
    ))
    .unwrap();
    assert_ne!(one.workload.requests, two.workload.requests);
}

#[test]
fn policies_share_one_workload() {
    // Common random numbers: the policy list does not change the requests.
    let all = Scenario::build(&common::config(common::SMALL)).unwrap();
    let one = Scenario::build(&common::config(&format!(
        "policies = [\"cross-opt\"]\n{}",
        common::SMALL
    )))
    .unwrap();
    assert_eq!(all.workload, one.workload);
    assert_eq!(all.content, one.content);
}
