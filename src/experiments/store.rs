//! Where a sweep keeps its finished jobs, so that an interrupted sweep
//! resumes where it stopped and cluster shards can be merged.
//!
//! The store of a sweep is `OUT/.jobs/<fingerprint>/`: `sweep.toml` (the
//! config and options the sweep was expanded from) and one `p<point>-r<rep>.toml`
//! per finished job. Each file is written under a temporary name and renamed,
//! so a kill leaves either the whole job or nothing. The fingerprint changes
//! with anything that changes results, so a changed config never reuses old
//! jobs.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::atomic_file::{WriteError, write_file};
use crate::experiments::sweep::{JobResult, Sweep};
use crate::input::config::{Config, ConfigError};

/// Why a store could not be written, read or merged.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    /// A file of the store could not be written.
    Write(WriteError),
    /// A stored sweep is missing, unreadable, of another sweep or
    /// incomplete, or its config is no longer valid; the error names the
    /// file or directory.
    Config(ConfigError),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Write(e) => write!(f, "{e}"),
            StoreError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<WriteError> for StoreError {
    fn from(e: WriteError) -> Self {
        StoreError::Write(e)
    }
}

impl From<ConfigError> for StoreError {
    fn from(e: ConfigError) -> Self {
        StoreError::Config(e)
    }
}

/// What a sweep was expanded from: enough to expand it again for a merge.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SweepDefinition {
    /// The crate version that ran it.
    pub vmswarm_version: String,
    /// Whether `--quick` was given.
    pub quick: bool,
    /// The config, with command-line overrides applied.
    pub config: Config,
}

/// A sweep's job store.
#[derive(Debug, Clone)]
pub struct JobStore {
    dir: PathBuf,
}

impl JobStore {
    /// Open (creating it if needed) the store of `sweep` under `out`.
    pub fn open(
        out: &Path,
        sweep: &Sweep,
        quick: bool,
        base: &Config,
    ) -> Result<JobStore, StoreError> {
        let dir = out.join(".jobs").join(sweep.fingerprint());
        fs::create_dir_all(&dir).map_err(|e| WriteError::new(&dir, e))?;
        let def = dir.join("sweep.toml");
        if !def.exists() {
            let text = toml::to_string_pretty(&SweepDefinition {
                vmswarm_version: env!("CARGO_PKG_VERSION").into(),
                quick,
                config: base.clone(),
            })
            .map_err(|e| WriteError::new(&def, e))?;
            write_file(&def, text.as_bytes())?;
        }
        Ok(JobStore { dir })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn job_path(&self, point: usize, replication: usize) -> PathBuf {
        self.dir.join(format!("p{point}-r{replication}.toml"))
    }

    /// A finished job, if stored and readable (an unreadable file is run again).
    pub fn load(&self, sweep: &Sweep, point: usize, replication: usize) -> Option<JobResult> {
        let text = fs::read_to_string(self.job_path(point, replication)).ok()?;
        let job: JobResult = toml::from_str(&text).ok()?;
        let policies = &sweep.points[point].config.policies;
        let complete = job.point == point
            && job.replication == replication
            && job.runs.len() == policies.len()
            && job.runs.iter().zip(policies).all(|(r, p)| &r.policy == p);
        complete.then_some(job)
    }

    /// Store a finished job.
    pub fn save(&self, job: &JobResult) -> Result<(), StoreError> {
        let path = self.job_path(job.point, job.replication);
        let text = toml::to_string(job).map_err(|e| WriteError::new(&path, e))?;
        Ok(write_file(&path, text.as_bytes())?)
    }
}

/// The stores found under sweep output directories, checked to belong to
/// one sweep: its expanded sweep and every store.
pub fn open_for_merge(dirs: &[PathBuf]) -> Result<(Sweep, Vec<JobStore>), StoreError> {
    let mut stores = Vec::new();
    for dir in dirs {
        let jobs = dir.join(".jobs");
        let entries = fs::read_dir(&jobs).map_err(|e| ConfigError {
            file: jobs.clone(),
            key: String::new(),
            message: format!("not a sweep output directory (no stored runs): {e}"),
        })?;
        for entry in entries.flatten() {
            if entry.path().join("sweep.toml").exists() {
                stores.push(JobStore { dir: entry.path() });
            }
        }
    }
    let first = stores.first().ok_or_else(|| ConfigError {
        file: dirs.first().cloned().unwrap_or_default(),
        key: String::new(),
        message: "no stored sweep found".into(),
    })?;
    let def_path = first.dir.join("sweep.toml");
    let text = fs::read_to_string(&def_path).map_err(|e| ConfigError {
        file: def_path.clone(),
        key: String::new(),
        message: format!("cannot read: {e}"),
    })?;
    let def: SweepDefinition = toml::from_str(&text).map_err(|e| ConfigError {
        file: def_path.clone(),
        key: String::new(),
        message: e.message().trim().to_string(),
    })?;
    let mut config = def.config;
    config.source = def_path.clone();
    config.validate(&def_path)?;
    let sweep = Sweep::new(&config, def.quick, &def_path)?;
    let fingerprint = sweep.fingerprint();
    for s in &stores {
        let name = s.dir.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.as_deref() != Some(fingerprint.as_str()) {
            return Err(ConfigError {
                file: s.dir.clone(),
                key: String::new(),
                message: format!(
                    "belongs to another sweep than {} (fingerprint {fingerprint}): merge only shards of one sweep",
                    first.dir.display()
                ),
            }
            .into());
        }
    }
    Ok((sweep, stores))
}

/// Every job of `sweep` from `stores`, in job order; an error lists what is missing.
pub fn collect(sweep: &Sweep, stores: &[JobStore]) -> Result<Vec<JobResult>, StoreError> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for (p, r) in sweep.jobs() {
        match stores.iter().find_map(|s| s.load(sweep, p, r)) {
            Some(job) => out.push(job),
            None => missing.push(format!("point {p} replication {r}")),
        }
    }
    if !missing.is_empty() {
        return Err(ConfigError {
            file: stores[0].dir.clone(),
            key: String::new(),
            message: format!(
                "{} of {} runs are missing (a shard not run or not finished?): {}{}",
                missing.len(),
                sweep.jobs().len(),
                missing
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() > 5 { ", ..." } else { "" }
            ),
        }
        .into());
    }
    Ok(out)
}
