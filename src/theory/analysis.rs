//! `vmswarm analyze`: the paper's Figures 3 and 4 from the analytic model
//! (Section III), and the fluid ODE's transient from an empty start.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::input::config::{ConfigError, PopularityKind, describe_toml_error};
use crate::input::workload::popularity;
use crate::plot::{Chart, Series, render_svg};
use crate::theory::analytic::{
    CrossModel, IsolatedModel, OdeSettings, Regime, SwarmParams, cross_allocation_at,
    cross_special_allocation, cross_summary, integrate_isolated, isolated_equilibria,
    isolated_summary, optimal_cross_allocation, optimal_isolated_allocation,
};

/// `configs/analytic.toml`: parameters of the analytic figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalyticConfig {
    /// `F` (Mb).
    pub file_mb: f64,
    /// `u_c` (Mb/s).
    pub u_c_mbps: f64,
    /// `u_s` (Mb/s).
    pub u_s_mbps: f64,
    /// `K`.
    pub images: usize,
    /// `zipf` or `uniform`.
    pub popularity: PopularityKind,
    /// Zipf exponent.
    pub zipf_exponent: f64,
    /// `1 / gamma`: mean seeding time (s), in every swarm.
    pub seed_time_s: f64,
    /// `eta_i` of the image swarms.
    pub eta: f64,
    /// `eta_0` of the common swarm (Swarm 0).
    pub eta_common: f64,
    /// `beta` for Figure 3.
    pub beta: f64,
    /// The `theta != beta` values of Figure 3.
    pub theta_off: Vec<f64>,
    /// Figure 3's request rates (req/s).
    pub rates_per_s: Vec<f64>,
    /// Figure 4's request rate (req/s).
    pub fig4_rate_per_s: f64,
    /// Figure 4's `beta` values (one curve each).
    pub fig4_betas: Vec<f64>,
    /// Figure 4's `theta` grid.
    pub fig4_thetas: Vec<f64>,
    /// The transient's request rate (req/s).
    pub transient_rate_per_s: f64,
    /// The transient's horizon (s).
    pub transient_horizon_s: f64,
}

/// Bounds of `configs/analytic.toml`'s values. Within them every derived
/// quantity of the fluid model (times, slopes, allocations) stays finite,
/// so the closed forms never meet an overflow or a rate that underflows to
/// 0, and the transient's fixed-step ODE stays small.
const MIN_POSITIVE: f64 = 1e-6;
const MAX_POSITIVE: f64 = 1e9;
const MAX_IMAGES: usize = 1000;
const MAX_ZIPF_EXPONENT: f64 = 10.0;
const MAX_HORIZON_S: f64 = 1e4;
/// The transient's RK4 step (s).
const ODE_STEP_S: f64 = 0.01;
/// The shortest time scale (s) the transient's fixed step resolves: RK4 is
/// stable while `rate * step` stays below about 2.8, and the swarms' rates
/// are `gamma = 1 / seed_time_s` and `u_c / F`.
const MIN_TIME_SCALE_S: f64 = ODE_STEP_S / 2.0;

/// A bound for messages: plain where that reads well, else exponent form.
fn show(v: f64) -> String {
    if v == 0.0 || (1e-3..1e6).contains(&v.abs()) {
        v.to_string()
    } else {
        format!("{v:e}")
    }
}

/// The range checks of an analytic config file; errors name the file and
/// the key.
struct Ranges<'a> {
    path: &'a Path,
}

impl Ranges<'_> {
    fn err(&self, key: &str, message: String) -> ConfigError {
        ConfigError {
            file: self.path.to_path_buf(),
            key: key.into(),
            message,
        }
    }

    /// `v` in `[lo, hi]`.
    fn within(&self, key: &str, v: f64, lo: f64, hi: f64) -> Result<(), ConfigError> {
        if (lo..=hi).contains(&v) {
            Ok(())
        } else {
            Err(self.err(
                key,
                format!(
                    "must be a number from {} to {} (got {v})",
                    show(lo),
                    show(hi)
                ),
            ))
        }
    }

    /// A positive quantity within the bounds that keep the model finite.
    fn positive(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        self.within(key, v, MIN_POSITIVE, MAX_POSITIVE)
    }

    /// Fractions in (0, 1), kept off the ends where a swarm's content or
    /// upload would vanish.
    fn unit(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if (MIN_POSITIVE..=1.0 - MIN_POSITIVE).contains(&v) {
            Ok(())
        } else {
            Err(self.err(
                key,
                format!(
                    "must be in (0, 1), from {} to {} (got {v})",
                    show(MIN_POSITIVE),
                    1.0 - MIN_POSITIVE
                ),
            ))
        }
    }
}

impl AnalyticConfig {
    /// Read and check `path`.
    pub fn load(path: &Path) -> Result<AnalyticConfig, ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            file: path.to_path_buf(),
            key: key.into(),
            message,
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| err("", format!("cannot read the analytic config: {e}")))?;
        let c: AnalyticConfig =
            toml::from_str(&text).map_err(|e| err("", describe_toml_error(&text, &e)))?;
        c.check(path)?;
        Ok(c)
    }

    /// Check every value's range, then that Figures 3 and 4 have a point
    /// to draw; the error names the key.
    pub fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let check = Ranges { path };
        self.check_model(&check)?;
        self.check_figures(&check)?;
        // A figure whose every point is in the regime where server and
        // seeders suffice has nothing to plot.
        let empty = "server and seeders outpace demand everywhere (no positive closed form), so \
                     the figure would be empty; allowed: values where F / u_c > seed_time_s + \
                     u_s^i / (u_c lambda_i), e.g. higher rates, a smaller u_s_mbps or seed_time_s";
        if !figure3(self).iter().any(|p| p.3) {
            return Err(check.err("rates_per_s", format!("Figure 3: {empty}")));
        }
        if !figure4(self).iter().any(|p| p.3) {
            return Err(check.err("fig4_rate_per_s", format!("Figure 4: {empty}")));
        }
        Ok(())
    }

    /// The model's parameters: sizes, rates, images, popularity, seeding
    /// time and efficiencies.
    fn check_model(&self, check: &Ranges) -> Result<(), ConfigError> {
        let c = self;
        check.positive("file_mb", c.file_mb)?;
        check.positive("u_c_mbps", c.u_c_mbps)?;
        check.within("u_s_mbps", c.u_s_mbps, 0.0, MAX_POSITIVE)?;
        if !(1..=MAX_IMAGES).contains(&c.images) {
            return Err(check.err(
                "images",
                format!("must be from 1 to {MAX_IMAGES} (got {})", c.images),
            ));
        }
        check.within("zipf_exponent", c.zipf_exponent, 0.0, MAX_ZIPF_EXPONENT)?;
        if !(MIN_TIME_SCALE_S..=MAX_POSITIVE).contains(&c.seed_time_s) {
            return Err(check.err(
                "seed_time_s",
                format!(
                    "must be a number from {MIN_TIME_SCALE_S} to {} (at least {MIN_TIME_SCALE_S} \
                     s for the transient's fixed ODE step of {ODE_STEP_S} s; got {})",
                    show(MAX_POSITIVE),
                    c.seed_time_s
                ),
            ));
        }
        if c.file_mb / c.u_c_mbps < MIN_TIME_SCALE_S {
            return Err(check.err(
                "file_mb",
                format!(
                    "file_mb / u_c_mbps must be at least {MIN_TIME_SCALE_S} s, for the \
                     transient's fixed ODE step of {ODE_STEP_S} s (got {} / {} = {} s)",
                    c.file_mb,
                    c.u_c_mbps,
                    c.file_mb / c.u_c_mbps
                ),
            ));
        }
        for (key, v) in [("eta", c.eta), ("eta_common", c.eta_common)] {
            if !(MIN_POSITIVE..=1.0).contains(&v) {
                return Err(check.err(
                    key,
                    format!(
                        "must be in (0, 1], from {} to 1 (got {v})",
                        show(MIN_POSITIVE)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The figures' grids: `beta`, `theta` values, rates and the
    /// transient's horizon.
    fn check_figures(&self, check: &Ranges) -> Result<(), ConfigError> {
        let c = self;
        check.unit("beta", c.beta)?;
        for (key, list) in [
            ("theta_off", &c.theta_off),
            ("fig4_betas", &c.fig4_betas),
            ("fig4_thetas", &c.fig4_thetas),
        ] {
            if list.is_empty() {
                return Err(check.err(key, "must list at least one value".into()));
            }
            for &v in list {
                check.unit(key, v)?;
            }
        }
        if c.rates_per_s.is_empty() {
            return Err(check.err("rates_per_s", "must list at least one rate".into()));
        }
        for &r in &c.rates_per_s {
            check.positive("rates_per_s", r)?;
        }
        check.positive("fig4_rate_per_s", c.fig4_rate_per_s)?;
        check.positive("transient_rate_per_s", c.transient_rate_per_s)?;
        check.within(
            "transient_horizon_s",
            c.transient_horizon_s,
            MIN_POSITIVE,
            MAX_HORIZON_S,
        )
    }

    fn swarms(&self, rate: f64) -> Vec<SwarmParams> {
        popularity(self.popularity, self.images, self.zipf_exponent)
            .iter()
            .map(|p| SwarmParams {
                lambda_per_s: rate * p,
                gamma_per_s: 1.0 / self.seed_time_s,
                eta: self.eta,
            })
            .collect()
    }

    /// The isolated model at a total request rate.
    pub fn isolated(&self, rate: f64) -> IsolatedModel {
        IsolatedModel {
            file_mb: self.file_mb,
            u_c_mbps: self.u_c_mbps,
            swarms: self.swarms(rate),
        }
    }

    /// The cross model at a total request rate and `beta`.
    pub fn cross(&self, rate: f64, beta: f64) -> CrossModel {
        CrossModel {
            file_mb: self.file_mb,
            u_c_mbps: self.u_c_mbps,
            beta,
            common_gamma_per_s: 1.0 / self.seed_time_s,
            common_eta: self.eta_common,
            swarms: self.swarms(rate),
        }
    }
}

/// A mean time, or empty where server and seeders suffice (no positive
/// closed form: reported as such, never as a negative time).
fn cell(regime_positive: bool, t: f64) -> String {
    if regime_positive {
        t.to_string()
    } else {
        String::new()
    }
}

fn positive(common: Regime) -> bool {
    matches!(common, Regime::UploadConstrained { .. })
}

/// One curve's point of Figure 3 or 4: the `lambda`-weighted mean time,
/// whether the closed form is positive there, and the curve's label.
type Point = (f64, String, f64, bool);

/// Figure 3: mean distribution time vs request rate; isolated (Theorem
/// III.1's allocation) vs cross with `theta = beta` (the paper's special
/// allocation) and `theta != beta` (the best allocation at that `theta`),
/// and the cross model's optimum over `theta` (Theorem III.2).
pub fn figure3(c: &AnalyticConfig) -> Vec<Point> {
    let mut points = Vec::new();
    for &rate in &c.rates_per_s {
        let iso = c.isolated(rate);
        let alloc = optimal_isolated_allocation(&iso, c.u_s_mbps);
        points.push((
            rate,
            "isolated (Thm III.1)".into(),
            isolated_summary(&iso, &alloc.u_s_mbps).weighted_mean_s,
            positive(alloc.common),
        ));
        let cross = c.cross(rate, c.beta);
        let special = cross_special_allocation(&cross, c.u_s_mbps);
        let ok = cross_equilibria_positive(&cross, c.beta, &special);
        points.push((
            rate,
            format!("cross, theta = beta = {}", c.beta),
            cross_summary(&cross, c.beta, &special).weighted_mean_s,
            ok,
        ));
        for &theta in &c.theta_off {
            points.push(best_at_theta(
                c,
                &cross,
                theta,
                rate,
                format!("cross, theta = {theta}"),
            ));
        }
        let best = optimal_cross_allocation(&cross, c.u_s_mbps);
        points.push((
            rate,
            "cross, optimal theta (Thm III.2)".into(),
            cross_summary(&cross, best.theta, &best.u_s_mbps).weighted_mean_s,
            positive(best.common),
        ));
    }
    points
}

/// The cross model's point at `theta` with the best allocation there.
fn best_at_theta(
    c: &AnalyticConfig,
    cross: &CrossModel,
    theta: f64,
    x: f64,
    label: String,
) -> Point {
    let a = cross_allocation_at(cross, theta, c.u_s_mbps);
    (
        x,
        label,
        cross_summary(cross, theta, &a.u_s_mbps).weighted_mean_s,
        positive(a.common),
    )
}

fn cross_equilibria_positive(model: &CrossModel, theta: f64, alloc: &[f64]) -> bool {
    crate::theory::analytic::cross_equilibria(model, theta, alloc)
        .iter()
        .all(|e| positive(e.regime))
}

/// Figure 4: the cross model's mean distribution time vs `theta`, one curve
/// per `beta`, with the best allocation at each `theta`.
pub fn figure4(c: &AnalyticConfig) -> Vec<Point> {
    let mut points = Vec::new();
    for &beta in &c.fig4_betas {
        let cross = c.cross(c.fig4_rate_per_s, beta);
        for &theta in &c.fig4_thetas {
            points.push(best_at_theta(
                c,
                &cross,
                theta,
                theta,
                format!("beta = {beta}"),
            ));
        }
    }
    points
}

fn points_csv(x_name: &str, points: &[Point]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        x_name,
        "curve",
        "mean_distribution_time_s",
        "closed_form_positive",
    ])
    .expect("memory");
    for (x, curve, t, ok) in points {
        w.write_record([x.to_string(), curve.clone(), cell(*ok, *t), ok.to_string()])
            .expect("memory");
    }
    w.into_inner().expect("memory")
}

fn points_chart(title: &str, x_label: &str, points: &[Point]) -> Result<String, String> {
    let mut labels: Vec<&String> = Vec::new();
    for p in points {
        if !labels.contains(&&p.1) {
            labels.push(&p.1);
        }
    }
    let series = labels
        .into_iter()
        .map(|l| Series {
            label: l.clone(),
            points: points
                .iter()
                .filter(|p| &p.1 == l && p.3)
                .map(|p| (p.0, p.2, f64::NAN, f64::NAN))
                .collect(),
        })
        .collect();
    render_svg(&Chart {
        title: title.into(),
        x_label: x_label.into(),
        y_label: "mean distribution time (s)".into(),
        series,
    })
}

/// The fluid ODE of the isolated model (Theorem III.1 allocation) from an
/// empty start, with the closed-form equilibrium: CSV rows `t_s, swarm, x,
/// y, x_eq, y_eq`, and a chart of the total leechers and seeders.
pub fn transient(c: &AnalyticConfig) -> (Vec<u8>, Result<String, String>) {
    let model = c.isolated(c.transient_rate_per_s);
    let alloc = optimal_isolated_allocation(&model, c.u_s_mbps);
    let eq = isolated_equilibria(&model, &alloc.u_s_mbps);
    let settings = OdeSettings {
        step_s: ODE_STEP_S,
        horizon_s: c.transient_horizon_s,
        record_every_steps: 100,
    };
    let path = integrate_isolated(&model, &alloc.u_s_mbps, &settings);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["t_s", "swarm", "x", "y", "x_eq", "y_eq"])
        .expect("memory");
    for state in &path {
        for (i, e) in eq.iter().enumerate() {
            w.write_record([
                state.t_s.to_string(),
                (i + 1).to_string(),
                state.x[i].to_string(),
                state.y[i].to_string(),
                e.x.to_string(),
                e.y.to_string(),
            ])
            .expect("memory");
        }
    }
    let x_eq: f64 = eq.iter().map(|e| e.x).sum();
    let y_eq: f64 = eq.iter().map(|e| e.y).sum();
    let end = path.last().map_or(0.0, |s| s.t_s);
    let total =
        |f: &dyn Fn(&crate::theory::analytic::FluidState) -> f64| -> Vec<(f64, f64, f64, f64)> {
            path.iter()
                .map(|s| (s.t_s, f(s), f64::NAN, f64::NAN))
                .collect()
        };
    let chart = render_svg(&Chart {
        title: format!(
            "fluid model from empty, lambda = {} req/s (isolated, Thm III.1)",
            c.transient_rate_per_s
        ),
        x_label: "time (s)".into(),
        y_label: "peers".into(),
        series: vec![
            Series {
                label: "leechers (ODE)".into(),
                points: total(&|s| s.x.iter().sum()),
            },
            Series {
                label: "seeders (ODE)".into(),
                points: total(&|s| s.y.iter().sum()),
            },
            Series {
                label: "leechers, eq. (1)".into(),
                points: vec![
                    (0.0, x_eq, f64::NAN, f64::NAN),
                    (end, x_eq, f64::NAN, f64::NAN),
                ],
            },
            Series {
                label: "seeders, eq. (1)".into(),
                points: vec![
                    (0.0, y_eq, f64::NAN, f64::NAN),
                    (end, y_eq, f64::NAN, f64::NAN),
                ],
            },
        ],
    });
    (w.into_inner().expect("memory"), chart)
}

/// Every file of `vmswarm analyze`: `fig3.csv/svg`, `fig4.csv/svg`,
/// `transient.csv/svg`.
pub fn files(c: &AnalyticConfig) -> Result<Vec<(String, Vec<u8>)>, String> {
    let f3 = figure3(c);
    let f4 = figure4(c);
    let (tr_csv, tr_svg) = transient(c);
    Ok(vec![
        ("fig3.csv".into(), points_csv("rate_per_s", &f3)),
        (
            "fig3.svg".into(),
            points_chart(
                "Fig. 3: isolated vs cross model (fluid)",
                "request rate (req/s)",
                &f3,
            )?
            .into_bytes(),
        ),
        ("fig4.csv".into(), points_csv("theta", &f4)),
        (
            "fig4.svg".into(),
            points_chart(
                "Fig. 4: cross model vs theta, per beta (fluid)",
                "theta: share of peer upload to common chunks",
                &f4,
            )?
            .into_bytes(),
        ),
        ("transient.csv".into(), tr_csv),
        ("transient.svg".into(), tr_svg?.into_bytes()),
    ])
}
