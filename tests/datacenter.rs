//! The data center (docs/model.md section 9): racks, rack links, download
//! caps as max-min sharing, rack locality and their metrics.
//!
//! Every run here passes `check_invariants` at its end (the simulator
//! returns an error otherwise): no link of the max-min network ever above
//! its capacity, conservation of data, every VM complete. The tests add
//! what those checks cannot see from one run: exact cross-rack accounting,
//! equality with the model without racks, the effect of locality, and
//! agreement of the batched re-solves with re-solving at every change.

mod common;

use proptest::prelude::*;
use vmswarm::app::output::summary_table;
use vmswarm::scenario::{PolicyRun, Scenario};

/// A small flash crowd with the knobs the tests turn. `topology` is the
/// body of a `[topology]` table (none when empty); `peers` extra lines of
/// `[peers]`.
fn crowd(seed: u64, hosts: usize, peers: &str, topology: &str) -> String {
    let table = if topology.is_empty() {
        String::new()
    } else {
        format!("[topology]\n{topology}\n")
    };
    format!(
        "seed = {seed}\npolicies = [\"cross-equ\"]\n\
         [content]\nimages = 1\nchunks_per_image = 2\nblocks_per_chunk = 12\nblock_mb = 8.0\ncommon_ratio = 1.0\n\
         [workload]\narrivals = \"burst\"\nburst_count = {hosts}\nburst_spread_s = 0.5\n\
         lifetime_min_s = 2.0\nlifetime_max_s = 4.0\n\
         [peers]\nupload_mbps = 100.0\n{peers}\n\
         [server]\nu_s_mbps = 200.0\ntick_s = 0.5\n{table}"
    )
}

fn run(text: &str) -> (Scenario, PolicyRun) {
    let (scenario, mut runs) = common::run_all(&common::config(text));
    (scenario, runs.remove(0))
}

fn download_times(run: &PolicyRun) -> Vec<f64> {
    run.output.vms.iter().map(|v| v.download_s()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Random small layouts: every run completes within every link's
    /// capacity (checked by the run itself), its peak link load is recorded
    /// when it has a network, and cross-rack Mb never exceed peer Mb.
    #[test]
    fn random_topologies_keep_every_link_within_capacity(
        seed in 1u64..1000,
        hosts in 4usize..40,
        per_rack in 1usize..12,
        ratio in prop_oneof![Just(None), (1.0f64..8.0).prop_map(Some)],
        cap in prop_oneof![Just(None), (30.0f64..300.0).prop_map(Some)],
        spread in 0.0f64..0.9,
        random in any::<bool>(),
        rack in any::<bool>(),
        resolve_s in prop_oneof![Just(0.0), 0.001f64..0.1],
    ) {
        let mut topology = format!("hosts_per_rack = {per_rack}\nresolve_s = {resolve_s}\n");
        if let Some(r) = ratio {
            topology.push_str(&format!("oversubscription = {r}\n"));
        }
        if random {
            topology.push_str("placement = \"random\"\n");
        }
        let mut peers = format!("upload_spread = {spread}\n");
        if let Some(d) = cap {
            peers.push_str(&format!("download_cap_mbps = {d}\n"));
        }
        if rack {
            peers.push_str("locality = \"rack\"\n");
        }
        let (_, run) = run(&crowd(seed, hosts, &peers, &topology));
        let c = &run.output.counters;
        prop_assert_eq!(run.output.vms.len(), hosts);
        let networked = ratio.is_some() || cap.is_some();
        prop_assert_eq!(c.max_link_utilisation.is_some(), networked);
        if let Some(u) = c.max_link_utilisation {
            prop_assert!(u <= 1.0 + 1e-9, "a link at {u} of its capacity");
        }
        prop_assert!(c.cross_rack_mb <= c.peer_sent_mb * (1.0 + 1e-9));
        if per_rack >= hosts {
            prop_assert_eq!(c.cross_rack_mb, 0.0);
        }
        // With a download cap, no VM downloads faster than its cap allows.
        if let Some(d) = cap {
            for v in &run.output.vms {
                prop_assert!(v.download_s() >= 192.0 / d * (1.0 - 1e-9));
            }
        }
    }
}

/// A rack per host: every Mb a peer sends crosses a rack boundary, partial
/// blocks of cut flows included.
#[test]
fn with_a_rack_per_host_every_peer_mb_crosses_racks() {
    for topology in [
        "hosts_per_rack = 1\n",
        "hosts_per_rack = 1\nuplink_mbps = 60.0\n",
    ] {
        let (_, run) = run(&crowd(3, 30, "", topology));
        let c = &run.output.counters;
        assert!(c.peer_sent_mb > 0.0);
        assert!(
            (c.cross_rack_mb - c.peer_sent_mb).abs() <= 1e-9 * c.peer_sent_mb,
            "{topology}: {} of {} Mb",
            c.cross_rack_mb,
            c.peer_sent_mb
        );
    }
}

/// Racks without capacities, without a download cap and without locality
/// change nothing: the same download times, bit for bit, as without
/// `[topology]` (per-sender processor sharing runs unchanged).
#[test]
fn uncapped_racks_are_the_model_without_racks() {
    let (_, plain) = run(&crowd(5, 30, "", ""));
    for topology in [
        "hosts_per_rack = 30\n",
        "hosts_per_rack = 4\nplacement = \"random\"\n",
    ] {
        let (_, racked) = run(&crowd(5, 30, "", topology));
        assert_eq!(
            download_times(&plain),
            download_times(&racked),
            "{topology}"
        );
        assert_eq!(racked.output.counters.max_link_utilisation, None);
    }
}

/// On an oversubscribed layout, rack locality strictly reduces the Mb that
/// cross racks, on every seed.
#[test]
fn rack_locality_reduces_cross_rack_traffic() {
    let topology = "hosts_per_rack = 8\noversubscription = 4.0\n";
    for seed in 1..=3 {
        let (_, any) = run(&crowd(seed, 48, "", topology));
        let (_, near) = run(&crowd(seed, 48, "locality = \"rack\"\n", topology));
        let (a, n) = (
            any.output.counters.cross_rack_mb,
            near.output.counters.cross_rack_mb,
        );
        assert!(n < a, "seed {seed}: {n} Mb with locality, {a} without");
    }
}

/// Batched re-solves (the default period) against re-solving at every
/// change (`resolve_s = 0`, exact max-min throughout): mean download times
/// within 3% over a few seeds.
#[test]
fn batched_re_solves_agree_with_exact_sharing() {
    let mean = |resolve: &str| -> f64 {
        let topology = format!("hosts_per_rack = 6\noversubscription = 3.0\n{resolve}");
        let runs: Vec<f64> = (1..=4)
            .map(|seed| {
                let (_, r) = run(&crowd(seed, 36, "download_cap_mbps = 150.0\n", &topology));
                r.summary.mean_vm_s
            })
            .collect();
        runs.iter().sum::<f64>() / runs.len() as f64
    };
    let (exact, batched) = (mean("resolve_s = 0.0\n"), mean(""));
    assert!(
        (batched - exact).abs() <= 0.03 * exact,
        "batched {batched} s, exact {exact} s"
    );
}

/// The printed table of a run with `[topology]` has the data center's
/// columns; the Kraken preset's config is valid and its keys are the
/// documented ones.
#[test]
fn the_table_shows_the_data_center_numbers() {
    let (scenario, run) = run(&crowd(
        2,
        20,
        "",
        "hosts_per_rack = 5\noversubscription = 2.0\n",
    ));
    let table = summary_table(std::slice::from_ref(&run), &scenario);
    for column in [
        "p50_s",
        "p99_s",
        "p99.9_s",
        "cross_rack_Mb",
        "server_peak_Mbps",
        "max_link%",
    ] {
        assert!(table.contains(column), "no {column} in\n{table}");
    }
    for preset in [
        "configs/kraken-2600.toml",
        "configs/kraken-2600-4to1.toml",
        "configs/kraken-2600-4to1-rack.toml",
    ] {
        let config = vmswarm::input::config::Config::load(std::path::Path::new(preset))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(config.topology.is_some(), "{preset}");
        assert_eq!(config.workload.burst_count, 2600, "{preset}");
    }
}
