//! The regime map: which policy wins, and which of the paper's claims hold,
//! across parameters the paper leaves open.
//!
//! The map is a sweep (`configs/regimes.toml`) over the seeding lifetime
//! (a min-max pair, swept as one axis of table values), the peers' upload
//! `u_c`, the request rate and the popularity. A *cell* is one grid point:
//! (lifetime, `u_c`, rate, popularity); a *regime* is (lifetime, `u_c`).
//! Every cell runs every policy of the config with the same replication
//! seeds, so policies are compared pair by pair.
//!
//! In each cell and for each metric, the winner is the policy with the
//! lowest mean over replications; the runner-up's paired difference to it
//! (runner-up - winner) and its 95% interval say by how much, and the cell
//! is a tie when that interval does not lie above zero. In each regime the
//! claims module judges C1-C5 on the regime's rate axis (as on Fig. 5's)
//! and C6-C9 on the per-image means at the config's own rate (as on Fig.
//! 6's); C10-C11 need the common-ratio axis and are not judged here.

use std::fmt::Write as _;
use std::path::Path;

use crate::experiments::claims::{self, Claim, Column, Figure, Inputs, Panel, Report, Verdict};
use crate::experiments::figures::Metric;
use crate::experiments::heatmap::{HeatCell, HeatPanel, Heatmap, render_heatmap_svg};
use crate::experiments::sweep::{JobResult, PolicyResult, Sweep};
use crate::input::config::{Config, ConfigError, PopularityKind};
use crate::stats::{Estimate, estimate, paired_difference};

/// The bundled config's path (for messages).
pub const CONFIG_FILE: &str = "configs/regimes.toml";

/// The bundled config's text.
pub const CONFIG_TEXT: &str = include_str!("../../configs/regimes.toml");

/// The metrics `regimes.csv` reports, in order.
pub const CSV_METRICS: [&str; 3] = ["mean_vm_s", "mean_image_s", "p95_s"];

/// The metrics whose winners the map shows.
pub const WINNER_METRICS: [&str; 2] = ["mean_vm_s", "p95_s"];

/// The metric claims C1-C5 are judged on (C6-C9 on per-image means).
pub const CLAIMS_METRIC: Metric = Metric::MeanVm;

/// The bundled config.
pub fn bundled_config() -> Result<Config, ConfigError> {
    Config::parse(CONFIG_TEXT, Path::new(CONFIG_FILE))
}

/// A seeding-lifetime regime: a completed VM seeds for a time uniform on
/// `[min_s, max_s]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lifetime {
    /// `workload.lifetime_min_s`.
    pub min_s: f64,
    /// `workload.lifetime_max_s`.
    pub max_s: f64,
}

impl Lifetime {
    /// `0-5 s`.
    pub fn label(&self) -> String {
        format!("{}-{} s", self.min_s, self.max_s)
    }
}

/// One grid point of the map, by its coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Index into [`RegimeMap::lifetimes`].
    pub lifetime: usize,
    /// Index into [`RegimeMap::uploads_mbps`].
    pub upload: usize,
    /// Index into [`RegimeMap::popularities`].
    pub popularity: usize,
    /// Index into [`RegimeMap::rates_per_s`].
    pub rate: usize,
    /// The sweep's grid point.
    pub point: usize,
}

/// The map's sweep, with its grid read as cells.
#[derive(Debug, Clone)]
pub struct RegimeMap {
    /// The sweep that runs it.
    pub sweep: Sweep,
    /// Lifetime regimes, ascending.
    pub lifetimes: Vec<Lifetime>,
    /// `u_c` values (Mb/s), ascending.
    pub uploads_mbps: Vec<f64>,
    /// Popularities (`zipf`, `uniform`), in grid order.
    pub popularities: Vec<String>,
    /// Request rates (req/s), ascending.
    pub rates_per_s: Vec<f64>,
    /// The rate the per-image claims are judged at: the config's own
    /// `workload.rate_per_s`.
    pub claims_rate_per_s: f64,
    /// Every cell: lifetime, then `u_c`, popularity and rate, outermost first.
    pub cells: Vec<Cell>,
}

fn popularity_name(p: PopularityKind) -> String {
    match p {
        PopularityKind::Zipf => "zipf".into(),
        PopularityKind::Uniform => "uniform".into(),
    }
}

/// The distinct values of `v` in first-seen order.
fn distinct<T: PartialEq + Clone>(v: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for x in v {
        if !out.contains(&x) {
            out.push(x);
        }
    }
    out
}

impl RegimeMap {
    /// Expand the config's sweep (its `--quick` version if asked) and read
    /// its grid as cells. The grid must be a full product of lifetimes,
    /// `u_c`, popularities and rates, one point each, and the config's own
    /// rate one of the swept rates; errors name the file and the key.
    pub fn new(config: &Config, quick: bool) -> Result<RegimeMap, ConfigError> {
        let file = config.source.clone();
        let sweep = Sweep::new(config, quick, &file)?;
        let configs = || sweep.points.iter().map(|p| &p.config);
        let mut lifetimes = distinct(configs().map(|c| Lifetime {
            min_s: c.workload.lifetime_min_s,
            max_s: c.workload.lifetime_max_s,
        }));
        lifetimes.sort_by(|a, b| {
            a.min_s
                .total_cmp(&b.min_s)
                .then(a.max_s.total_cmp(&b.max_s))
        });
        let mut uploads_mbps = distinct(configs().map(|c| c.peers.upload_mbps));
        uploads_mbps.sort_by(f64::total_cmp);
        let popularities = distinct(configs().map(|c| popularity_name(c.workload.popularity)));
        let mut rates_per_s = distinct(configs().map(|c| c.workload.rate_per_s));
        rates_per_s.sort_by(f64::total_cmp);
        let claims_rate_per_s = sweep.config.workload.rate_per_s;
        let err = |key: &str, message: String| ConfigError {
            file: file.clone(),
            key: key.into(),
            message,
        };
        if !rates_per_s.contains(&claims_rate_per_s) {
            return Err(err(
                "workload.rate_per_s",
                format!(
                    "the regime map judges the per-image claims (C6-C9) at the config's own rate, \
                     so it must be one of the swept rates: {} (got {claims_rate_per_s})",
                    join(&rates_per_s)
                ),
            ));
        }
        let mut map = RegimeMap {
            sweep,
            lifetimes,
            uploads_mbps,
            popularities,
            rates_per_s,
            claims_rate_per_s,
            cells: Vec::new(),
        };
        map.cells = map.index_cells().map_err(|m| err("sweep.axis", m))?;
        Ok(map)
    }

    /// Every cell, in map order; an error when a cell has no grid point or
    /// several (an axis over another key).
    fn index_cells(&self) -> Result<Vec<Cell>, String> {
        let coordinates = |c: &Config| -> Option<Cell> {
            let w = &c.workload;
            Some(Cell {
                lifetime: self
                    .lifetimes
                    .iter()
                    .position(|l| (l.min_s, l.max_s) == (w.lifetime_min_s, w.lifetime_max_s))?,
                upload: self
                    .uploads_mbps
                    .iter()
                    .position(|&u| u == c.peers.upload_mbps)?,
                popularity: self
                    .popularities
                    .iter()
                    .position(|p| *p == popularity_name(w.popularity))?,
                rate: self.rates_per_s.iter().position(|&r| r == w.rate_per_s)?,
                point: 0,
            })
        };
        let same = |a: &Cell, b: &Cell| {
            (a.lifetime, a.upload, a.popularity, a.rate)
                == (b.lifetime, b.upload, b.popularity, b.rate)
        };
        let mut cells: Vec<Cell> = Vec::new();
        for point in &self.sweep.points {
            let mut cell = coordinates(&point.config).expect("values come from the grid");
            cell.point = point.index;
            if let Some(twin) = cells.iter().find(|c| same(c, &cell)) {
                return Err(format!(
                    "grid points {} and {} are the same cell (lifetime, peers.upload_mbps, \
                     workload.rate_per_s, workload.popularity): the regime map sweeps only these, \
                     so remove the axes over other keys",
                    twin.point, point.index
                ));
            }
            cells.push(cell);
        }
        let full = self.lifetimes.len()
            * self.uploads_mbps.len()
            * self.popularities.len()
            * self.rates_per_s.len();
        if cells.len() != full {
            return Err(format!(
                "the grid has {} points, not every combination of lifetime, peers.upload_mbps, \
                 workload.popularity and workload.rate_per_s ({full}): sweep each on its own axis",
                cells.len()
            ));
        }
        cells.sort_by_key(|c| (c.lifetime, c.upload, c.popularity, c.rate));
        Ok(cells)
    }

    /// The cell at these indices.
    pub fn cell(&self, lifetime: usize, upload: usize, popularity: usize, rate: usize) -> &Cell {
        let per_upload = self.popularities.len() * self.rates_per_s.len();
        let per_lifetime = self.uploads_mbps.len() * per_upload;
        &self.cells[lifetime * per_lifetime
            + upload * per_upload
            + popularity * self.rates_per_s.len()
            + rate]
    }

    /// The regimes `(lifetime, upload)`, lifetime outermost.
    pub fn regimes(&self) -> Vec<(usize, usize)> {
        (0..self.lifetimes.len())
            .flat_map(|l| (0..self.uploads_mbps.len()).map(move |u| (l, u)))
            .collect()
    }

    /// A regime's name, `lifetime 0-5 s, u_c 32 Mb/s`.
    pub fn regime_label(&self, lifetime: usize, upload: usize) -> String {
        format!(
            "lifetime {}, u_c {} Mb/s",
            self.lifetimes[lifetime].label(),
            self.uploads_mbps[upload]
        )
    }

    /// Rank the policies in every cell and judge the claims in every regime.
    pub fn judge(self, results: &[JobResult], quick: bool) -> MapResult {
        let policies = &self.sweep.config.policies;
        let rankings = self
            .cells
            .iter()
            .map(|cell| {
                CSV_METRICS
                    .iter()
                    .map(|&metric| {
                        let values: Vec<Vec<f64>> = policies
                            .iter()
                            .map(|p| cell_values(results, cell.point, p, metric))
                            .collect();
                        Ranking::new(metric, policies, &values)
                    })
                    .collect()
            })
            .collect();
        let claims = self
            .regimes()
            .into_iter()
            .map(|(l, u)| regime_claims(&self, results, l, u))
            .collect();
        MapResult {
            map: self,
            quick,
            rankings,
            claims,
        }
    }
}

/// A policy's value of `metric` in each replication of a grid point.
fn cell_values(results: &[JobResult], point: usize, policy: &str, metric: &str) -> Vec<f64> {
    results
        .iter()
        .filter(|j| j.point == point)
        .filter_map(|j| j.runs.iter().find(|r| r.policy == policy))
        .map(|r| metric_value(r, metric))
        .collect()
}

fn metric_value(run: &PolicyResult, metric: &str) -> f64 {
    match metric {
        "mean_vm_s" => run.mean_vm_s,
        "mean_image_s" => run.mean_image_s,
        _ => run.p95_s,
    }
}

/// The claims in one regime: C1-C5 from its rate axis, C6-C9 from the
/// per-image means at the claims rate; C10-C11 are not judged.
fn regime_claims(
    map: &RegimeMap,
    results: &[JobResult],
    lifetime: usize,
    upload: usize,
) -> Vec<Claim> {
    let reps = map.sweep.replications;
    let popularity = |name: &str| map.popularities.iter().position(|p| p == name);
    let rate_panel = |name: &str| {
        let columns: Vec<Column> = popularity(name)
            .map(|p| {
                (0..map.rates_per_s.len())
                    .map(|r| Column {
                        x: map.rates_per_s[r],
                        point: map.cell(lifetime, upload, p, r).point,
                        image: None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Panel::from_columns(&columns, results, reps, CLAIMS_METRIC)
    };
    let rate = map
        .rates_per_s
        .iter()
        .position(|&r| r == map.claims_rate_per_s)
        .expect("checked by RegimeMap::new");
    let image_panel = |name: &str| {
        let columns: Vec<Column> = popularity(name)
            .map(|p| {
                let point = map.cell(lifetime, upload, p, rate).point;
                let images = results
                    .iter()
                    .filter(|j| j.point == point)
                    .flat_map(|j| j.runs.iter().map(|r| r.image_means_s.len()))
                    .max()
                    .unwrap_or(0);
                (0..images)
                    .map(|k| Column {
                        x: (k + 1) as f64,
                        point,
                        image: Some(k),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Panel::from_columns(&columns, results, reps, CLAIMS_METRIC)
    };
    let inputs = Inputs {
        fig5: Some(Figure {
            zipf: rate_panel("zipf"),
            uniform: rate_panel("uniform"),
        }),
        fig6: Some(Figure {
            zipf: image_panel("zipf"),
            uniform: image_panel("uniform"),
        }),
        fig7: None,
    };
    let mut claims = claims::judge(&inputs);
    for c in &mut claims {
        if c.figure.starts_with('7') {
            c.explanation = NOT_JUDGED.into();
        }
    }
    claims
}

/// Why C10 and C11 have no verdict in the map.
pub const NOT_JUDGED: &str =
    "not judged in the regime map: it needs the common-ratio axis (Fig. 7's)";

/// A policy's place in one cell for one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    /// Policy name.
    pub policy: String,
    /// The metric over replications.
    pub estimate: Estimate,
    /// Paired difference `policy - best` over replications (zero for the best).
    pub vs_best: Estimate,
    /// 1 for the best, by mean.
    pub rank: usize,
}

impl Standing {
    /// `best`, `tie` (its difference to the best has an interval that does
    /// not lie above zero) or `behind`.
    pub fn status(&self) -> &'static str {
        if self.rank == 1 {
            "best"
        } else if Verdict::of(&self.vs_best) == Verdict::Holds {
            "behind"
        } else {
            "tie"
        }
    }
}

/// One metric in one cell: every policy's standing, in the config's order.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// The metric.
    pub metric: &'static str,
    /// One per policy, in the config's order.
    pub standings: Vec<Standing>,
}

impl Ranking {
    /// Rank policies by their mean over replications (a NaN mean last; on
    /// equal means the config's order decides) from `values[policy][rep]`.
    pub fn new(metric: &'static str, policies: &[String], values: &[Vec<f64>]) -> Ranking {
        let estimates: Vec<Estimate> = values.iter().map(|v| estimate(v)).collect();
        let key = |i: usize| {
            let m = estimates[i].mean;
            if m.is_nan() { f64::INFINITY } else { m }
        };
        let mut order: Vec<usize> = (0..policies.len()).collect();
        order.sort_by(|&a, &b| key(a).total_cmp(&key(b)));
        let best = order.first().copied().unwrap_or(0);
        let standings = policies
            .iter()
            .enumerate()
            .map(|(i, p)| Standing {
                policy: p.clone(),
                estimate: estimates[i],
                vs_best: paired_difference(&values[i], &values[best]),
                rank: order.iter().position(|&o| o == i).unwrap_or(0) + 1,
            })
            .collect();
        Ranking { metric, standings }
    }

    /// The policy at `rank` (1 the best).
    pub fn at(&self, rank: usize) -> Option<&Standing> {
        self.standings.iter().find(|s| s.rank == rank)
    }

    /// The winner: the lowest mean.
    pub fn winner(&self) -> &Standing {
        self.at(1).expect("a ranking has a policy")
    }

    /// Winner and runner-up cannot be told apart (or there is no runner-up
    /// to beat: then it is no tie).
    pub fn is_tie(&self) -> bool {
        self.at(2).is_some_and(|s| s.status() == "tie")
    }

    /// `cross-opt (cross-prop +0.42 [+0.10, +0.74] s)`, or with a tie
    /// `tie: cross-opt ~ cross-opt-exact (+0.02 [-0.10, +0.14] s)`: the
    /// winner, and the runner-up's paired difference to it.
    pub fn describe(&self) -> String {
        let winner = &self.winner().policy;
        let Some(second) = self.at(2) else {
            return winner.clone();
        };
        let d = &second.vs_best;
        let diff = format!("{:+.2} [{:+.2}, {:+.2}] s", d.mean, d.ci_low, d.ci_high);
        if self.is_tie() {
            let mut tied: Vec<&Standing> = self
                .standings
                .iter()
                .filter(|s| s.status() == "tie")
                .collect();
            tied.sort_by_key(|s| s.rank);
            let names: Vec<&str> = tied.iter().map(|s| s.policy.as_str()).collect();
            format!("tie: {winner} ~ {} ({diff})", names.join(" ~ "))
        } else {
            format!("{winner} ({} {diff})", second.policy)
        }
    }
}

/// The map's results: rankings per cell and metric, claims per regime.
#[derive(Debug, Clone)]
pub struct MapResult {
    /// The map that ran.
    pub map: RegimeMap,
    /// It was the `--quick` version.
    pub quick: bool,
    /// Per cell (in [`RegimeMap::cells`] order), per metric (in
    /// [`CSV_METRICS`] order).
    pub rankings: Vec<Vec<Ranking>>,
    /// Per regime (in [`RegimeMap::regimes`] order), the claims C1-C11.
    pub claims: Vec<Vec<Claim>>,
}

fn join(v: &[f64]) -> String {
    v.iter().map(f64::to_string).collect::<Vec<_>>().join(", ")
}

impl MapResult {
    /// A cell's ranking for `metric`.
    pub fn ranking(&self, cell: usize, metric: &str) -> &Ranking {
        let m = CSV_METRICS.iter().position(|&x| x == metric).unwrap_or(0);
        &self.rankings[cell][m]
    }

    /// Index of a cell in [`RegimeMap::cells`].
    fn cell_index(&self, lifetime: usize, upload: usize, popularity: usize, rate: usize) -> usize {
        let map = &self.map;
        let cell = map.cell(lifetime, upload, popularity, rate);
        map.cells.iter().position(|c| c == cell).unwrap_or(0)
    }

    /// `regimes.csv`: one row per cell, policy and metric.
    pub fn cells_csv(&self) -> Result<Vec<u8>, String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| e.to_string();
        w.write_record([
            "lifetime",
            "lifetime_min_s",
            "lifetime_max_s",
            "upload_mbps",
            "popularity",
            "rate_per_s",
            "policy",
            "metric",
            "n",
            "mean",
            "ci_low",
            "ci_high",
            "rank",
            "best",
            "diff_to_best",
            "diff_ci_low",
            "diff_ci_high",
            "status",
        ])
        .map_err(err)?;
        for (i, cell) in self.map.cells.iter().enumerate() {
            let l = &self.map.lifetimes[cell.lifetime];
            let head = [
                l.label(),
                l.min_s.to_string(),
                l.max_s.to_string(),
                self.map.uploads_mbps[cell.upload].to_string(),
                self.map.popularities[cell.popularity].clone(),
                self.map.rates_per_s[cell.rate].to_string(),
            ];
            for p in 0..self.map.sweep.config.policies.len() {
                for ranking in &self.rankings[i] {
                    let st = &ranking.standings[p];
                    let (e, d) = (&st.estimate, &st.vs_best);
                    let tail = [
                        st.policy.clone(),
                        ranking.metric.to_string(),
                        e.n.to_string(),
                        e.mean.to_string(),
                        e.ci_low.to_string(),
                        e.ci_high.to_string(),
                        st.rank.to_string(),
                        ranking.winner().policy.clone(),
                        d.mean.to_string(),
                        d.ci_low.to_string(),
                        d.ci_high.to_string(),
                        st.status().to_string(),
                    ];
                    w.write_record(head.iter().chain(&tail)).map_err(err)?;
                }
            }
        }
        w.into_inner().map_err(|e| e.to_string())
    }

    /// `regimes-claims.csv`: `claims.csv`'s columns per regime, and why.
    pub fn claims_csv(&self) -> Result<Vec<u8>, String> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let err = |e: csv::Error| e.to_string();
        let head = [
            "lifetime",
            "lifetime_min_s",
            "lifetime_max_s",
            "upload_mbps",
        ];
        w.write_record(
            head.iter()
                .chain(&claims::CLAIM_COLUMNS)
                .chain(&["explanation"]),
        )
        .map_err(err)?;
        let report = self.report();
        for ((l, u), claims) in self.map.regimes().into_iter().zip(&self.claims) {
            let lifetime = &self.map.lifetimes[l];
            let regime = [
                lifetime.label(),
                lifetime.min_s.to_string(),
                lifetime.max_s.to_string(),
                self.map.uploads_mbps[u].to_string(),
            ];
            // claim_records gives a claim's rows in order; pair each with its claim.
            let mut records = claims::claim_records(claims, &report).into_iter();
            for claim in claims {
                for _ in 0..claim.comparisons.len().max(1) {
                    let record = records.next().unwrap_or_default();
                    w.write_record(
                        regime
                            .iter()
                            .chain(&record)
                            .chain(std::iter::once(&claim.explanation)),
                    )
                    .map_err(err)?;
                }
            }
        }
        w.into_inner().map_err(|e| e.to_string())
    }

    fn report(&self) -> Report {
        Report {
            quick: self.quick,
            metric: CLAIMS_METRIC,
        }
    }
}

/// A verdict as the map's tables write it.
fn verdict_cell(c: &Claim) -> &'static str {
    match c.verdict {
        Verdict::NotRun => "not judged",
        v => v.name(),
    }
}

impl MapResult {
    /// The headline of `regimes.md` (also printed by the command): what ran,
    /// the winners at the claims rate, and the claims by regime.
    pub fn headline(&self) -> String {
        let map = &self.map;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} lifetime regimes x {} u_c x {} popularities x {} request rates ({} req/s); \
             policies {}; {} replications per cell, the same seeds in every cell and for \
             every policy.\n",
            map.lifetimes.len(),
            map.uploads_mbps.len(),
            map.popularities.len(),
            map.rates_per_s.len(),
            join(&map.rates_per_s),
            map.sweep.config.policies.join(", "),
            map.sweep.replications
        );
        let rate = map
            .rates_per_s
            .iter()
            .position(|&r| r == map.claims_rate_per_s)
            .unwrap_or(0);
        for metric in WINNER_METRICS {
            for p in 0..map.popularities.len() {
                let _ = writeln!(
                    s,
                    "### Lowest {metric}, {} popularity, {} req/s\n",
                    map.popularities[p], map.rates_per_s[rate]
                );
                s.push_str(&self.winner_grid(metric, p, rate));
                s.push('\n');
            }
        }
        s.push_str("### The paper's claims by regime\n\n");
        s.push_str(&self.claims_grid());
        s
    }

    /// Lifetimes down, `u_c` across: each cell's winner and margin.
    fn winner_grid(&self, metric: &str, popularity: usize, rate: usize) -> String {
        let map = &self.map;
        let mut s = String::from("| lifetime \\ u_c |");
        for u in &map.uploads_mbps {
            let _ = write!(s, " {u} Mb/s |");
        }
        s.push_str("\n|---|");
        s.push_str(&"---|".repeat(map.uploads_mbps.len()));
        s.push('\n');
        for (l, lifetime) in map.lifetimes.iter().enumerate() {
            let _ = write!(s, "| {} |", lifetime.label());
            for u in 0..map.uploads_mbps.len() {
                let cell = self.cell_index(l, u, popularity, rate);
                let _ = write!(s, " {} |", self.ranking(cell, metric).describe());
            }
            s.push('\n');
        }
        s
    }

    /// Claims down, regimes across: the verdicts.
    fn claims_grid(&self) -> String {
        let map = &self.map;
        let mut s = String::from("| claim | the paper says |");
        for (l, u) in map.regimes() {
            let _ = write!(
                s,
                " {}, {} Mb/s |",
                map.lifetimes[l].label(),
                map.uploads_mbps[u]
            );
        }
        s.push_str("\n|---|---|");
        s.push_str(&"---|".repeat(map.regimes().len()));
        s.push('\n');
        let Some(first) = self.claims.first() else {
            return s;
        };
        for (k, claim) in first.iter().enumerate() {
            let _ = write!(s, "| {} | {} |", claim.id, claim.statement);
            for regime in &self.claims {
                let _ = write!(s, " {} |", verdict_cell(&regime[k]));
            }
            s.push('\n');
        }
        s
    }

    /// One regime's section: its winners in every cell, its claims.
    fn regime_section(&self, index: usize, lifetime: usize, upload: usize) -> String {
        let map = &self.map;
        let mut s = format!("## {}\n\n", map.regime_label(lifetime, upload));
        s.push_str("| popularity | rate (req/s) |");
        for m in WINNER_METRICS {
            let _ = write!(s, " lowest {m} (runner-up - winner, 95% CI) |");
        }
        s.push_str("\n|---|---|");
        s.push_str(&"---|".repeat(WINNER_METRICS.len()));
        s.push('\n');
        for p in 0..map.popularities.len() {
            for r in 0..map.rates_per_s.len() {
                let cell = self.cell_index(lifetime, upload, p, r);
                let _ = write!(s, "| {} | {} |", map.popularities[p], map.rates_per_s[r]);
                for m in WINNER_METRICS {
                    let _ = write!(s, " {} |", self.ranking(cell, m).describe());
                }
                s.push('\n');
            }
        }
        s.push_str("\n| claim | verdict | why |\n|---|---|---|\n");
        for c in &self.claims[index] {
            let _ = writeln!(
                s,
                "| {} | **{}** | {} |",
                c.id,
                verdict_cell(c),
                c.explanation
            );
        }
        s.push('\n');
        s
    }

    /// `regimes.md`: the headline, then a section per regime.
    pub fn markdown(&self) -> String {
        let mut s = String::from("# Regime map\n\n");
        if self.quick {
            s.push_str(
                "**Quick run** (`regimes --quick`): fewer rates, short windows, 2 replications. \
                 The intervals are wide; read winners and verdicts as provisional.\n\n",
            );
        }
        let _ = write!(
            s,
            "A cell names the policy with the lowest mean over replications and, in brackets, \
             the runner-up's paired difference to it (runner-up - winner) with its 95% interval; \
             `tie` lists the policies whose difference to the winner has an interval that does \
             not lie above zero. Claims C1-C5 are judged on the regime's rate axis (as on Fig. \
             5's), on `{}`; C6-C9 on the per-image means at {} req/s (as on Fig. 6's); C10-C11 \
             need the common-ratio axis and are not judged here. How: `docs/regimes.md` and \
             `docs/claims.md`.\n\n",
            CLAIMS_METRIC.name(),
            self.map.claims_rate_per_s
        );
        s.push_str(&self.headline());
        s.push('\n');
        for (i, (l, u)) in self.map.regimes().into_iter().enumerate() {
            s.push_str(&self.regime_section(i, l, u));
        }
        s
    }
}

impl MapResult {
    /// The heatmap of `metric`'s winners: lifetimes down, `u_c` across, a
    /// panel per rate (down) and popularity (across).
    pub fn heatmap(&self, metric: &str) -> Heatmap {
        let map = &self.map;
        let policies = &map.sweep.config.policies;
        let mut panels = Vec::new();
        for r in 0..map.rates_per_s.len() {
            for p in 0..map.popularities.len() {
                let mut cells = Vec::new();
                for l in 0..map.lifetimes.len() {
                    for u in 0..map.uploads_mbps.len() {
                        let ranking = self.ranking(self.cell_index(l, u, p, r), metric);
                        cells.push(heat_cell(ranking, policies, l, u));
                    }
                }
                panels.push(HeatPanel {
                    title: format!("{}, {} req/s", map.popularities[p], map.rates_per_s[r]),
                    cells,
                });
            }
        }
        Heatmap {
            title: format!("Lowest {metric}: the winning policy per regime"),
            row_axis: "seeding lifetime".into(),
            col_axis: "u_c, peer upload (Mb/s)".into(),
            rows: map.lifetimes.iter().map(Lifetime::label).collect(),
            cols: map.uploads_mbps.iter().map(f64::to_string).collect(),
            panels,
            panel_columns: map.popularities.len(),
            legend: policies.clone(),
            note: "Under the winner: the runner-up and its paired difference to the winner \
                   (runner-up - winner, mean over replications). Pale: a tie, the difference's \
                   95% interval does not lie above zero."
                .into(),
        }
    }

    /// Every output file: `regimes.csv`, `regimes-claims.csv`, `regimes.md`
    /// and a heatmap SVG per winner metric.
    pub fn files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let mut files = vec![
            ("regimes.csv".to_string(), self.cells_csv()?),
            ("regimes-claims.csv".to_string(), self.claims_csv()?),
            ("regimes.md".to_string(), self.markdown().into_bytes()),
        ];
        for metric in WINNER_METRICS {
            let svg = render_heatmap_svg(&self.heatmap(metric))?;
            files.push((format!("regimes-{metric}.svg"), svg.into_bytes()));
        }
        Ok(files)
    }
}

/// A heatmap cell: the winner's colour (pale on a tie), name and margin.
fn heat_cell(ranking: &Ranking, policies: &[String], row: usize, col: usize) -> HeatCell {
    let winner = ranking.winner();
    let second = ranking.at(2);
    let margin = second
        .map(|s| format!("{:+.2} s", s.vs_best.mean))
        .unwrap_or_default();
    let lines = match second {
        Some(s) if ranking.is_tie() => {
            vec![
                winner.policy.clone(),
                format!("tie with {}", s.policy),
                margin,
            ]
        }
        Some(s) => vec![winner.policy.clone(), format!("then {}", s.policy), margin],
        None => vec![winner.policy.clone()],
    };
    HeatCell {
        row,
        col,
        category: policies.iter().position(|p| *p == winner.policy),
        pale: ranking.is_tie(),
        lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_lowest_mean_wins_and_the_runner_up_margin_decides_a_tie() {
        let policies = names(&["iso", "cross-opt", "cross-opt-exact"]);
        // cross-opt clearly below iso; cross-opt-exact within noise of it.
        let values = vec![
            vec![5.0, 6.0, 5.5],
            vec![3.0, 4.0, 3.5],
            vec![3.1, 3.9, 3.6],
        ];
        let r = Ranking::new("mean_vm_s", &policies, &values);
        assert_eq!(r.winner().policy, "cross-opt");
        assert_eq!(r.at(2).unwrap().policy, "cross-opt-exact");
        assert!(r.is_tie());
        let status: Vec<&str> = r.standings.iter().map(Standing::status).collect();
        assert_eq!(status, ["behind", "best", "tie"]);
        assert!(
            r.describe().starts_with("tie: cross-opt ~ cross-opt-exact"),
            "{}",
            r.describe()
        );
        // Without the twin, the runner-up is clearly behind.
        let r = Ranking::new("mean_vm_s", &policies[..2], &values[..2]);
        assert!(!r.is_tie());
        assert_eq!(r.describe(), "cross-opt (iso +2.00 [+2.00, +2.00] s)");
    }

    #[test]
    fn one_replication_is_a_tie_and_nan_means_rank_last() {
        let policies = names(&["a", "b"]);
        let r = Ranking::new("p95_s", &policies, &[vec![2.0], vec![1.0]]);
        assert_eq!(r.winner().policy, "b");
        assert!(r.is_tie(), "one replication has no interval");
        let r = Ranking::new(
            "p95_s",
            &policies,
            &[vec![f64::NAN, f64::NAN], vec![1.0, 2.0]],
        );
        assert_eq!(r.winner().policy, "b");
        assert_eq!(r.at(2).unwrap().policy, "a");
    }

    #[test]
    fn the_bundled_map_has_three_lifetimes_and_judges_at_a_swept_rate() {
        let config = bundled_config().unwrap();
        for quick in [false, true] {
            let map = RegimeMap::new(&config, quick).unwrap();
            let labels: Vec<String> = map.lifetimes.iter().map(Lifetime::label).collect();
            assert_eq!(labels, ["0-5 s", "10-20 s", "50-100 s"]);
            assert_eq!(map.uploads_mbps, [32.0, 128.0, 512.0]);
            assert_eq!(map.popularities, ["zipf", "uniform"]);
            assert!(map.rates_per_s.contains(&map.claims_rate_per_s));
            assert_eq!(map.cells.len(), 18 * map.rates_per_s.len());
            assert_eq!(map.regimes().len(), 9);
            // Cells in map order are where `cell` finds them.
            let c = map.cell(2, 1, 1, 0);
            assert_eq!((c.lifetime, c.upload, c.popularity, c.rate), (2, 1, 1, 0));
            let point = &map.sweep.points[c.point].config;
            assert_eq!(point.workload.lifetime_min_s, 50.0);
            assert_eq!(point.peers.upload_mbps, 128.0);
        }
        assert_eq!(RegimeMap::new(&config, true).unwrap().sweep.replications, 2);
    }

    #[test]
    fn a_grid_that_is_not_a_map_is_refused_with_its_key() {
        let mut config = bundled_config().unwrap();
        config.workload.rate_per_s = 2.5;
        let e = RegimeMap::new(&config, false).unwrap_err();
        assert_eq!(e.key, "workload.rate_per_s");
        let mut config = bundled_config().unwrap();
        config.sweep.axis.push(crate::input::config::Axis {
            key: "content.common_ratio".into(),
            values: vec![0.2.into(), 0.5.into()],
        });
        let e = RegimeMap::new(&config, true).unwrap_err();
        assert_eq!(e.key, "sweep.axis");
        assert!(e.message.contains("same cell"), "{e}");
    }
}
