//! Parameter sweeps: a grid of config values x policies x replications, run
//! in parallel, summarised with confidence intervals.
//!
//! A grid is declared in the config's `[sweep]` table as axes, each a dotted
//! config key and its values; the grid is their cartesian product, the first
//! axis outermost. Replication `r` uses a seed derived from the base seed and
//! `r` alone, so every grid point and every policy of a replication sees the
//! same random numbers (common random numbers), and results are paired.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::experiments::store::{JobStore, StoreError};
use crate::input::config::{Config, ConfigError};
use crate::progress::Progress;
use crate::scenario::Scenario;
use crate::sim::RunError;
use crate::stats::{Estimate, estimate, paired_difference};

/// Seeds of replications live with the scenarios they seed.
pub use crate::scenario::replication_seed;

/// Why a sweep did not produce all its results.
#[derive(Debug, Clone, PartialEq)]
pub enum SweepError {
    /// The sweep, a grid point's config or its scenario is bad.
    Config(ConfigError),
    /// A run hit a guard or broke an invariant.
    Run(RunError),
    /// A finished job could not be stored.
    Store(StoreError),
    /// The sweep was interrupted; what finished is kept.
    Interrupted {
        /// Jobs whose results are stored.
        kept: usize,
        /// Jobs in the sweep (or shard).
        total: usize,
        /// Where they are stored.
        store: PathBuf,
    },
}

impl std::fmt::Display for SweepError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SweepError::Config(e) => write!(f, "{e}"),
            SweepError::Run(e) => write!(f, "{e}"),
            SweepError::Store(e) => write!(f, "{e}"),
            SweepError::Interrupted { kept, total, store } => write!(
                f,
                "interrupted: {kept} of {total} runs are kept in {}; run the same command again to resume",
                store.display()
            ),
        }
    }
}

impl std::error::Error for SweepError {}

impl From<ConfigError> for SweepError {
    fn from(e: ConfigError) -> Self {
        SweepError::Config(e)
    }
}

impl From<RunError> for SweepError {
    fn from(e: RunError) -> Self {
        SweepError::Run(e)
    }
}

impl From<StoreError> for SweepError {
    fn from(e: StoreError) -> Self {
        SweepError::Store(e)
    }
}

/// One point of the grid: a value per axis.
#[derive(Debug, Clone, PartialEq)]
pub struct GridPoint {
    /// Index of the point in grid order.
    pub index: usize,
    /// `(key, value)` per axis, in axis order.
    pub values: Vec<(String, toml::Value)>,
    /// The config at this point (base seed).
    pub config: Config,
}

/// A sweep ready to run: the grid, expanded and validated.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The base config.
    pub config: Config,
    /// The axes' keys.
    pub keys: Vec<String>,
    /// Every grid point.
    pub points: Vec<GridPoint>,
    /// Replications per point.
    pub replications: usize,
    /// The baseline policy for paired differences.
    pub baseline: String,
}

/// Set a dotted key of a config to a value; the result is validated. A
/// table value for a key that names a table is merged into it: each of its
/// entries sets a key below `key` (`key = "workload"` with `{ lifetime_min_s
/// = 0.0, lifetime_max_s = 5.0 }` sets both), and the table's other keys
/// keep their values. This is how one sweep axis varies several keys.
pub fn with_value(
    config: &Config,
    key: &str,
    value: &toml::Value,
    file: &Path,
) -> Result<Config, ConfigError> {
    let err = |message: String| ConfigError {
        file: file.to_path_buf(),
        key: key.to_string(),
        message,
    };
    // A sweep varies the model's parameters. Every grid point runs the same
    // policies (results are paired against the baseline) with the
    // replication's seed, so these keys cannot vary.
    let top = key.split('.').next().unwrap_or("");
    if ["policies", "policy", "seed", "name", "sweep"].contains(&top) {
        return Err(err(format!(
            "`{top}` cannot be swept or set by [sweep.quick]: a sweep varies the model's parameters \
             (content, workload, peers, server, subgradient, limits); every point runs the config's \
             policies with each replication's seed"
        )));
    }
    let mut root = toml::Value::try_from(config).map_err(|e| err(e.to_string()))?;
    let parts: Vec<&str> = key.split('.').collect();
    let (last, parents) = parts.split_last().ok_or_else(|| err("empty key".into()))?;
    let mut table = root.as_table_mut().expect("a config is a table");
    for p in parents {
        table = table
            .get_mut(*p)
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| err(format!("`{p}` is not a table of the config")))?;
    }
    match (table.get_mut(*last), value) {
        // A table value sets several keys at once (a lifetime's min and max
        // together, say): merged, so the table's other keys keep their values.
        (Some(toml::Value::Table(old)), toml::Value::Table(entries)) => merge(old, entries),
        _ => {
            table.insert(last.to_string(), value.clone());
        }
    }
    let mut new: Config = root.try_into().map_err(|e: toml::de::Error| {
        err(format!("cannot be set to {value}: {}", e.message().trim()))
    })?;
    new.source = config.source.clone();
    new.validate(file)?;
    Ok(new)
}

/// Merge `entries` into `table`: nested tables merge, other values replace.
fn merge(table: &mut toml::Table, entries: &toml::Table) {
    for (key, value) in entries {
        match (table.get_mut(key), value) {
            (Some(toml::Value::Table(old)), toml::Value::Table(new)) => merge(old, new),
            _ => {
                table.insert(key.clone(), value.clone());
            }
        }
    }
}

impl Sweep {
    /// Expand the config's grid (with `--quick` changes if asked) and check
    /// every point's config.
    pub fn new(config: &Config, quick: bool, file: &Path) -> Result<Sweep, ConfigError> {
        let mut base = config.clone();
        let mut axes = config.sweep.axis.clone();
        let mut replications = config.sweep.replications;
        if quick && let Some(q) = &config.sweep.quick {
            for (key, value) in &q.set {
                base = with_value(&base, key, value, file).map_err(|e| ConfigError {
                    message: format!("sweep.quick.set: {}", e.message),
                    ..e
                })?;
            }
            for qa in &q.axis {
                match axes.iter_mut().find(|a| a.key == qa.key) {
                    Some(a) => a.values = qa.values.clone(),
                    None => axes.push(qa.clone()),
                }
            }
            replications = q.replications.unwrap_or(replications);
        }
        if replications == 0 {
            return Err(ConfigError {
                file: file.to_path_buf(),
                key: "sweep.replications".into(),
                message: "must be at least 1 (got 0)".into(),
            });
        }
        for (i, a) in axes.iter().enumerate() {
            if a.values.is_empty() {
                return Err(ConfigError {
                    file: file.to_path_buf(),
                    key: format!("sweep.axis[{i}].values"),
                    message: format!("axis `{}` has no value", a.key),
                });
            }
        }
        let baseline = config
            .sweep
            .baseline
            .clone()
            .unwrap_or_else(|| config.policies[0].clone());
        if !config.policies.contains(&baseline) {
            return Err(ConfigError {
                file: file.to_path_buf(),
                key: "sweep.baseline".into(),
                message: format!(
                    "`{baseline}` is not among the policies run: {}",
                    config.policies.join(", ")
                ),
            });
        }
        let mut points = vec![(Vec::new(), base.clone())];
        for (i, a) in axes.iter().enumerate() {
            let mut next = Vec::with_capacity(points.len() * a.values.len());
            for (values, cfg) in &points {
                for v in &a.values {
                    let mut values: Vec<(String, toml::Value)> = values.clone();
                    values.push((a.key.clone(), v.clone()));
                    // Name the axis, so the base config is not blamed.
                    let point = with_value(cfg, &a.key, v, file).map_err(|e| ConfigError {
                        message: format!("sweep.axis[{i}] value {v}: {}", e.message),
                        ..e
                    })?;
                    next.push((values, point));
                }
            }
            points = next;
        }
        Ok(Sweep {
            config: base,
            keys: axes.iter().map(|a| a.key.clone()).collect(),
            points: points
                .into_iter()
                .enumerate()
                .map(|(index, (values, config))| GridPoint {
                    index,
                    values,
                    config,
                })
                .collect(),
            replications,
            baseline,
        })
    }

    /// The (point, replication) jobs, in output order.
    pub fn jobs(&self) -> Vec<(usize, usize)> {
        (0..self.points.len())
            .flat_map(|p| (0..self.replications).map(move |r| (p, r)))
            .collect()
    }

    /// Run every job in parallel on the current rayon pool; results come
    /// back in job order whatever the thread count.
    pub fn run(&self, progress: &dyn Progress) -> Result<Vec<JobResult>, SweepError> {
        self.execute(&Execution::default(), progress)
    }

    /// The jobs of a shard (every job when `None`): those whose index in
    /// [`Sweep::jobs`] is `index` modulo `count`.
    pub fn shard_jobs(&self, shard: Option<Shard>) -> Vec<(usize, usize)> {
        self.jobs()
            .into_iter()
            .enumerate()
            .filter(|(k, _)| shard.is_none_or(|s| k % s.count == s.index))
            .map(|(_, job)| job)
            .collect()
    }

    /// Run the jobs `execution` selects, in parallel, taking finished ones
    /// from its store and storing new ones as they finish. When the stop
    /// flag is raised, jobs not yet started are skipped and the result is
    /// [`SweepError::Interrupted`], with what finished kept in the store.
    pub fn execute(
        &self,
        execution: &Execution,
        progress: &dyn Progress,
    ) -> Result<Vec<JobResult>, SweepError> {
        let jobs = self.shard_jobs(execution.shard);
        progress.set_total(jobs.len() as u64);
        let done = AtomicUsize::new(0);
        let local_stop = AtomicBool::new(false);
        let stop = execution.stop.unwrap_or(&local_stop);
        let results: Vec<Result<Option<JobResult>, SweepError>> = jobs
            .par_iter()
            .map(|&(p, r)| {
                if let Some(job) = execution.store.and_then(|s| s.load(self, p, r)) {
                    progress.advance(1);
                    done.fetch_add(1, Ordering::SeqCst);
                    return Ok(Some(job));
                }
                if stop.load(Ordering::SeqCst) {
                    return Ok(None);
                }
                let job = self.run_job(p, r)?;
                if let Some(store) = execution.store {
                    store.save(&job)?;
                }
                progress.advance(1);
                let finished = done.fetch_add(1, Ordering::SeqCst) + 1;
                if execution.stop_after.is_some_and(|k| finished >= k) {
                    stop.store(true, Ordering::SeqCst);
                }
                Ok(Some(job))
            })
            .collect();
        let mut out = Vec::with_capacity(results.len());
        let mut missing = 0;
        for r in results {
            match r? {
                Some(job) => out.push(job),
                None => missing += 1,
            }
        }
        if missing > 0 {
            return Err(SweepError::Interrupted {
                kept: out.len(),
                total: jobs.len(),
                store: execution
                    .store
                    .map(|s| s.dir().to_path_buf())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Run one grid point's replication: every policy on one scenario.
    pub fn run_job(&self, point: usize, replication: usize) -> Result<JobResult, SweepError> {
        let mut config = self.points[point].config.clone();
        config.seed = replication_seed(self.config.seed, replication);
        let scenario = Scenario::build(&config)?;
        let runs = config
            .resolved_policies()
            .iter()
            .map(|policy| {
                let run = scenario.run_policy(policy, &mut |_| {})?;
                Ok(PolicyResult {
                    policy: policy.name.clone(),
                    mean_vm_s: run.summary.mean_vm_s,
                    mean_image_s: run.summary.mean_image_s,
                    p95_s: run.summary.p95_s,
                    server_utilisation: run.summary.server_utilisation,
                    peer_utilisation: run.summary.peer_utilisation,
                    vms: run.summary.vms,
                    events: run.output.counters.events,
                    block_transfers: run.output.counters.block_transfers,
                    wall_s: run.output.counters.wall_s,
                    image_means_s: run.per_image.iter().map(|s| s.mean_s).collect(),
                })
            })
            .collect::<Result<Vec<_>, SweepError>>()?;
        Ok(JobResult {
            point,
            replication,
            seed: config.seed,
            runs,
        })
    }

    /// A hash of everything that decides the sweep's results (the resolved
    /// grid, replications, seeds, policies, the crate version): finished
    /// jobs are reused only under the same hash.
    pub fn fingerprint(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        env!("CARGO_PKG_VERSION").hash(&mut h);
        self.replications.hash(&mut h);
        self.baseline.hash(&mut h);
        for point in &self.points {
            toml::to_string(&point.config)
                .unwrap_or_default()
                .hash(&mut h);
        }
        format!("{:016x}", h.finish())
    }
}

/// One of `count` equal parts of a sweep's jobs, for cluster array jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// Which part, `0..count`.
    pub index: usize,
    /// How many parts.
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;

    /// Parse `i/n` with `0 <= i < n`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}` is not a shard: write i/n with 0 <= i < n, e.g. 0/4");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// How to run a sweep's jobs.
#[derive(Default)]
pub struct Execution<'a> {
    /// Where finished jobs are kept (none: nothing is stored or reused).
    pub store: Option<&'a JobStore>,
    /// Run only this shard's jobs.
    pub shard: Option<Shard>,
    /// Raised (by the application, on Ctrl-C) to stop starting new jobs.
    pub stop: Option<&'a AtomicBool>,
    /// Raise the stop flag after this many jobs finish (to test resuming).
    pub stop_after: Option<usize>,
}

/// One policy's numbers in one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResult {
    /// Policy name.
    pub policy: String,
    /// Mean download time over VMs (s).
    pub mean_vm_s: f64,
    /// Mean of per-image means (s).
    pub mean_image_s: f64,
    /// 95th percentile (s).
    pub p95_s: f64,
    /// Server utilisation.
    pub server_utilisation: f64,
    /// Peer upload utilisation.
    pub peer_utilisation: f64,
    /// VMs counted.
    pub vms: usize,
    /// Events processed.
    pub events: u64,
    /// Blocks delivered.
    pub block_transfers: u64,
    /// Wall time (s); not part of any deterministic output.
    pub wall_s: f64,
    /// Mean download time per image (s), image order.
    pub image_means_s: Vec<f64>,
}

/// All policies' numbers for one (grid point, replication).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobResult {
    /// Grid point index.
    pub point: usize,
    /// Replication index.
    pub replication: usize,
    /// The seed used.
    pub seed: u64,
    /// One per policy, in policy order.
    pub runs: Vec<PolicyResult>,
}

/// The headline metrics summarised over replications.
pub const METRICS: [&str; 3] = ["mean_vm_s", "mean_image_s", "p95_s"];

impl PolicyResult {
    /// `(metric name, value)`: the headline metrics, then each image's mean.
    pub fn metrics(&self) -> Vec<(String, f64)> {
        let headline = [self.mean_vm_s, self.mean_image_s, self.p95_s];
        METRICS
            .iter()
            .zip(headline)
            .map(|(m, v)| (m.to_string(), v))
            .chain(
                self.image_means_s
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| (format!("image_{}_mean_s", k + 1), v)),
            )
            .collect()
    }
}

/// A metric of one policy at one grid point, over replications.
#[derive(Debug, Clone, PartialEq)]
pub struct PointStat {
    /// Grid point index.
    pub point: usize,
    /// Policy name.
    pub policy: String,
    /// Metric name (one of [`METRICS`], or `image_<k>_mean_s`).
    pub metric: String,
    /// The estimate over replications.
    pub estimate: Estimate,
    /// Paired difference `policy - baseline`.
    pub vs_baseline: Estimate,
}

/// Summarise results per point, policy and metric (the headline metrics,
/// then each image's mean), replications in order.
pub fn summarize(sweep: &Sweep, results: &[JobResult]) -> Vec<PointStat> {
    let mut out = Vec::new();
    for point in &sweep.points {
        // values[policy][metric][replication]
        let per_policy = |policy: &str| -> (Vec<String>, Vec<Vec<f64>>) {
            let mut names = Vec::new();
            let mut values: Vec<Vec<f64>> = Vec::new();
            for job in results.iter().filter(|j| j.point == point.index) {
                if let Some(run) = job.runs.iter().find(|r| r.policy == policy) {
                    let metrics = run.metrics();
                    if values.is_empty() {
                        names = metrics.iter().map(|m| m.0.clone()).collect();
                        values = vec![Vec::new(); metrics.len()];
                    }
                    for (slot, (_, v)) in values.iter_mut().zip(metrics) {
                        slot.push(v);
                    }
                }
            }
            (names, values)
        };
        let (_, base) = per_policy(&sweep.baseline);
        for policy in &sweep.config.policies {
            let (names, values) = per_policy(policy);
            for (m, name) in names.into_iter().enumerate() {
                out.push(PointStat {
                    point: point.index,
                    policy: policy.clone(),
                    metric: name,
                    estimate: estimate(&values[m]),
                    vs_baseline: paired_difference(&values[m], &base[m]),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::parse(text, Path::new("s.toml")).unwrap()
    }

    #[test]
    fn grid_is_the_cartesian_product_first_axis_outermost() {
        let c = config(
            "[sweep]\nreplications = 3\n[[sweep.axis]]\nkey = \"workload.popularity\"\nvalues = [\"zipf\", \"uniform\"]\n[[sweep.axis]]\nkey = \"workload.rate_per_s\"\nvalues = [0.5, 1.0, 2.0]\n",
        );
        let s = Sweep::new(&c, false, Path::new("s.toml")).unwrap();
        assert_eq!(s.points.len(), 6);
        assert_eq!(s.jobs().len(), 18);
        let rates: Vec<f64> = s
            .points
            .iter()
            .map(|p| p.config.workload.rate_per_s)
            .collect();
        assert_eq!(rates, [0.5, 1.0, 2.0, 0.5, 1.0, 2.0]);
        assert_eq!(
            s.points[3].config.workload.popularity,
            crate::input::config::PopularityKind::Uniform
        );
        assert_eq!(s.jobs()[4], (1, 1));
    }

    #[test]
    fn replication_seeds_are_distinct() {
        let seeds: std::collections::HashSet<u64> =
            (0..1000).map(|r| replication_seed(1, r)).collect();
        assert_eq!(seeds.len(), 1000);
        assert!(seeds.iter().all(|&s| s <= i64::MAX as u64));
    }

    #[test]
    fn bad_axes_are_named() {
        let c = config("[[sweep.axis]]\nkey = \"workload.rate\"\nvalues = [1.0]\n");
        let e = Sweep::new(&c, false, Path::new("s.toml")).unwrap_err();
        assert_eq!(e.key, "workload.rate");
        let c = config("[[sweep.axis]]\nkey = \"workload.rate_per_s\"\nvalues = [-1.0]\n");
        let e = Sweep::new(&c, false, Path::new("s.toml")).unwrap_err();
        assert_eq!(e.key, "workload.rate_per_s");
        let c = config("[[sweep.axis]]\nkey = \"workload.popularity\"\nvalues = [\"pareto\"]\n");
        assert!(Sweep::new(&c, false, Path::new("s.toml")).is_err());
    }

    #[test]
    fn policies_and_seeds_cannot_be_swept() {
        for key in ["policies", "seed", "sweep.replications"] {
            let c = config(&format!("[[sweep.axis]]\nkey = \"{key}\"\nvalues = [1]\n"));
            let e = Sweep::new(&c, false, Path::new("s.toml")).unwrap_err();
            assert!(e.message.contains("cannot be swept"), "{key}: {e}");
        }
    }

    #[test]
    fn quick_mode_replaces_axes_and_replications() {
        let c = config(
            "[sweep]\nreplications = 10\n[[sweep.axis]]\nkey = \"workload.rate_per_s\"\nvalues = [0.5, 1.0, 2.0]\n[sweep.quick]\nreplications = 2\nset = { \"workload.window_s\" = 50.0 }\n[[sweep.quick.axis]]\nkey = \"workload.rate_per_s\"\nvalues = [1.0]\n",
        );
        let s = Sweep::new(&c, true, Path::new("s.toml")).unwrap();
        assert_eq!((s.points.len(), s.replications), (1, 2));
        assert_eq!(s.points[0].config.workload.window_s, 50.0);
        let full = Sweep::new(&c, false, Path::new("s.toml")).unwrap();
        assert_eq!((full.points.len(), full.replications), (3, 10));
    }

    /// A lifetime-regime axis: one value sets two keys.
    const PAIR_AXIS: &str = "[[sweep.axis]]\nkey = \"workload\"\nvalues = [{ lifetime_min_s = 0.0, lifetime_max_s = 5.0 }, { lifetime_min_s = 10.0, lifetime_max_s = 20.0 }]\n";

    #[test]
    fn a_table_value_sets_several_keys_and_keeps_the_others() {
        let c = config(&format!(
            "[workload]\nrate_per_s = 3.0\n{PAIR_AXIS}[[sweep.axis]]\nkey = \"workload.rate_per_s\"\nvalues = [1.0, 2.0]\n"
        ));
        let s = Sweep::new(&c, false, Path::new("s.toml")).unwrap();
        let got: Vec<(f64, f64, f64)> = s
            .points
            .iter()
            .map(|p| {
                let w = &p.config.workload;
                (w.lifetime_min_s, w.lifetime_max_s, w.rate_per_s)
            })
            .collect();
        assert_eq!(
            got,
            [
                (0.0, 5.0, 1.0),
                (0.0, 5.0, 2.0),
                (10.0, 20.0, 1.0),
                (10.0, 20.0, 2.0)
            ]
        );
        // The rest of [workload] is untouched by the table value.
        let only_pair = config(&format!("[workload]\nrate_per_s = 3.0\n{PAIR_AXIS}"));
        let s = Sweep::new(&only_pair, false, Path::new("s.toml")).unwrap();
        assert!(s.points.iter().all(|p| p.config.workload.rate_per_s == 3.0));
        assert_eq!(s.keys, ["workload"]);
    }

    #[test]
    fn a_table_value_is_checked_and_fingerprinted() {
        // Min above max: the key inside the table value is named.
        let c = config(
            "[[sweep.axis]]\nkey = \"workload\"\nvalues = [{ lifetime_min_s = 30.0, lifetime_max_s = 5.0 }]\n",
        );
        let e = Sweep::new(&c, false, Path::new("s.toml")).unwrap_err();
        assert!(e.key.starts_with("workload.lifetime"), "{e}");
        assert!(e.message.contains("sweep.axis[0]"), "{e}");
        let c = config("[[sweep.axis]]\nkey = \"workload\"\nvalues = [{ lifetime = 3.0 }]\n");
        assert!(Sweep::new(&c, false, Path::new("s.toml")).is_err());
        // Another pair is another sweep: stored runs are not reused.
        let a = Sweep::new(&config(PAIR_AXIS), false, Path::new("s.toml")).unwrap();
        let b = Sweep::new(
            &config(&PAIR_AXIS.replace("20.0", "30.0")),
            false,
            Path::new("s.toml"),
        )
        .unwrap();
        assert_ne!(a.fingerprint(), b.fingerprint());
    }
}
