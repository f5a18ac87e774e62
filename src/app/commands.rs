//! The CLI's commands as library functions: `main.rs` parses arguments and
//! calls these.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::output::{OutputError, summary_table, write_run};
use crate::atomic_file::{check_dir, write_files};
use crate::experiments::sweep_output::{sweep_files, sweep_table};
use crate::input::config::{Config, ConfigError};
use crate::progress::Progress;
use crate::scenario::Scenario;

pub use crate::app::error::Error;

/// Options of `vmswarm run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The experiment config.
    pub config: PathBuf,
    /// Command-line changes to the config.
    pub overrides: Overrides,
    /// Output directory (default `out/<config name>`).
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// What the command line may change in a config.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Policies to run instead of the config's list.
    pub policies: Vec<String>,
    /// Seed to use instead of the config's.
    pub seed: Option<u64>,
    /// `limits.max_events`.
    pub max_events: Option<u64>,
    /// `limits.max_sim_time_s`.
    pub max_sim_time_s: Option<f64>,
}

/// Load a config and apply the command line's overrides; the result is
/// validated again.
pub fn load_config(path: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
    let mut config = Config::load(path)?;
    if !overrides.policies.is_empty() {
        config.set_policies(overrides.policies.clone(), path)?;
    }
    if let Some(seed) = overrides.seed {
        if seed > i64::MAX as u64 {
            return Err(ConfigError {
                file: path.to_path_buf(),
                key: String::new(),
                message: format!(
                    "--seed {seed}: must be at most {} (TOML's integer range, so that outputs can record it)",
                    i64::MAX
                ),
            });
        }
        config.seed = seed;
    }
    if overrides.max_events.is_some() {
        config.limits.max_events = overrides.max_events;
    }
    if overrides.max_sim_time_s.is_some() {
        config.limits.max_sim_time_s = overrides.max_sim_time_s;
    }
    config.validate(path)?;
    Ok(config)
}

/// `vmswarm run`: every policy on one scenario; writes the run's files and
/// prints a summary table. Returns the output directory.
pub fn run(opts: &RunOptions) -> Result<PathBuf, Error> {
    let config = load_config(&opts.config, &opts.overrides)?;
    let scenario = Scenario::build(&config)?;
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&opts.config, ""));
    check_dir(&out)?;
    let policies = config.resolved_policies();
    let total = (scenario.workload.requests.len() * policies.len()) as u64;
    let progress = progress_bar(total, opts.quiet);
    let runs = scenario.run_all(&progress)?;
    progress.finish_and_clear();
    write_run(&out, &scenario, &runs)?;
    if !opts.quiet {
        let r = scenario.content_report();
        println!(
            "{}: {} images, {} unique chunks, pairwise common {:.3} (min {:.3}, max {:.3}), {} VM requests, seed {}",
            config.name,
            scenario.content.images.len(),
            r.unique_chunks,
            r.pairwise_common_mean,
            r.pairwise_common_min,
            r.pairwise_common_max,
            scenario.workload.requests.len(),
            config.seed
        );
        print!("{}", summary_table(&runs));
        println!("wrote {}", out.display());
    }
    Ok(out)
}

/// The library reports progress; a bar shows it.
impl Progress for ProgressBar {
    fn set_total(&self, total: u64) {
        self.set_length(total);
    }

    fn stage(&self, name: &str) {
        self.set_message(name.to_string());
    }

    fn advance(&self, n: u64) {
        self.inc(n);
    }
}

/// A bar counting completed VMs; hidden when stderr is not a terminal.
pub fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:>16} [{bar:40}] {pos}/{len} VMs ({eta})")
            .expect("template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// Options of `vmswarm sweep`.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The experiment config, with a `[sweep]` table.
    pub config: PathBuf,
    /// Run the reduced sweep of `[sweep.quick]`.
    pub quick: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    pub threads: Option<usize>,
    /// Output directory (default `out/<config file stem>-sweep`).
    pub out: Option<PathBuf>,
    /// Command-line changes to the config.
    pub overrides: Overrides,
    /// Print nothing but errors.
    pub quiet: bool,
    /// Run only this shard of the jobs (cluster array jobs).
    pub shard: Option<crate::experiments::sweep::Shard>,
    /// Stop after this many jobs, as Ctrl-C would (to test resuming).
    pub stop_after: Option<usize>,
}

/// Raised by Ctrl-C (the CLI installs the handler). The application hands
/// it to sweeps as their stop flag: they stop starting new jobs and report
/// what they kept.
pub static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Run `f` on a rayon pool of `threads` workers (all cores when `None`).
pub fn with_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> T {
    match threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .expect("a thread pool can be built")
            .install(f),
        None => f(),
    }
}

/// `vmswarm sweep`: the config's grid x policies x replications, in
/// parallel; writes `runs.csv`, `sweep.csv` and `manifest.toml`.
pub fn sweep(opts: &SweepOptions) -> Result<PathBuf, Error> {
    let started = std::time::Instant::now();
    let config = load_config(&opts.config, &opts.overrides)?;
    let sweep = crate::experiments::sweep::Sweep::new(&config, opts.quick, &opts.config)?;
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&opts.config, "-sweep"));
    check_dir(&out)?;
    let store = crate::experiments::store::JobStore::open(&out, &sweep, opts.quick, &config)?;
    let progress = job_bar(sweep.jobs().len() as u64, opts.quiet);
    let execution = crate::experiments::sweep::Execution {
        store: Some(&store),
        shard: opts.shard,
        stop: Some(&INTERRUPTED),
        stop_after: opts.stop_after,
    };
    let results = with_threads(opts.threads, || sweep.execute(&execution, &progress));
    progress.finish_and_clear();
    let results = results?;
    if let Some(shard) = opts.shard {
        if !opts.quiet {
            println!(
                "shard {}/{}: {} runs stored in {}; when every shard is done, join them with `vmswarm merge DIR...`",
                shard.index,
                shard.count,
                results.len(),
                store.dir().display()
            );
        }
        return Ok(out);
    }
    let stats = write_sweep(&out, &sweep, &results)?;
    if !opts.quiet {
        print!("{}", sweep_table(&sweep, &stats, "mean_image_s"));
        let transfers: u64 = results
            .iter()
            .flat_map(|j| &j.runs)
            .map(|r| r.block_transfers)
            .sum();
        println!(
            "{} runs, {} block transfers in {:.1} s; wrote {}",
            results.iter().map(|j| j.runs.len()).sum::<usize>(),
            transfers,
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(out)
}

/// Summarise a sweep's results and write `runs.csv`, `sweep.csv` and
/// `manifest.toml` into `out`; returns the summary.
fn write_sweep(
    out: &Path,
    sweep: &crate::experiments::sweep::Sweep,
    results: &[crate::experiments::sweep::JobResult],
) -> Result<Vec<crate::experiments::sweep::PointStat>, Error> {
    let stats = crate::experiments::sweep::summarize(sweep, results);
    let files = sweep_files(sweep, results, &stats).map_err(|e| OutputError::new(out, e))?;
    write_files(out, &files)?;
    Ok(stats)
}

/// `vmswarm merge DIR...`: join the stored runs of a sweep's shards (or of
/// interrupted runs) into the files the unsharded sweep writes, in `out`
/// (default: the first directory).
pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>, quiet: bool) -> Result<PathBuf, Error> {
    let (sweep, stores) = crate::experiments::store::open_for_merge(dirs)?;
    let results = crate::experiments::store::collect(&sweep, &stores)?;
    let out = out.unwrap_or_else(|| dirs[0].clone());
    check_dir(&out)?;
    write_sweep(&out, &sweep, &results)?;
    if !quiet {
        println!(
            "merged {} runs from {} stores; wrote {}",
            results.len(),
            stores.len(),
            out.display()
        );
    }
    Ok(out)
}

fn default_out(config: &Path, suffix: &str) -> PathBuf {
    let stem = config
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "run".into());
    PathBuf::from("out").join(format!("{stem}{suffix}"))
}

/// A bar counting finished jobs with an ETA; hidden when stderr is not a terminal.
pub fn job_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("[{elapsed_precise}] [{bar:40}] {pos}/{len} runs (ETA {eta})")
            .expect("template is valid")
            .progress_chars("=> "),
    );
    bar
}

/// Options of `vmswarm figures`.
#[derive(Debug, Clone)]
pub struct FiguresOptions {
    /// Figures to make (5, 6, 7); empty means all.
    pub figures: Vec<u8>,
    /// The reduced versions.
    pub quick: bool,
    /// Add `cross-opt-exact` as an extra series.
    pub extra: bool,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Output directory (default `out/figures`, or `out/figures-quick`).
    pub out: Option<PathBuf>,
    /// Read `fig5.toml`, `fig6.toml`, `fig7.toml` from this directory
    /// instead of the configs bundled in the binary.
    pub config_dir: Option<PathBuf>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// `vmswarm figures`: regenerate the paper's Figures 5-7 as CSV and SVG.
pub fn figures(opts: &FiguresOptions) -> Result<PathBuf, Error> {
    let started = std::time::Instant::now();
    let out = opts.out.clone().unwrap_or_else(|| {
        PathBuf::from(if opts.quick {
            "out/figures-quick"
        } else {
            "out/figures"
        })
    });
    check_dir(&out)?;
    let specs: Vec<crate::experiments::figures::FigureSpec> = crate::experiments::figures::FIGURES
        .iter()
        .filter(|f| opts.figures.is_empty() || opts.figures.contains(&f.number))
        .copied()
        .collect();
    // Load and check every figure's config before running any.
    let configs = specs
        .iter()
        .map(|spec| {
            let config = match &opts.config_dir {
                Some(dir) => Config::load(&dir.join(format!("fig{}.toml", spec.number)))?,
                None => spec.config()?,
            };
            spec.sweep(&config, opts.quick, opts.extra)?;
            Ok(config)
        })
        .collect::<Result<Vec<_>, ConfigError>>()?;
    let mut transfers = 0;
    for (spec, config) in specs.iter().zip(&configs) {
        let t0 = std::time::Instant::now();
        let bar = job_bar(0, opts.quiet);
        bar.set_message(format!("Fig. {}", spec.number));
        let result = with_threads(opts.threads, || {
            spec.run(config, opts.quick, opts.extra, &bar)
        })?;
        bar.finish_and_clear();
        let files = result.files().map_err(|e| OutputError::new(&out, e))?;
        write_files(&out, &files)?;
        transfers += result.block_transfers();
        if !opts.quiet {
            println!(
                "Fig. {}: {} runs, {} block transfers, {:.1} s",
                spec.number,
                result.results.iter().map(|j| j.runs.len()).sum::<usize>(),
                result.block_transfers(),
                t0.elapsed().as_secs_f64()
            );
            print!(
                "{}",
                sweep_table(
                    &result.sweep,
                    &result.stats,
                    crate::experiments::figures::METRIC
                )
            );
        }
    }
    if !opts.quiet {
        println!(
            "all figures: {transfers} block transfers in {:.1} s; wrote {}",
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(out)
}

/// Options of `vmswarm validate`.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The reduced run.
    pub quick: bool,
    /// Seeds per scenario instead of the default.
    pub seeds: Option<usize>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// Output directory (default `out/validation`).
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// `vmswarm validate`: the simulator against the analytic model; writes
/// `validation.md` and `validation.csv`. Returns the checks.
pub fn validate(opts: &ValidateOptions) -> Result<Vec<crate::theory::validation::Check>, Error> {
    use crate::theory::validation::{Settings, Tolerances, checks_csv, report};
    let started = std::time::Instant::now();
    let mut settings = if opts.quick {
        Settings::quick()
    } else {
        Settings::full()
    };
    if let Some(n) = opts.seeds {
        settings.seeds = n.max(2);
    }
    let tol = Tolerances::default();
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out/validation"));
    check_dir(&out)?;
    let checks = with_threads(opts.threads, || {
        crate::theory::validation::validate(&settings, &tol)
    })?;
    let text = report(&checks, &settings, &tol);
    write_files(
        &out,
        &[
            ("validation.md".into(), text.clone().into_bytes()),
            ("validation.csv".into(), checks_csv(&checks)),
        ],
    )?;
    if !opts.quiet {
        print!("{text}");
        println!(
            "\n{:.1} s; wrote {}",
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(checks)
}

/// `vmswarm analyze CONFIG`: Figures 3-4 and the fluid transient from the
/// analytic model, as CSV and SVG, into `out` (default `out/analysis`).
pub fn analyze(config: &Path, out: Option<PathBuf>, quiet: bool) -> Result<PathBuf, Error> {
    let c = crate::theory::analysis::AnalyticConfig::load(config)?;
    let out = out.unwrap_or_else(|| PathBuf::from("out/analysis"));
    check_dir(&out)?;
    let files = crate::theory::analysis::files(&c).map_err(|e| OutputError::new(&out, e))?;
    write_files(&out, &files)?;
    if !quiet {
        for (name, _) in &files {
            println!("wrote {}", out.join(name).display());
        }
    }
    Ok(out)
}

/// `vmswarm compare CONFIG`: every policy of the config (all five presets
/// unless it lists others) under Zipf and uniform popularity; prints a table
/// and writes `compare.csv` into `out` (default `out/<stem>-compare`).
pub fn compare(opts: &SweepOptions) -> Result<PathBuf, Error> {
    let config = load_config(&opts.config, &opts.overrides)?;
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| default_out(&opts.config, "-compare"));
    check_dir(&out)?;
    let progress = job_bar(0, opts.quiet);
    let (sweep, rows) = with_threads(opts.threads, || {
        crate::experiments::compare::run(&config, &opts.config, &progress)
    })?;
    progress.finish_and_clear();
    write_files(
        &out,
        &[(
            "compare.csv".into(),
            crate::experiments::compare::csv(&rows),
        )],
    )?;
    if !opts.quiet {
        print!(
            "{}",
            crate::experiments::compare::table(&rows, sweep.replications)
        );
        println!("wrote {}", out.join("compare.csv").display());
    }
    Ok(out)
}
