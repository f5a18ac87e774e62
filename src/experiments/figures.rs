//! The paper's Figures 5-7, regenerated from bundled sweep configs, each in
//! (a) Zipf and (b) uniform popularity, as tidy CSV and SVG.

use std::path::Path;

use crate::experiments::sweep::{JobResult, PointStat, Sweep, SweepError, summarize};
use crate::experiments::sweep_output::value_cell;
use crate::input::config::{Config, ConfigError};
use crate::plot::{Chart, Series, render_svg};
use crate::progress::Progress;

/// One of the paper's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FigureSpec {
    /// The paper's figure number.
    pub number: u8,
    /// The bundled config's path (for messages).
    pub file: &'static str,
    /// The bundled config's text.
    pub text: &'static str,
    /// The swept x key, or `None` when x is the image rank (Fig. 6).
    pub x_key: Option<&'static str>,
    /// The CSV column of x.
    pub x_column: &'static str,
    /// The x axis label, with unit.
    pub x_label: &'static str,
    /// What the figure shows.
    pub title: &'static str,
}

/// Figures 5, 6 and 7.
pub const FIGURES: [FigureSpec; 3] = [
    FigureSpec {
        number: 5,
        file: "configs/fig5.toml",
        text: include_str!("../../configs/fig5.toml"),
        x_key: Some("workload.rate_per_s"),
        x_column: "rate_per_s",
        x_label: "request rate (req/s)",
        title: "mean download time vs request rate",
    },
    FigureSpec {
        number: 6,
        file: "configs/fig6.toml",
        text: include_str!("../../configs/fig6.toml"),
        x_key: None,
        x_column: "image",
        x_label: "image (ranked by popularity)",
        title: "mean download time per image",
    },
    FigureSpec {
        number: 7,
        file: "configs/fig7.toml",
        text: include_str!("../../configs/fig7.toml"),
        x_key: Some("content.common_ratio"),
        x_column: "common_ratio",
        x_label: "common chunk ratio",
        title: "mean download time vs common chunk ratio",
    },
];

/// The popularity axis splits a figure into panels (a) and (b).
const PANELS: [(&str, &str); 2] = [("a", "zipf"), ("b", "uniform")];

/// The metric Figs. 5 and 7 plot: the paper's "average download time of all
/// image files", the unweighted mean of the per-image means.
pub const METRIC: &str = "mean_image_s";

/// One figure's results.
#[derive(Debug, Clone)]
pub struct FigureResult {
    /// The figure.
    pub spec: FigureSpec,
    /// The sweep that was run.
    pub sweep: Sweep,
    /// Per job.
    pub results: Vec<JobResult>,
    /// Per point, policy, metric.
    pub stats: Vec<PointStat>,
}

impl FigureSpec {
    /// The figure's bundled config.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::parse(self.text, Path::new(self.file))
    }

    /// Run the figure's sweep for `config` on the current rayon pool, with
    /// `cross-opt-exact` added as a series when `extra`.
    pub fn run(
        &self,
        config: &Config,
        quick: bool,
        extra: bool,
        progress: &dyn Progress,
    ) -> Result<FigureResult, SweepError> {
        let sweep = self.sweep(config, quick, extra)?;
        let results = sweep.run(progress)?;
        let stats = summarize(&sweep, &results);
        Ok(FigureResult {
            spec: *self,
            sweep,
            results,
            stats,
        })
    }

    /// The figure's sweep, checked.
    pub fn sweep(&self, config: &Config, quick: bool, extra: bool) -> Result<Sweep, ConfigError> {
        let mut config = config.clone();
        if extra && !config.policies.iter().any(|p| p == "cross-opt-exact") {
            config.policies.push("cross-opt-exact".into());
        }
        Sweep::new(&config, quick, &config.source)
    }
}

/// One row of a figure's CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureRow {
    /// The x value.
    pub x: f64,
    /// Policy name.
    pub policy: String,
    /// The estimate's mean, CI and replications.
    pub mean: f64,
    /// Lower end of the 95% CI.
    pub ci_low: f64,
    /// Upper end of the 95% CI.
    pub ci_high: f64,
    /// Replications.
    pub replications: usize,
}

impl FigureResult {
    /// The rows of panel `popularity` (`zipf` or `uniform`), x then policy order.
    pub fn rows(&self, popularity: &str) -> Vec<FigureRow> {
        let mut rows = Vec::new();
        let in_panel = |point: usize| {
            self.sweep.points[point]
                .values
                .iter()
                .any(|(k, v)| k == "workload.popularity" && value_cell(v) == popularity)
        };
        for point in self.sweep.points.iter().filter(|p| in_panel(p.index)) {
            let xs: Vec<(f64, String)> = match self.spec.x_key {
                Some(key) => point
                    .values
                    .iter()
                    .filter(|(k, _)| k == key)
                    .filter_map(|(_, v)| v.as_float().or(v.as_integer().map(|i| i as f64)))
                    .map(|x| (x, METRIC.to_string()))
                    .collect(),
                None => (1..=point.config.content.images)
                    .map(|k| (k as f64, format!("image_{k}_mean_s")))
                    .collect(),
            };
            for (x, metric) in xs {
                for policy in &self.sweep.config.policies {
                    if let Some(s) = self.stats.iter().find(|s| {
                        s.point == point.index && &s.policy == policy && s.metric == metric
                    }) {
                        rows.push(FigureRow {
                            x,
                            policy: policy.clone(),
                            mean: s.estimate.mean,
                            ci_low: s.estimate.ci_low,
                            ci_high: s.estimate.ci_high,
                            replications: s.estimate.n,
                        });
                    }
                }
            }
        }
        rows
    }

    /// `fig<N><panel>.csv` and `.svg` for both panels.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut files = Vec::new();
        for (panel, popularity) in PANELS {
            let rows = self.rows(popularity);
            let name = format!("fig{}{panel}", self.spec.number);
            let mut csv = csv::Writer::from_writer(Vec::new());
            csv.write_record([
                self.spec.x_column,
                "policy",
                "mean_s",
                "ci_low_s",
                "ci_high_s",
                "replications",
            ])
            .map_err(|e| e.to_string())?;
            for r in &rows {
                csv.write_record([
                    r.x.to_string(),
                    r.policy.clone(),
                    r.mean.to_string(),
                    r.ci_low.to_string(),
                    r.ci_high.to_string(),
                    r.replications.to_string(),
                ])
                .map_err(|e| e.to_string())?;
            }
            let csv = csv.into_inner().map_err(|e| e.to_string())?;
            let series = self
                .sweep
                .config
                .policies
                .iter()
                .map(|p| Series {
                    label: p.clone(),
                    points: rows
                        .iter()
                        .filter(|r| &r.policy == p)
                        .map(|r| (r.x, r.mean, r.ci_low, r.ci_high))
                        .collect(),
                })
                .collect();
            let svg = render_svg(&Chart {
                title: format!(
                    "Fig. {}({panel}): {}, {popularity} popularity",
                    self.spec.number, self.spec.title
                ),
                x_label: self.spec.x_label.into(),
                y_label: "mean download time (s), 95% CI".into(),
                series,
            })?;
            files.push((format!("{name}.csv"), csv));
            files.push((format!("{name}.svg"), svg.into_bytes()));
        }
        Ok(files)
    }

    /// Simulated block transfers over the figure's runs.
    pub fn block_transfers(&self) -> u64 {
        self.results
            .iter()
            .flat_map(|j| &j.runs)
            .map(|r| r.block_transfers)
            .sum()
    }
}
