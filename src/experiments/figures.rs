//! The paper's Figures 5-7, regenerated from bundled sweep configs, each in
//! (a) Zipf and (b) uniform popularity, as tidy CSV and SVG.

use std::path::Path;

use crate::experiments::sweep::{
    GridPoint, JobResult, PointStat, PolicyResult, Sweep, SweepError, summarize,
};
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

/// The metric Figures 5 and 7 plot (their CSVs carry both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Metric {
    /// `mean_vm_s`, the mean over all VM downloads: the paper's "average
    /// download time of all image files" (docs/model.md section 6), the default.
    #[default]
    MeanVm,
    /// `mean_image_s`, the unweighted mean of the per-image means.
    MeanImage,
}

impl Metric {
    /// Both metrics, in the order the CSVs list them.
    pub const ALL: [Metric; 2] = [Metric::MeanVm, Metric::MeanImage];

    /// The metric's name in CSVs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Metric::MeanVm => "mean_vm_s",
            Metric::MeanImage => "mean_image_s",
        }
    }

    /// The y axis label of a plot of it.
    pub fn axis_label(self) -> &'static str {
        match self {
            Metric::MeanVm => "mean download time over VMs (s), 95% CI",
            Metric::MeanImage => "mean of per-image mean download times (s), 95% CI",
        }
    }

    /// The metric's value in one run.
    pub fn value(self, run: &PolicyResult) -> f64 {
        match self {
            Metric::MeanVm => run.mean_vm_s,
            Metric::MeanImage => run.mean_image_s,
        }
    }
}

impl std::str::FromStr for Metric {
    type Err = String;

    /// Parse a metric's name; the error names the allowed values.
    fn from_str(s: &str) -> Result<Metric, String> {
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == s)
            .ok_or_else(|| format!("`{s}` is not a figure metric: use mean_vm_s or mean_image_s"))
    }
}

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
    /// `mean_vm_s` or `mean_image_s` (Figs. 5 and 7), `image_<k>_mean_s`
    /// (Fig. 6, whose x is the image).
    pub metric: String,
    /// The estimate's mean over replications.
    pub mean: f64,
    /// Lower end of the 95% CI.
    pub ci_low: f64,
    /// Upper end of the 95% CI.
    pub ci_high: f64,
    /// Replications.
    pub replications: usize,
}

impl FigureResult {
    /// The grid points of panel `popularity` (`zipf` or `uniform`), in grid
    /// order.
    pub fn panel_points(&self, popularity: &str) -> Vec<&GridPoint> {
        self.sweep
            .points
            .iter()
            .filter(|p| {
                p.values
                    .iter()
                    .any(|(k, v)| k == "workload.popularity" && value_cell(v) == popularity)
            })
            .collect()
    }

    /// A point's swept x value (Figs. 5 and 7); `None` for Fig. 6, whose x
    /// is the image.
    pub fn x_of(&self, point: &GridPoint) -> Option<f64> {
        let key = self.spec.x_key?;
        point
            .values
            .iter()
            .filter(|(k, _)| k == key)
            .find_map(|(_, v)| v.as_float().or(v.as_integer().map(|i| i as f64)))
    }

    /// The rows of panel `popularity` (`zipf` or `uniform`): x, then policy,
    /// then metric order (tidy: one row per point, policy and metric).
    pub fn rows(&self, popularity: &str) -> Vec<FigureRow> {
        let mut rows = Vec::new();
        for point in self.panel_points(popularity) {
            let xs: Vec<(f64, Vec<String>)> = match self.spec.x_key {
                Some(_) => self
                    .x_of(point)
                    .map(|x| (x, Metric::ALL.iter().map(|m| m.name().into()).collect()))
                    .into_iter()
                    .collect(),
                None => (1..=point.config.content.images)
                    .map(|k| (k as f64, vec![format!("image_{k}_mean_s")]))
                    .collect(),
            };
            for (x, metrics) in xs {
                for policy in &self.sweep.config.policies {
                    for metric in &metrics {
                        if let Some(s) = self.stats.iter().find(|s| {
                            s.point == point.index && &s.policy == policy && &s.metric == metric
                        }) {
                            rows.push(FigureRow {
                                x,
                                policy: policy.clone(),
                                metric: metric.clone(),
                                mean: s.estimate.mean,
                                ci_low: s.estimate.ci_low,
                                ci_high: s.estimate.ci_high,
                                replications: s.estimate.n,
                            });
                        }
                    }
                }
            }
        }
        rows
    }

    /// A panel's CSV: Figs. 5 and 7 have a `metric` column (both metrics);
    /// Fig. 6's rows are per image, as before.
    fn csv(&self, rows: &[FigureRow]) -> Result<Vec<u8>, String> {
        let tidy = self.spec.x_key.is_some();
        let mut csv = csv::Writer::from_writer(Vec::new());
        let mut header = vec![self.spec.x_column, "policy"];
        if tidy {
            header.push("metric");
        }
        header.extend(["mean_s", "ci_low_s", "ci_high_s", "replications"]);
        csv.write_record(&header).map_err(|e| e.to_string())?;
        for r in rows {
            let mut record = vec![r.x.to_string(), r.policy.clone()];
            if tidy {
                record.push(r.metric.clone());
            }
            record.extend([
                r.mean.to_string(),
                r.ci_low.to_string(),
                r.ci_high.to_string(),
                r.replications.to_string(),
            ]);
            csv.write_record(&record).map_err(|e| e.to_string())?;
        }
        csv.into_inner().map_err(|e| e.to_string())
    }

    /// `fig<N><panel>.csv` and `.svg` for both panels; the SVGs of Figs. 5
    /// and 7 plot `metric`.
    pub fn files(&self, metric: Metric) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut files = Vec::new();
        for (panel, popularity) in PANELS {
            let rows = self.rows(popularity);
            let name = format!("fig{}{panel}", self.spec.number);
            let csv = self.csv(&rows)?;
            // Fig. 6 plots every row (one per image); Figs. 5 and 7 one metric.
            let plotted = |r: &&FigureRow| self.spec.x_key.is_none() || r.metric == metric.name();
            let series = self
                .sweep
                .config
                .policies
                .iter()
                .map(|p| Series {
                    label: p.clone(),
                    points: rows
                        .iter()
                        .filter(plotted)
                        .filter(|r| &r.policy == p)
                        .map(|r| (r.x, r.mean, r.ci_low, r.ci_high))
                        .collect(),
                })
                .collect();
            let y_label = match self.spec.x_key {
                Some(_) => metric.axis_label(),
                None => "mean download time (s), 95% CI",
            };
            let svg = render_svg(&Chart {
                title: format!(
                    "Fig. {}({panel}): {}, {popularity} popularity",
                    self.spec.number, self.spec.title
                ),
                x_label: self.spec.x_label.into(),
                y_label: y_label.into(),
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
