//! The paper's claims C1-C11 (docs/model.md section 7), judged from the sweeps of
//! Figures 5-7.
//!
//! Each claim is reduced to comparisons. A comparison is a quantity computed
//! per replication from runs that share the replication's seed (every policy
//! and every x value of a replication sees the same random numbers), so the
//! noise common to them cancels. The quantity is arranged to be positive
//! exactly when the claim's part holds, its threshold included, and its 95%
//! Student-t interval over replications decides: above zero the part holds,
//! below zero it fails, spanning zero it is inconclusive. Evenness (a
//! coefficient of variation of per-image means) is not an average over
//! replications; it is computed on the means over replications and given
//! its interval by the jackknife over replications. A claim holds when
//! all its parts hold, fails when one fails, and is inconclusive otherwise.
//! `docs/claims.md` gives each claim's test and why its threshold is what
//! it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::experiments::figures::{FigureResult, Metric};
use crate::experiments::sweep::JobResult;
use crate::stats::{Estimate, estimate};

// The thresholds for the claims' vague words. They were fixed from what the
// words mean before any result was judged with them; docs/claims.md argues
// each. Do not tune them to make a claim hold.

/// "grow markedly" (C1): from the lowest to the highest request rate, the
/// time rises by at least this fraction of its lowest-rate value.
pub const MARKED_GROWTH: f64 = 0.5;

/// "comparatively stable" (C2): a stable policy's rise from the lowest to
/// the highest rate is at most this fraction of each growing policy's rise.
pub const STABLE_FRACTION: f64 = 0.5;

/// "much slower" (C6): slower by at least this fraction of the faster time.
pub const MUCH_SLOWER: f64 = 0.25;

/// "equals" (C4): the difference lies within plus or minus this fraction of
/// the two policies' mean.
pub const EQUAL_MARGIN: f64 = 0.05;

/// "even" (C9): the coefficient of variation of a policy's per-image means
/// (standard deviation over images / their mean) is below this.
pub const EVEN_CV: f64 = 0.10;

/// "shrink" (C10): the gap at the highest common ratio is at most
/// `1 - GAP_SHRINK` times the gap at the lowest.
pub const GAP_SHRINK: f64 = 0.25;

const ISO: &str = "iso";
const EQU: &str = "cross-equ";
const PROP: &str = "cross-prop";
const OPT: &str = "cross-opt";

/// A claim's, or one comparison's, verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every deciding interval lies on the claim's side of zero.
    Holds,
    /// A deciding interval lies on the other side.
    Fails,
    /// No interval contradicts the claim, but one spans zero.
    Inconclusive,
    /// The claim's figure was not run, or lacks what the claim compares.
    NotRun,
}

impl Verdict {
    /// The verdict as written in `claims.csv` and `claims.md`.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Holds => "holds",
            Verdict::Fails => "fails",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotRun => "not run",
        }
    }

    /// A comparison's verdict from its interval; with fewer than two
    /// replications there is no interval, so nothing is decided.
    pub fn of(e: &Estimate) -> Verdict {
        if e.n < 2 || !e.ci_low.is_finite() || !e.ci_high.is_finite() {
            Verdict::Inconclusive
        } else if e.ci_low > 0.0 {
            Verdict::Holds
        } else if e.ci_high < 0.0 {
            Verdict::Fails
        } else {
            Verdict::Inconclusive
        }
    }

    /// A claim's verdict from its comparisons': fails if one fails, holds if
    /// all hold (and there is at least one), inconclusive otherwise.
    pub fn all(parts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let parts: Vec<Verdict> = parts.into_iter().collect();
        if parts.contains(&Verdict::Fails) {
            Verdict::Fails
        } else if !parts.is_empty() && parts.iter().all(|&v| v == Verdict::Holds) {
            Verdict::Holds
        } else {
            Verdict::Inconclusive
        }
    }
}

/// One paired comparison: a per-replication quantity that is positive when
/// the claim's part holds, and its interval over replications.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The quantity, as a formula of the figure's values (`T(x)` is a
    /// policy's time at x).
    pub label: String,
    /// `s` (seconds) or `1` (a ratio).
    pub unit: &'static str,
    /// Mean and 95% interval over replications.
    pub estimate: Estimate,
    /// What the interval says.
    pub verdict: Verdict,
}

impl Comparison {
    /// Compute `quantity(r)` for replications `0..replications` and judge it.
    /// NaN values (a run without the value) are left out of the interval.
    pub fn new(
        label: String,
        unit: &'static str,
        replications: usize,
        quantity: impl Fn(usize) -> f64,
    ) -> Comparison {
        let values: Vec<f64> = (0..replications).map(quantity).collect();
        let estimate = estimate(&values);
        Comparison {
            label,
            unit,
            verdict: Verdict::of(&estimate),
            estimate,
        }
    }

    /// Judge a statistic of the replications that is not an average of
    /// per-replication values (a CV of means over replications) by the
    /// jackknife: its pseudo-values `n * stat(all) - (n - 1) * stat(all but
    /// r)` are treated as replications. This removes the statistic's bias
    /// of order `1/n` (for a CV of means, the sampling noise), and for an
    /// average it gives back the plain per-replication values.
    pub fn jackknife(
        label: String,
        unit: &'static str,
        replications: usize,
        stat: impl Fn(&[usize]) -> f64,
    ) -> Comparison {
        let all: Vec<usize> = (0..replications).collect();
        let n = replications as f64;
        let whole = stat(&all);
        let pseudo = |r: usize| {
            let rest: Vec<usize> = all.iter().copied().filter(|&q| q != r).collect();
            n * whole - (n - 1.0) * stat(&rest)
        };
        match replications {
            // No spread can be measured: one value, so nothing is decided.
            0 | 1 => Comparison::new(label, unit, replications, |_| whole),
            _ => Comparison::new(label, unit, replications, pseudo),
        }
    }

    /// `label = mean [low, high] unit`, for reports.
    pub fn display(&self) -> String {
        let e = &self.estimate;
        let unit = if self.unit == "s" { " s" } else { "" };
        format!(
            "{} = {:.3} [{:.3}, {:.3}]{unit}",
            self.label, e.mean, e.ci_low, e.ci_high
        )
    }
}

/// One claim, judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    /// `C1` to `C11`.
    pub id: &'static str,
    /// The figure and panel it is read from, e.g. `5(a)`.
    pub figure: &'static str,
    /// What the paper says.
    pub statement: &'static str,
    /// How it is tested, thresholds included.
    pub test: String,
    /// The verdict.
    pub verdict: Verdict,
    /// One line saying why.
    pub explanation: String,
    /// The comparisons that decide it (none when not run).
    pub comparisons: Vec<Comparison>,
}

impl Claim {
    /// The comparison that decided the verdict: the first that fails, else
    /// the first inconclusive one, else (all hold) the one nearest to zero
    /// in units of its own interval's width.
    pub fn deciding(&self) -> Option<&Comparison> {
        let first = |v: Verdict| self.comparisons.iter().find(|c| c.verdict == v);
        first(Verdict::Fails)
            .or_else(|| first(Verdict::Inconclusive))
            .or_else(|| {
                // The closest to flipping: its lower end over its half-width.
                let weakness =
                    |c: &Comparison| c.estimate.ci_low / (c.estimate.half_width() + 1e-300);
                self.comparisons
                    .iter()
                    .min_by(|a, b| weakness(a).total_cmp(&weakness(b)))
            })
    }
}

/// One panel's values per replication: what the claims are judged from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Panel {
    /// The x values, ascending: request rates (Fig. 5), common ratios
    /// (Fig. 7) or image ranks, 1 the most popular (Fig. 6).
    pub xs: Vec<f64>,
    /// Per policy, `values[x index][replication]`: the figure's metric
    /// (Figs. 5 and 7) or the image's mean (Fig. 6); NaN where a run has no
    /// value.
    pub values: BTreeMap<String, Vec<Vec<f64>>>,
}

/// A figure's two panels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figure {
    /// Panel (a), Zipf popularity.
    pub zipf: Panel,
    /// Panel (b), uniform popularity.
    pub uniform: Panel,
}

/// The figures that ran (`None`: not run, so their claims are not judged).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Inputs {
    /// Figure 5.
    pub fig5: Option<Figure>,
    /// Figure 6.
    pub fig6: Option<Figure>,
    /// Figure 7.
    pub fig7: Option<Figure>,
}

impl Figure {
    /// The values the claims need from a figure's sweep: `metric` per x
    /// value for Figs. 5 and 7, each image's mean for Fig. 6.
    pub fn from_result(result: &FigureResult, metric: Metric) -> Figure {
        Figure {
            zipf: Panel::from_result(result, "zipf", metric),
            uniform: Panel::from_result(result, "uniform", metric),
        }
    }
}

/// One x value of a panel: which grid point it is read from, and what.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    /// The x value: a rate, a common ratio, or an image's rank (1-based).
    pub x: f64,
    /// The sweep's grid point the values come from.
    pub point: usize,
    /// `None`: the metric; `Some(k)`: image `k`'s mean (0-based).
    pub image: Option<usize>,
}

impl Panel {
    /// Panel `popularity` of a figure's sweep (see [`Figure::from_result`]).
    pub fn from_result(result: &FigureResult, popularity: &str, metric: Metric) -> Panel {
        let mut columns: Vec<Column> = Vec::new();
        for point in result.panel_points(popularity) {
            match result.x_of(point) {
                Some(x) => columns.push(Column {
                    x,
                    point: point.index,
                    image: None,
                }),
                None => columns.extend((0..point.config.content.images).map(|k| Column {
                    x: (k + 1) as f64,
                    point: point.index,
                    image: Some(k),
                })),
            }
        }
        Panel::from_columns(&columns, &result.results, result.sweep.replications, metric)
    }

    /// A panel of any sweep's jobs: one x value per column (sorted by x),
    /// each policy's values per replication (`replications` of them; NaN
    /// where a run has no value). Other commands (the regime map) build
    /// their panels with it.
    pub fn from_columns(
        columns: &[Column],
        results: &[JobResult],
        replications: usize,
        metric: Metric,
    ) -> Panel {
        let mut columns = columns.to_vec();
        columns.sort_by(|a, b| a.x.total_cmp(&b.x));
        let mut panel = Panel {
            xs: columns.iter().map(|c| c.x).collect(),
            values: BTreeMap::new(),
        };
        for (i, column) in columns.iter().enumerate() {
            for job in results.iter().filter(|j| j.point == column.point) {
                for run in &job.runs {
                    let value = match column.image {
                        None => metric.value(run),
                        Some(k) => run.image_means_s.get(k).copied().unwrap_or(f64::NAN),
                    };
                    let series = panel
                        .values
                        .entry(run.policy.clone())
                        .or_insert_with(|| vec![vec![f64::NAN; replications]; columns.len()]);
                    if let Some(slot) = series[i].get_mut(job.replication) {
                        *slot = value;
                    }
                }
            }
        }
        panel
    }

    /// A policy's values, or why the claim cannot be judged.
    fn series(&self, policy: &str) -> Result<&[Vec<f64>], String> {
        self.values
            .get(policy)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("policy `{policy}` is not in the figure's sweep"))
    }

    /// Replications: the shortest series' length, so that every
    /// replication index used is in range for every policy and x value.
    fn replications(&self) -> usize {
        self.values
            .values()
            .flat_map(|s| s.iter().map(Vec::len))
            .min()
            .unwrap_or(0)
    }

    /// Check there are at least `n` x values.
    fn need(&self, n: usize, what: &str) -> Result<(), String> {
        if self.xs.len() < n {
            return Err(format!(
                "needs at least {n} {what}, the figure has {}",
                self.xs.len()
            ));
        }
        Ok(())
    }

    /// `a - b` averaged over the x values, per replication: one policy's
    /// whole curve against another's.
    fn curve_gap(&self, a: &str, b: &str, over: &str) -> Result<Comparison, String> {
        let (ta, tb) = (self.series(a)?, self.series(b)?);
        let n = self.xs.len() as f64;
        Ok(Comparison::new(
            format!("{a} - {b} (mean over {over})"),
            "s",
            self.replications(),
            |r| (0..self.xs.len()).map(|i| ta[i][r] - tb[i][r]).sum::<f64>() / n,
        ))
    }
}

/// Coefficient of variation (population: the images are all there are) of
/// the finite values; NaN with fewer than two or a non-positive mean.
fn cv(values: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 || mean <= 0.0 {
        return f64::NAN;
    }
    (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt() / mean
}

/// The CV over images of a policy's per-image means, each averaged over
/// the replications `reps` (NaN runs left out). Averaging first keeps the
/// runs' sampling noise from reading as unevenness.
fn cv_of(panel: &Panel, policy: &str, reps: &[usize]) -> f64 {
    let Ok(t) = panel.series(policy) else {
        return f64::NAN;
    };
    cv(t.iter().map(|column| {
        let v: Vec<f64> = reps
            .iter()
            .map(|&r| column[r])
            .filter(|x| !x.is_nan())
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    }))
}

/// C1: ISO's and Cross-Equ's times grow markedly with the rate (Zipf).
fn c1(f: &Figure) -> Result<Vec<Comparison>, String> {
    let p = &f.zipf;
    p.need(2, "request rates")?;
    let (lo, hi) = (0, p.xs.len() - 1);
    [ISO, EQU]
        .iter()
        .map(|&q| {
            let t = p.series(q)?;
            let label = format!(
                "{q}: T({}) - {} x T({})",
                p.xs[hi],
                1.0 + MARKED_GROWTH,
                p.xs[lo]
            );
            Ok(Comparison::new(label, "s", p.replications(), |r| {
                t[hi][r] - (1.0 + MARKED_GROWTH) * t[lo][r]
            }))
        })
        .collect()
}

/// C2: Cross-Prop's and Cross-Opt's rises are small beside ISO's and
/// Cross-Equ's (Zipf).
fn c2(f: &Figure) -> Result<Vec<Comparison>, String> {
    let p = &f.zipf;
    p.need(2, "request rates")?;
    let (lo, hi) = (0, p.xs.len() - 1);
    let rise = |t: &[Vec<f64>], r: usize| t[hi][r] - t[lo][r];
    let mut out = Vec::new();
    for stable in [PROP, OPT] {
        for growing in [ISO, EQU] {
            let (ts, tg) = (p.series(stable)?, p.series(growing)?);
            let label = format!("{STABLE_FRACTION} x G({growing}) - G({stable})");
            out.push(Comparison::new(label, "s", p.replications(), |r| {
                STABLE_FRACTION * rise(tg, r) - rise(ts, r)
            }));
        }
    }
    Ok(out)
}

/// C3: Cross-Opt is below Cross-Prop (Zipf).
fn c3(f: &Figure) -> Result<Vec<Comparison>, String> {
    Ok(vec![f.zipf.curve_gap(PROP, OPT, "rates")?])
}

/// C4: Cross-Equ equals Cross-Prop (uniform): at every rate, two one-sided
/// comparisons against the margin (an equivalence test).
fn c4(f: &Figure) -> Result<Vec<Comparison>, String> {
    let p = &f.uniform;
    p.need(1, "request rates")?;
    let (te, tp) = (p.series(EQU)?, p.series(PROP)?);
    let mut out = Vec::new();
    for (i, x) in p.xs.iter().enumerate() {
        let d = |r: usize| te[i][r] - tp[i][r];
        let margin = |r: usize| EQUAL_MARGIN * (te[i][r] + tp[i][r]) / 2.0;
        let pct = format!("{:.0}", EQUAL_MARGIN * 100.0);
        let reps = p.replications();
        out.push(Comparison::new(
            format!("rate {x}: D + {pct}% x M"),
            "s",
            reps,
            |r| d(r) + margin(r),
        ));
        out.push(Comparison::new(
            format!("rate {x}: {pct}% x M - D"),
            "s",
            reps,
            |r| margin(r) - d(r),
        ));
    }
    Ok(out)
}

/// C5: Cross-Opt is the lowest (uniform), over the whole curve.
fn c5(f: &Figure) -> Result<Vec<Comparison>, String> {
    [ISO, EQU, PROP]
        .iter()
        .map(|q| f.uniform.curve_gap(q, OPT, "rates"))
        .collect()
}

/// C6: image 1 is much slower under ISO and Cross-Equ than under Cross-Prop
/// and Cross-Opt (Zipf).
fn c6(f: &Figure) -> Result<Vec<Comparison>, String> {
    let p = &f.zipf;
    p.need(1, "images")?;
    let mut out = Vec::new();
    for slow in [ISO, EQU] {
        for fast in [PROP, OPT] {
            let (ts, tf) = (p.series(slow)?, p.series(fast)?);
            let label = format!("image 1: {slow} - {} x {fast}", 1.0 + MUCH_SLOWER);
            out.push(Comparison::new(label, "s", p.replications(), |r| {
                ts[0][r] - (1.0 + MUCH_SLOWER) * tf[0][r]
            }));
        }
    }
    Ok(out)
}

/// C7: Cross-Prop is the worst for the three least popular images (Zipf).
fn c7(f: &Figure) -> Result<Vec<Comparison>, String> {
    let p = &f.zipf;
    p.need(1, "images")?;
    let tp = p.series(PROP)?;
    let mut out = Vec::new();
    for i in p.xs.len().saturating_sub(3)..p.xs.len() {
        for q in [ISO, EQU, OPT] {
            let tq = p.series(q)?;
            let label = format!("image {}: {PROP} - {q}", p.xs[i]);
            out.push(Comparison::new(label, "s", p.replications(), |r| {
                tp[i][r] - tq[i][r]
            }));
        }
    }
    Ok(out)
}

/// `CV(q) - CV(cross-opt)` for each other policy: Cross-Opt the most even.
fn most_even(p: &Panel) -> Result<Vec<Comparison>, String> {
    p.need(2, "images")?;
    p.series(OPT)?;
    [ISO, EQU, PROP]
        .iter()
        .map(|&q| {
            p.series(q)?;
            let label = format!("CV({q}) - CV({OPT})");
            Ok(Comparison::jackknife(label, "1", p.replications(), |rs| {
                cv_of(p, q, rs) - cv_of(p, OPT, rs)
            }))
        })
        .collect()
}

/// C8: Cross-Opt's per-image times are the most even (Zipf).
fn c8(f: &Figure) -> Result<Vec<Comparison>, String> {
    most_even(&f.zipf)
}

/// C9: all are even, Cross-Opt the lowest (uniform).
fn c9(f: &Figure) -> Result<Vec<Comparison>, String> {
    let p = &f.uniform;
    p.need(2, "images")?;
    let mut out = Vec::new();
    for q in [ISO, EQU, PROP, OPT] {
        p.series(q)?;
        out.push(Comparison::jackknife(
            format!("{EVEN_CV} - CV({q})"),
            "1",
            p.replications(),
            |rs| EVEN_CV - cv_of(p, q, rs),
        ));
    }
    for q in [ISO, EQU, PROP] {
        out.push(p.curve_gap(q, OPT, "images")?);
    }
    Ok(out)
}

/// The panels of Fig. 7, labelled.
fn both(f: &Figure) -> [(&'static str, &Panel); 2] {
    [("(a) zipf", &f.zipf), ("(b) uniform", &f.uniform)]
}

/// C10: the gap between Cross-Equ, Cross-Prop and Cross-Opt shrinks as the
/// common ratio grows, in both panels.
fn c10(f: &Figure) -> Result<Vec<Comparison>, String> {
    let mut out = Vec::new();
    for (name, p) in both(f) {
        p.need(2, "common ratios")?;
        let series = [p.series(EQU)?, p.series(PROP)?, p.series(OPT)?];
        // The spread of the three curves at x index i in replication r.
        let gap = |i: usize, r: usize| {
            let v = series.map(|t| t[i][r]);
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - v.iter().copied().fold(f64::INFINITY, f64::min)
        };
        let (lo, hi) = (0, p.xs.len() - 1);
        let label = format!(
            "{name}: {} x S({}) - S({})",
            1.0 - GAP_SHRINK,
            p.xs[lo],
            p.xs[hi]
        );
        out.push(Comparison::new(label, "s", p.replications(), |r| {
            (1.0 - GAP_SHRINK) * gap(lo, r) - gap(hi, r)
        }));
    }
    Ok(out)
}

/// C11: Cross-Opt is the lowest at every common ratio, in both panels.
fn c11(f: &Figure) -> Result<Vec<Comparison>, String> {
    let mut out = Vec::new();
    for (name, p) in both(f) {
        p.need(1, "common ratios")?;
        let to = p.series(OPT)?;
        for (i, x) in p.xs.iter().enumerate() {
            for q in [ISO, EQU, PROP] {
                let tq = p.series(q)?;
                let label = format!("{name} ratio {x}: {q} - {OPT}");
                out.push(Comparison::new(label, "s", p.replications(), |r| {
                    tq[i][r] - to[i][r]
                }));
            }
        }
    }
    Ok(out)
}

/// A claim's fixed description and its test.
struct Spec {
    id: &'static str,
    /// The figure whose sweep it needs.
    number: u8,
    figure: &'static str,
    statement: &'static str,
    test: fn() -> String,
    judge: fn(&Figure) -> Result<Vec<Comparison>, String>,
}

const SPECS: [Spec; 11] = [
    Spec {
        id: "C1",
        number: 5,
        figure: "5(a)",
        statement: "under Zipf, ISO's and Cross-Equ's times grow markedly with the request rate",
        test: || {
            format!(
                "for ISO and for Cross-Equ, T(highest rate) - {} x T(lowest rate) > 0: a rise of at least {:.0}% of the lowest-rate time",
                1.0 + MARKED_GROWTH,
                MARKED_GROWTH * 100.0
            )
        },
        judge: c1,
    },
    Spec {
        id: "C2",
        number: 5,
        figure: "5(a)",
        statement: "Cross-Prop's and Cross-Opt's times stay comparatively stable",
        test: || {
            format!(
                "with G = T(highest rate) - T(lowest rate), {STABLE_FRACTION} x G(growing) - G(stable) > 0 for Cross-Prop and Cross-Opt against each of ISO and Cross-Equ: each rises by at most {:.0}% as much",
                STABLE_FRACTION * 100.0
            )
        },
        judge: c2,
    },
    Spec {
        id: "C3",
        number: 5,
        figure: "5(a)",
        statement: "Cross-Opt is below Cross-Prop",
        test: || "Cross-Prop - Cross-Opt, averaged over the request rates, > 0".into(),
        judge: c3,
    },
    Spec {
        id: "C4",
        number: 5,
        figure: "5(b)",
        statement: "under uniform popularity Cross-Equ equals Cross-Prop",
        test: || {
            format!(
                "at every rate, D = Cross-Equ - Cross-Prop lies within +-{:.0}% of M, their mean: D + {0:.0}% x M > 0 and {0:.0}% x M - D > 0 (two one-sided comparisons)",
                EQUAL_MARGIN * 100.0
            )
        },
        judge: c4,
    },
    Spec {
        id: "C5",
        number: 5,
        figure: "5(b)",
        statement: "Cross-Opt is the lowest",
        test: || {
            "each of ISO, Cross-Equ, Cross-Prop minus Cross-Opt, averaged over the request rates, > 0".into()
        },
        judge: c5,
    },
    Spec {
        id: "C6",
        number: 6,
        figure: "6(a)",
        statement: "image 1 is much slower under ISO and Cross-Equ than under Cross-Prop and Cross-Opt",
        test: || {
            format!(
                "for image 1, T(ISO or Cross-Equ) - {} x T(Cross-Prop or Cross-Opt) > 0, all four pairs: at least {:.0}% slower",
                1.0 + MUCH_SLOWER,
                MUCH_SLOWER * 100.0
            )
        },
        judge: c6,
    },
    Spec {
        id: "C7",
        number: 6,
        figure: "6(a)",
        statement: "Cross-Prop is the worst for images 8, 9, 10",
        test: || {
            "for each of the three least popular images, Cross-Prop - each other policy > 0".into()
        },
        judge: c7,
    },
    Spec {
        id: "C8",
        number: 6,
        figure: "6(a)",
        statement: "Cross-Opt's per-image times are the most even",
        test: || {
            "CV(other) - CV(Cross-Opt) > 0 for each other policy, CV = standard deviation / mean of a run's per-image means".into()
        },
        judge: c8,
    },
    Spec {
        id: "C9",
        number: 6,
        figure: "6(b)",
        statement: "under uniform popularity all are even, Cross-Opt the lowest",
        test: || {
            format!(
                "{EVEN_CV} - CV(policy) > 0 for every policy (CV as in C8), and each other policy's mean over images minus Cross-Opt's > 0"
            )
        },
        judge: c9,
    },
    Spec {
        id: "C10",
        number: 7,
        figure: "7(a) and (b)",
        statement: "the gaps between Cross-Equ, Cross-Prop and Cross-Opt shrink as the common ratio grows, under both popularities",
        test: || {
            format!(
                "in each panel, with S = max - min of the three policies' times, {} x S(lowest ratio) - S(highest ratio) > 0: the gap shrinks by at least {:.0}%",
                1.0 - GAP_SHRINK,
                GAP_SHRINK * 100.0
            )
        },
        judge: c10,
    },
    Spec {
        id: "C11",
        number: 7,
        figure: "7(a) and (b)",
        statement: "Cross-Opt stays the lowest at every ratio",
        test: || {
            "in each panel at every ratio, each of ISO, Cross-Equ, Cross-Prop minus Cross-Opt > 0"
                .into()
        },
        judge: c11,
    },
];

/// One line on why a judged claim got its verdict.
fn explain(claim: &Claim) -> String {
    let n = claim.comparisons.len();
    let count = |v: Verdict| claim.comparisons.iter().filter(|c| c.verdict == v).count();
    let shown = claim
        .deciding()
        .map(Comparison::display)
        .unwrap_or_default();
    if claim.comparisons.iter().all(|c| c.estimate.n < 2) {
        return "fewer than two replications: no interval, nothing decided".into();
    }
    match claim.verdict {
        Verdict::Holds => format!("all {n} intervals lie above zero; the weakest: {shown}"),
        Verdict::Fails => format!(
            "{} of {n} intervals lie below zero, against the claim: {shown}",
            count(Verdict::Fails)
        ),
        Verdict::Inconclusive => format!(
            "none lies below zero, but {} of {n} intervals span zero: {shown}",
            count(Verdict::Inconclusive)
        ),
        Verdict::NotRun => String::new(),
    }
}

/// Judge the eleven claims on the figures that ran; the others are "not
/// run".
pub fn judge(inputs: &Inputs) -> Vec<Claim> {
    SPECS
        .iter()
        .map(|spec| {
            let figure = match spec.number {
                5 => inputs.fig5.as_ref(),
                6 => inputs.fig6.as_ref(),
                _ => inputs.fig7.as_ref(),
            };
            let mut claim = Claim {
                id: spec.id,
                figure: spec.figure,
                statement: spec.statement,
                test: (spec.test)(),
                verdict: Verdict::NotRun,
                explanation: format!("Fig. {} was not run", spec.number),
                comparisons: Vec::new(),
            };
            match figure.map(spec.judge) {
                None => {}
                Some(Err(why)) => claim.explanation = format!("cannot be judged: {why}"),
                Some(Ok(comparisons)) => {
                    claim.verdict = Verdict::all(comparisons.iter().map(|c| c.verdict));
                    claim.comparisons = comparisons;
                    claim.explanation = explain(&claim);
                }
            }
            claim
        })
        .collect()
}

/// What the report says about how the figures were run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Report {
    /// The figures were the `--quick` versions.
    pub quick: bool,
    /// The metric Figs. 5 and 7 were judged on.
    pub metric: Metric,
}

impl Report {
    /// The metric a claim was judged on.
    fn metric_of(&self, claim: &Claim) -> &'static str {
        if claim.figure.starts_with('6') {
            "image_k_mean_s"
        } else {
            self.metric.name()
        }
    }
}

/// The columns of `claims.csv`, in order ([`claim_records`]' fields).
pub const CLAIM_COLUMNS: [&str; 12] = [
    "claim",
    "figure",
    "verdict",
    "comparison",
    "mean",
    "ci_low",
    "ci_high",
    "unit",
    "replications",
    "comparison_verdict",
    "metric",
    "quick",
];

/// The records of `claims.csv` ([`CLAIM_COLUMNS`]): one per claim and
/// comparison, one with empty comparison fields for a claim not run.
pub fn claim_records(claims: &[Claim], report: &Report) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    for claim in claims {
        let head = [claim.id, claim.figure, claim.verdict.name()].map(String::from);
        let tail = [
            report.metric_of(claim).to_string(),
            report.quick.to_string(),
        ];
        if claim.comparisons.is_empty() {
            let blank = [""; 7].map(String::from);
            records.push(head.iter().chain(&blank).chain(&tail).cloned().collect());
        }
        for c in &claim.comparisons {
            let e = &c.estimate;
            let mid = [
                c.label.clone(),
                e.mean.to_string(),
                e.ci_low.to_string(),
                e.ci_high.to_string(),
                c.unit.to_string(),
                e.n.to_string(),
                c.verdict.name().to_string(),
            ];
            records.push(head.iter().chain(&mid).chain(&tail).cloned().collect());
        }
    }
    records
}

/// `claims.csv`: one row per claim and comparison (one row with empty
/// comparison columns for a claim not run).
pub fn claims_csv(claims: &[Claim], report: &Report) -> Result<Vec<u8>, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| e.to_string();
    w.write_record(CLAIM_COLUMNS).map_err(err)?;
    for record in claim_records(claims, report) {
        w.write_record(&record).map_err(err)?;
    }
    w.into_inner().map_err(|e| e.to_string())
}

/// `claims.md`: a table of the verdicts, then each claim's test and
/// comparisons.
pub fn claims_md(claims: &[Claim], report: &Report) -> String {
    let mut s = String::from("# The paper's claims, judged\n\n");
    if report.quick {
        s.push_str(
            "**Quick run** (`figures --quick`): the reduced sweeps, with few replications \
             and short windows. The intervals are wide; read the verdicts as provisional.\n\n",
        );
    }
    let _ = write!(
        s,
        "Figures 5 and 7 are judged on `{}`, Figure 6 on the per-image means. Each comparison \
         is a quantity computed per replication, from runs that share the replication's seed \
         across policies and x values, and arranged to be positive when the claim holds \
         (thresholds included); its 95% Student-t interval over replications decides: above \
         zero it holds, below zero it fails, spanning zero it is inconclusive. Evenness (CV, \
         Figure 6) is computed on the per-image means over replications, with a jackknife \
         interval. Each interval is 95% on its own, not jointly. A claim holds \
         when all its comparisons hold and fails when one fails. The thresholds and why: \
         `docs/claims.md`.\n\n",
        report.metric.name()
    );
    s.push_str("| claim | figure | the paper says | verdict | why |\n|---|---|---|---|---|\n");
    for c in claims {
        let _ = writeln!(
            s,
            "| {} | {} | {} | **{}** | {} |",
            c.id,
            c.figure,
            c.statement,
            c.verdict.name(),
            c.explanation
        );
    }
    for c in claims {
        let _ = write!(
            s,
            "\n## {}: Fig. {}, {}\n\nVerdict: **{}**. Test: {}.\n",
            c.id,
            c.figure,
            c.statement,
            c.verdict.name(),
            c.test
        );
        if c.comparisons.is_empty() {
            let _ = writeln!(s, "\n{}.", c.explanation);
            continue;
        }
        s.push_str(
            "\n| comparison | mean | 95% CI | unit | n | verdict |\n|---|---|---|---|---|---|\n",
        );
        for cmp in &c.comparisons {
            let e = &cmp.estimate;
            let _ = writeln!(
                s,
                "| {} | {:.3} | [{:.3}, {:.3}] | {} | {} | {} |",
                cmp.label,
                e.mean,
                e.ci_low,
                e.ci_high,
                cmp.unit,
                e.n,
                cmp.verdict.name()
            );
        }
    }
    s
}

/// `claims.csv` and `claims.md`.
pub fn files(claims: &[Claim], report: &Report) -> Result<Vec<(String, Vec<u8>)>, String> {
    Ok(vec![
        ("claims.csv".into(), claims_csv(claims, report)?),
        ("claims.md".into(), claims_md(claims, report).into_bytes()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets shared by every policy and x value of a replication (common
    /// random numbers): paired comparisons cancel them.
    const SHARED: [f64; 5] = [0.0, 0.8, -0.6, 0.3, -0.5];
    /// Small noise of each value of its own, so that intervals have width.
    const OWN: [f64; 5] = [0.02, -0.01, 0.03, -0.02, 0.0];
    const POLICIES: [&str; 4] = [ISO, EQU, PROP, OPT];

    /// A panel of five replications: `f(policy, x index, replication)`.
    fn panel(xs: &[f64], f: impl Fn(&str, usize, usize) -> f64) -> Panel {
        let values = POLICIES
            .iter()
            .map(|&p| {
                let series = (0..xs.len())
                    .map(|i| (0..5).map(|r| f(p, i, r)).collect())
                    .collect();
                (p.to_string(), series)
            })
            .collect();
        Panel {
            xs: xs.to_vec(),
            values,
        }
    }

    /// `curve(policy, x)` plus the shared and own noise.
    fn noisy(xs: &[f64], curve: impl Fn(&str, f64) -> f64) -> Panel {
        panel(xs, |p, i, r| {
            let k = POLICIES.iter().position(|&q| q == p).unwrap();
            curve(p, xs[i]) + SHARED[r] + OWN[(r + k + i) % 5]
        })
    }

    const RATES: [f64; 3] = [0.5, 2.0, 4.0];

    /// Figure 5 as the paper describes it.
    fn fig5_as_in_the_paper() -> Figure {
        Figure {
            zipf: noisy(&RATES, |p, x| match p {
                ISO => 2.0 + 2.0 * x,
                EQU => 2.0 + 1.9 * x,
                PROP => 3.0 + 0.2 * x,
                _ => 2.5 + 0.2 * x,
            }),
            uniform: noisy(&RATES, |p, x| match p {
                ISO => 3.0 + x,
                EQU | PROP => 2.8 + x,
                _ => 2.0 + x,
            }),
        }
    }

    fn verdicts(inputs: &Inputs) -> Vec<(&'static str, Verdict)> {
        judge(inputs).iter().map(|c| (c.id, c.verdict)).collect()
    }

    fn verdict_of(inputs: &Inputs, id: &str) -> Verdict {
        judge(inputs)
            .into_iter()
            .find(|c| c.id == id)
            .unwrap()
            .verdict
    }

    #[test]
    fn a_comparison_is_decided_by_its_interval() {
        let e = |values: &[f64]| Verdict::of(&estimate(values));
        assert_eq!(e(&[1.0, 1.1, 0.9]), Verdict::Holds);
        assert_eq!(e(&[-1.0, -1.1, -0.9]), Verdict::Fails);
        assert_eq!(e(&[1.0, -1.0, 0.5]), Verdict::Inconclusive);
        // One replication has no interval: nothing is decided.
        assert_eq!(e(&[5.0]), Verdict::Inconclusive);
        use Verdict::*;
        assert_eq!(Verdict::all([Holds, Holds]), Holds);
        assert_eq!(Verdict::all([Holds, Inconclusive]), Inconclusive);
        assert_eq!(Verdict::all([Inconclusive, Fails, Holds]), Fails);
        assert_eq!(Verdict::all([]), Inconclusive);
    }

    #[test]
    fn figure_5_as_the_paper_describes_it_holds() {
        let inputs = Inputs {
            fig5: Some(fig5_as_in_the_paper()),
            ..Inputs::default()
        };
        for (id, v) in verdicts(&inputs).into_iter().take(5) {
            assert_eq!(v, Verdict::Holds, "{id}");
        }
    }

    #[test]
    fn flat_and_reversed_curves_fail() {
        // Every policy flat; Cross-Opt above Cross-Prop; Cross-Equ 20% above
        // Cross-Prop under uniform popularity.
        let flat = |p: &str, _x: f64| match p {
            OPT => 4.0,
            EQU => 3.6,
            _ => 3.0,
        };
        let inputs = Inputs {
            fig5: Some(Figure {
                zipf: noisy(&RATES, flat),
                uniform: noisy(&RATES, flat),
            }),
            ..Inputs::default()
        };
        for id in ["C1", "C3", "C4", "C5"] {
            assert_eq!(verdict_of(&inputs, id), Verdict::Fails, "{id}");
        }
    }

    #[test]
    fn a_difference_lost_in_noise_is_inconclusive() {
        // Cross-Prop - Cross-Opt alternates in sign over replications.
        const SWING: [f64; 5] = [1.0, -1.2, 0.8, -0.9, 0.4];
        let p = panel(&RATES, |p, _i, r| match p {
            PROP => 5.0 + SWING[r],
            _ => 5.0,
        });
        let f = Figure {
            zipf: p.clone(),
            uniform: p,
        };
        let claims = judge(&Inputs {
            fig5: Some(f),
            ..Inputs::default()
        });
        let c3 = &claims[2];
        assert_eq!(c3.verdict, Verdict::Inconclusive);
        assert!(c3.explanation.contains("span zero"), "{}", c3.explanation);
        // Cross-Equ and Cross-Prop: the same mean, but too noisy to call equal.
        assert_eq!(claims[3].verdict, Verdict::Inconclusive);
    }

    /// Figure 6 as the paper describes it: ISO and Cross-Equ slow for image
    /// 1, Cross-Prop slow for images 8-10, Cross-Opt flat; flat under
    /// uniform popularity with Cross-Opt lowest.
    fn fig6(opt_zipf: impl Fn(f64) -> f64) -> Figure {
        let images: Vec<f64> = (1..=10).map(f64::from).collect();
        Figure {
            zipf: noisy(&images, |p, k| match p {
                ISO | EQU if k == 1.0 => 9.0,
                ISO | EQU => 4.0,
                PROP if k >= 8.0 => 9.0,
                PROP => 4.5,
                _ => opt_zipf(k),
            }),
            uniform: noisy(&images, |p, _k| if p == OPT { 5.5 } else { 6.2 }),
        }
    }

    #[test]
    fn figure_6_claims_hold_and_fail() {
        let inputs = Inputs {
            fig6: Some(fig6(|_| 5.5)),
            ..Inputs::default()
        };
        for id in ["C6", "C7", "C8", "C9"] {
            assert_eq!(verdict_of(&inputs, id), Verdict::Holds, "{id}");
        }
        // Cross-Opt as uneven as the others, and slower than ISO for image
        // 10: it is neither the most even nor is Cross-Prop the worst there.
        let inputs = Inputs {
            fig6: Some(fig6(|k| if k == 10.0 { 12.0 } else { 3.0 })),
            ..Inputs::default()
        };
        assert_eq!(verdict_of(&inputs, "C7"), Verdict::Fails);
        assert_eq!(verdict_of(&inputs, "C8"), Verdict::Fails);
    }

    #[test]
    fn figure_7_gaps_that_shrink_or_grow() {
        let ratios = [0.2, 0.5, 0.9];
        // The spread of the three cross policies falls from 2 s to 0.4 s.
        let shrinking = |p: &str, x: f64| match p {
            ISO => 8.0,
            OPT => 5.0,
            _ => 5.0 + 2.0 * (1.0 - (x - 0.2) / 0.7 * 0.8),
        };
        let f = |curve: fn(&str, f64) -> f64| Figure {
            zipf: noisy(&ratios, curve),
            uniform: noisy(&ratios, curve),
        };
        let inputs = Inputs {
            fig7: Some(f(shrinking)),
            ..Inputs::default()
        };
        assert_eq!(verdict_of(&inputs, "C10"), Verdict::Holds);
        assert_eq!(verdict_of(&inputs, "C11"), Verdict::Holds);
        // The spread grows, and Cross-Opt is the highest at the top ratio.
        let growing = |p: &str, x: f64| match p {
            OPT => 5.0 + 4.0 * x,
            _ => 5.0,
        };
        let inputs = Inputs {
            fig7: Some(f(growing)),
            ..Inputs::default()
        };
        assert_eq!(verdict_of(&inputs, "C10"), Verdict::Fails);
        assert_eq!(verdict_of(&inputs, "C11"), Verdict::Fails);
    }

    #[test]
    fn the_jackknife_of_an_average_is_the_paired_interval() {
        let v = [1.0, 1.5, 0.7, 1.2];
        let plain = Comparison::new("x".into(), "s", 4, |r| v[r]);
        let jack = Comparison::jackknife("x".into(), "s", 4, |rs| {
            rs.iter().map(|&r| v[r]).sum::<f64>() / rs.len() as f64
        });
        assert!((plain.estimate.mean - jack.estimate.mean).abs() < 1e-12);
        assert!((plain.estimate.ci_low - jack.estimate.ci_low).abs() < 1e-9);
        assert_eq!(plain.verdict, jack.verdict);
    }

    #[test]
    fn sampling_noise_alone_is_not_unevenness() {
        // Every image's expected time is 5 s under every policy, but each run
        // measures it with 15% noise of its own: a single run's CV is about
        // 0.15, above EVEN_CV, while the curve itself is flat.
        let images: Vec<f64> = (1..=10).map(f64::from).collect();
        let mut state = 12345u64;
        let mut draw = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        };
        let mut uniform = Panel {
            xs: images.clone(),
            values: BTreeMap::new(),
        };
        for p in POLICIES {
            // Uniform on [-1, 1] has sd 1/sqrt(3): scale to a 15% sd.
            let series = (0..10)
                .map(|_| {
                    (0..20)
                        .map(|_| 5.0 * (1.0 + 0.15 * 3f64.sqrt() * draw()))
                        .collect()
                })
                .collect();
            uniform.values.insert(p.to_string(), series);
        }
        let one_run = cv(uniform.values[ISO].iter().map(|column| column[0]));
        assert!(one_run > EVEN_CV, "a run's CV {one_run}");
        let f = Figure {
            zipf: uniform.clone(),
            uniform,
        };
        let claims = judge(&Inputs {
            fig6: Some(f),
            ..Inputs::default()
        });
        let c9 = &claims[8];
        assert!(
            c9.comparisons[..4]
                .iter()
                .all(|c| c.verdict == Verdict::Holds),
            "{:#?}",
            c9.comparisons
        );
    }

    #[test]
    fn claims_of_figures_not_run_are_not_run() {
        let claims = judge(&Inputs {
            fig6: Some(fig6(|_| 5.5)),
            ..Inputs::default()
        });
        assert_eq!(claims.len(), 11);
        for c in &claims {
            let judged = c.figure.starts_with('6');
            assert_eq!(c.verdict != Verdict::NotRun, judged, "{}", c.id);
            assert_eq!(c.comparisons.is_empty(), !judged, "{}", c.id);
        }
        assert_eq!(claims[0].explanation, "Fig. 5 was not run");
    }

    #[test]
    fn a_claim_without_its_policies_cannot_be_judged() {
        let mut f = fig5_as_in_the_paper();
        f.zipf.values.remove(OPT);
        let claims = judge(&Inputs {
            fig5: Some(f),
            ..Inputs::default()
        });
        assert_eq!(claims[0].verdict, Verdict::Holds, "C1 needs no cross-opt");
        assert_eq!(claims[2].verdict, Verdict::NotRun);
        assert!(claims[2].explanation.contains("`cross-opt`"));
    }

    #[test]
    fn one_replication_decides_nothing() {
        let mut f = fig5_as_in_the_paper();
        for p in [&mut f.zipf, &mut f.uniform] {
            for series in p.values.values_mut() {
                series.iter_mut().for_each(|column| column.truncate(1));
            }
        }
        let claims = judge(&Inputs {
            fig5: Some(f),
            ..Inputs::default()
        });
        assert!(
            claims[..5]
                .iter()
                .all(|c| c.verdict == Verdict::Inconclusive)
        );
        assert!(
            claims[0]
                .explanation
                .contains("fewer than two replications")
        );
    }

    #[test]
    fn reports_list_every_claim_and_comparison() {
        let inputs = Inputs {
            fig5: Some(fig5_as_in_the_paper()),
            ..Inputs::default()
        };
        let claims = judge(&inputs);
        let report = Report {
            quick: true,
            metric: Metric::MeanVm,
        };
        let csv = String::from_utf8(claims_csv(&claims, &report).unwrap()).unwrap();
        let rows: Vec<Vec<&str>> = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect())
            .collect();
        let comparisons: usize = claims.iter().map(|c| c.comparisons.len().max(1)).sum();
        assert_eq!(rows.len(), comparisons);
        let ids: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[0]).collect();
        assert_eq!(ids.len(), 11);
        assert!(rows.iter().all(|r| r[r.len() - 1] == "true"));
        let md = claims_md(&claims, &report);
        assert!(md.contains("Quick run"));
        for c in &claims {
            assert!(
                md.contains(&format!("| {} | {} |", c.id, c.figure)),
                "{}",
                c.id
            );
        }
        assert!(md.contains("| **not run** |") && md.contains("| **holds** |"));
    }
}
