//! `vmswarm analyze` and the analytic figures.

use std::fs;
use std::path::Path;
use std::process::Command;

use vmswarm::theory::analysis::{AnalyticConfig, figure3, figure4, files};

fn bundled() -> AnalyticConfig {
    AnalyticConfig::load(Path::new("configs/analytic.toml")).unwrap()
}

#[test]
fn bundled_parameters_keep_figure_3_in_the_positive_regime() {
    let c = bundled();
    let points = figure3(&c);
    assert_eq!(points.len(), c.rates_per_s.len() * (3 + c.theta_off.len()));
    // The curves the paper draws (isolated, theta = beta, optimum) are
    // positive closed forms at every rate of the bundled config.
    for (rate, curve, t, ok) in &points {
        if !curve.contains("theta = 0.") || curve.contains("beta") {
            assert!(*ok && *t > 0.0, "{curve} at {rate}: {t}");
        }
    }
    // Theorem III.2's optimum is never slower than theta = beta, nor than isolated.
    for rate in &c.rates_per_s {
        let at = |name: &str| {
            points
                .iter()
                .find(|p| p.0 == *rate && p.1.starts_with(name))
                .unwrap()
                .2
        };
        assert!(at("cross, optimal") <= at("cross, theta = beta") + 1e-9);
        assert!(at("cross, optimal") <= at("isolated") + 1e-9);
    }
}

#[test]
fn figure_4_is_lowest_near_theta_equal_beta_for_equal_efficiency() {
    // With one eta everywhere, the optimum over theta includes theta = beta.
    let mut c = bundled();
    c.eta_common = c.eta;
    let points = figure4(&c);
    for beta in &c.fig4_betas {
        let curve: Vec<_> = points
            .iter()
            .filter(|p| p.1 == format!("beta = {beta}") && p.3)
            .collect();
        let best = curve.iter().map(|p| p.2).fold(f64::INFINITY, f64::min);
        let nearest = curve
            .iter()
            .min_by(|a, b| (a.0 - beta).abs().total_cmp(&(b.0 - beta).abs()))
            .unwrap();
        assert!(
            nearest.2 <= best * 1.02,
            "beta {beta}: {} vs best {best}",
            nearest.2
        );
    }
}

#[test]
fn analyze_writes_csv_and_svg() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("a");
    let o = Command::new(env!("CARGO_BIN_EXE_vmswarm"))
        .args([
            "analyze",
            "configs/analytic.toml",
            "--out",
            out.to_str().unwrap(),
            "-q",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (name, _) in files(&bundled()).unwrap() {
        let text = fs::read_to_string(out.join(&name)).unwrap();
        assert!(!text.contains("NaN"), "{name} has NaN");
        if name.ends_with(".svg") {
            assert!(text.starts_with("<svg"));
        }
    }
}

#[test]
fn a_bad_analytic_config_names_the_key() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.toml");
    let text = fs::read_to_string("configs/analytic.toml")
        .unwrap()
        .replace("beta = 0.3 ", "beta = 1.5 ");
    fs::write(&path, text).unwrap();
    let e = AnalyticConfig::load(&path).unwrap_err();
    assert_eq!(e.key, "beta");
    assert!(e.to_string().contains("bad.toml"));
}
