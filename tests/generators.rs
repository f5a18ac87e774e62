//! Statistical checks of the content and workload generators. Each
//! tolerance is several standard deviations of the estimate, stated beside it,
//! so a correct generator fails with negligible probability while a wrong
//! mean or skew fails.

use std::path::Path;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use vmswarm::input::config::{Config, ContentConfig, ContentKind, PopularityKind};
use vmswarm::input::content::Content;
use vmswarm::input::workload::{Workload, popularity};

#[test]
fn pool_common_fraction_matches_common_ratio() {
    // One pairwise fraction has sd ~0.09 (hypergeometric, C = 16, P = 80);
    // the mean over 300 draws x 45 pairs has sd below 0.002. Tolerance 0.01.
    // The pool's expected fraction is C / P, with P = round(C / rho): the
    // rounding moves it off rho by at most 0.004 for these ratios.
    for rho in [0.2, 0.3, 0.5, 0.8] {
        let cfg = ContentConfig {
            kind: ContentKind::Pool,
            common_ratio: rho,
            ..ContentConfig::default()
        };
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(42);
        let draws = 300;
        let mean: f64 = (0..draws)
            .map(|_| {
                Content::generate(&cfg, &mut rng)
                    .unwrap()
                    .report()
                    .pairwise_common_mean
            })
            .sum::<f64>()
            / draws as f64;
        let pool = (16.0 / rho).round();
        assert!(
            (mean - 16.0 / pool).abs() < 0.01,
            "rho = {rho}: measured {mean}"
        );
        assert!((mean - rho).abs() < 0.015, "rho = {rho}: measured {mean}");
    }
}

fn workload(text: &str, seed: u64) -> Workload {
    let config = Config::parse(text, Path::new("t.toml")).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let content = Content::generate(&config.content, &mut rng).unwrap();
    Workload::generate(&config.workload, &config.peers, &content, &mut rng).unwrap()
}

#[test]
fn poisson_arrival_count_is_within_four_sd() {
    // N ~ Poisson(lambda * window) = Poisson(4000): sd 63; tolerance 4 sd.
    for seed in 0..5 {
        let w = workload("[workload]\nrate_per_s = 4.0\nwindow_s = 1000.0\n", seed);
        let n = w.requests.len() as f64;
        assert!(
            (n - 4000.0).abs() < 4.0 * 4000f64.sqrt(),
            "seed {seed}: {n} arrivals"
        );
        assert!(
            w.requests
                .windows(2)
                .all(|p| p[0].arrival_s <= p[1].arrival_s)
        );
        assert!(w.requests.iter().all(|r| r.arrival_s < 1000.0));
    }
}

#[test]
fn zipf_image_frequencies_are_within_four_sd() {
    // Each image's count is Binomial(n, p_i): sd sqrt(n p_i (1 - p_i)); tolerance 4 sd.
    let w = workload(
        "[workload]\nrate_per_s = 20.0\nwindow_s = 1000.0\nzipf_exponent = 1.2\n",
        9,
    );
    let p = popularity(PopularityKind::Zipf, 10, 1.2);
    let n = w.requests.len() as f64;
    for (i, &pi) in p.iter().enumerate() {
        let count = w.requests.iter().filter(|r| r.image == i).count() as f64;
        let sd = (n * pi * (1.0 - pi)).sqrt();
        assert!(
            (count - n * pi).abs() < 4.0 * sd,
            "image {}: {count} vs {}",
            i + 1,
            n * pi
        );
    }
}

#[test]
fn lifetimes_and_uploads_stay_in_their_ranges() {
    let w = workload(
        "[workload]\nlifetime_min_s = 50.0\nlifetime_max_s = 100.0\n[peers]\nupload_mbps = 100.0\nupload_spread = 0.5\n",
        3,
    );
    assert!(
        w.requests
            .iter()
            .all(|r| (50.0..=100.0).contains(&r.lifetime_s))
    );
    assert!(
        w.requests
            .iter()
            .all(|r| (50.0..=150.0).contains(&r.upload_mbps))
    );
    let mean_upload =
        w.requests.iter().map(|r| r.upload_mbps).sum::<f64>() / w.requests.len() as f64;
    // Uniform on [50, 150]: sd 28.9 per host; with ~600 hosts the mean's sd is ~1.2.
    assert!((mean_upload - 100.0).abs() < 5.0, "{mean_upload}");
}
