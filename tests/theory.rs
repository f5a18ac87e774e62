//! Sanity against theory: cases where the download time is known exactly.

mod common;

use vmswarm::scenario::Scenario;

/// Image size in these tests: 4 chunks x 16 blocks x 4 Mb.
const F_MB: f64 = 256.0;

fn base(extra_workload: &str, peers: &str, server: &str) -> String {
    format!(
        r#"
seed = 3
policies = ["iso"]
[content]
images = 1
chunks_per_image = 4
blocks_per_chunk = 16
block_mb = 4.0
[workload]
arrivals = "burst"
{extra_workload}
[peers]
{peers}
[server]
{server}
"#
    )
}

#[test]
fn server_alone_serves_a_burst_in_n_f_over_u_s() {
    // u_c = 0: peers cannot help. n leechers share u_s equally, block after
    // block, so all finish together at n * F / u_s.
    for n in [1usize, 3, 5] {
        let text = base(
            &format!("burst_count = {n}"),
            "upload_mbps = 0.0",
            "u_s_mbps = 100.0",
        );
        let config = common::config(&text);
        let (_, runs) = common::run_all(&config);
        let expected = n as f64 * F_MB / 100.0;
        for v in &runs[0].output.vms {
            assert!(
                (v.download_s() - expected).abs() < 1e-6,
                "n = {n}: download {} s, expected {expected} s",
                v.download_s()
            );
            assert_eq!(v.from_peers_mb, 0.0);
        }
    }
}

#[test]
fn server_splits_equally_among_isolated_swarms() {
    // Two images, one leecher each, no peer help: under `iso` each image's
    // group gets u_s / 2, so each leecher takes 2 F / u_s.
    let text = base("burst_count = 40", "upload_mbps = 0.0", "u_s_mbps = 100.0")
        .replace("images = 1", "images = 2")
        .replace("[workload]", "[workload]\npopularity = \"uniform\"");
    let config = common::config(&text);
    let scenario = Scenario::build(&config).unwrap();
    let per_image: Vec<usize> = (0..2)
        .map(|i| {
            scenario
                .workload
                .requests
                .iter()
                .filter(|r| r.image == i)
                .count()
        })
        .collect();
    let run = scenario
        .run_policy(&config.resolved_policies()[0], &mut |_| {})
        .unwrap();
    // While both groups have demand each gets 50 Mb/s; the smaller group
    // finishes first, at n_small * F / 50.
    let small = per_image.iter().copied().min().unwrap();
    let first_done = run
        .output
        .vms
        .iter()
        .map(|v| v.completion_s)
        .fold(f64::INFINITY, f64::min);
    assert!(small > 0);
    assert!(
        (first_done - small as f64 * F_MB / 50.0).abs() < 1e-6,
        "{first_done}"
    );
}

#[test]
fn one_preheated_seeder_serves_a_leecher_in_f_over_u_c() {
    // u_s = 0 and one seeder present from time 0: the leecher's requests keep
    // the seeder's upload busy, so it completes in F / u_c.
    for u_c in [32.0, 128.0] {
        let text = base(
            "burst_count = 1\ninitial_seeders = 1",
            &format!("upload_mbps = {u_c}"),
            "u_s_mbps = 0.0",
        );
        let config = common::config(&text);
        let (_, runs) = common::run_all(&config);
        let v = &runs[0].output.vms[0];
        assert!(
            (v.download_s() - F_MB / u_c).abs() < 1e-6,
            "u_c = {u_c}: download {} s, expected {}",
            v.download_s(),
            F_MB / u_c
        );
        assert_eq!(v.from_server_mb, 0.0);
    }
}
