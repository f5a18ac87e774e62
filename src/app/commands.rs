//! The CLI's commands as library functions: `main.rs` parses arguments and
//! calls these.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::output::{OutputError, StreamedVms, summary_table, write_run, write_run_streamed};
use crate::atomic_file::{check_dir, write_files};
use crate::experiments::sweep_output::{sweep_files, sweep_table};
use crate::input::config::{Config, ConfigError, PolicyDef};
use crate::progress::Progress;
use crate::scenario::{PolicyRun, Scenario};
use crate::sim::metrics::VmRecord;

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
    let total = (scenario.workload.request_count() * policies.len()) as u64;
    let progress = progress_bar(total, opts.quiet);
    let runs = if scenario.workload.stream.is_some() {
        let existed = out.exists();
        let runs = run_streamed(&scenario, &progress, &out);
        if runs.is_err() && !existed {
            // Nothing is left of a failed run: the directory made for its
            // rows goes too (it is empty, its partial file removed).
            let _ = std::fs::remove_dir(&out);
        }
        runs?
    } else {
        let runs = scenario.run_all_streaming(&progress, &mut |_, _| {}, &[&INTERRUPTED])?;
        progress.finish_and_clear();
        write_run(&out, &scenario, &runs)?;
        runs
    };
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
            scenario.workload.request_count(),
            config.seed
        );
        print!("{}", summary_table(&runs, &scenario));
        println!("wrote {}", out.display());
    }
    Ok(out)
}

/// Every policy of a streamed scenario (`workload.stream`), its VM rows
/// written to `out/vms.csv` as they complete, then the other files. A row
/// that cannot be written stops the run at once (a long run would
/// otherwise go on for nothing), and so does Ctrl-C.
fn run_streamed(
    scenario: &Scenario,
    progress: &ProgressBar,
    out: &Path,
) -> Result<Vec<PolicyRun>, Error> {
    let mut vms = StreamedVms::create(out)?;
    let failed = AtomicBool::new(false);
    let mut on_vm = |p: &PolicyDef, vm: &VmRecord| {
        if !vms.push(&p.name, vm) {
            failed.store(true, Ordering::Relaxed);
        }
    };
    let runs = scenario.run_all_streaming(progress, &mut on_vm, &[&INTERRUPTED, &failed]);
    progress.finish_and_clear();
    match runs {
        Ok(runs) => {
            write_run_streamed(out, scenario, &runs, vms)?;
            Ok(runs)
        }
        Err(e) => {
            // The write error, if that is what stopped the run.
            vms.finish()?;
            Err(e.into())
        }
    }
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
    /// The metric the SVGs of Figures 5 and 7 plot (their CSVs have both).
    pub metric: crate::experiments::figures::Metric,
}

/// `vmswarm figures`: regenerate the paper's Figures 5-7 as CSV and SVG, and
/// judge the paper's claims on them (`claims.csv`, `claims.md`).
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
    let mut judged = crate::experiments::claims::Inputs::default();
    for (spec, config) in specs.iter().zip(&configs) {
        let t0 = std::time::Instant::now();
        let bar = job_bar(0, opts.quiet);
        bar.set_message(format!("Fig. {}", spec.number));
        let result = with_threads(opts.threads, || {
            spec.run(config, opts.quick, opts.extra, &bar)
        })?;
        bar.finish_and_clear();
        let files = result
            .files(opts.metric)
            .map_err(|e| OutputError::new(&out, e))?;
        write_files(&out, &files)?;
        transfers += result.block_transfers();
        // Keep only what the claims need, not every run of every figure.
        let figure = crate::experiments::claims::Figure::from_result(&result, opts.metric);
        match spec.number {
            5 => judged.fig5 = Some(figure),
            6 => judged.fig6 = Some(figure),
            _ => judged.fig7 = Some(figure),
        }
        if !opts.quiet {
            println!(
                "Fig. {}: {} runs, {} block transfers, {:.1} s",
                spec.number,
                result.results.iter().map(|j| j.runs.len()).sum::<usize>(),
                result.block_transfers(),
                t0.elapsed().as_secs_f64()
            );
            // Fig. 6 is about per-image means; its headline is their mean.
            let metric = match spec.x_key {
                Some(_) => opts.metric.name(),
                None => "mean_image_s",
            };
            print!("{}", sweep_table(&result.sweep, &result.stats, metric));
        }
    }
    write_claims(&out, &judged, opts)?;
    if !opts.quiet {
        println!(
            "all figures: {transfers} block transfers in {:.1} s; wrote {}",
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok(out)
}

/// Judge the paper's claims on the figures that ran and write `claims.csv`
/// and `claims.md` beside the figures (together, all or nothing).
fn write_claims(
    out: &Path,
    inputs: &crate::experiments::claims::Inputs,
    opts: &FiguresOptions,
) -> Result<(), Error> {
    use crate::experiments::claims::{Report, files, judge};
    let claims = judge(inputs);
    let report = Report {
        quick: opts.quick,
        metric: opts.metric,
    };
    let files = files(&claims, &report).map_err(|message| OutputError {
        path: out.to_path_buf(),
        message,
    })?;
    write_files(out, &files)?;
    if !opts.quiet {
        let quick = if opts.quick { " (quick run)" } else { "" };
        println!(
            "the paper's claims{quick}, judged on {}:",
            opts.metric.name()
        );
        for c in &claims {
            println!("  {:<4} {:<12} {}", c.id, c.verdict.name(), c.explanation);
        }
    }
    Ok(())
}

/// Options of `vmswarm regimes`.
#[derive(Debug, Clone, Default)]
pub struct RegimesOptions {
    /// The reduced map of `[sweep.quick]`.
    pub quick: bool,
    /// Worker threads (default: all cores). Results do not depend on it.
    pub threads: Option<usize>,
    /// Output directory (default `out/regimes`, or `out/regimes-quick`).
    pub out: Option<PathBuf>,
    /// Read `regimes.toml` from this directory instead of the bundled one.
    pub config_dir: Option<PathBuf>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// `vmswarm regimes`: the regime map's sweep (resumable, like `sweep`),
/// each cell's winners and each regime's claims; writes `regimes.csv`,
/// `regimes-claims.csv`, `regimes.md` and the heatmaps, all or nothing.
pub fn regimes(opts: &RegimesOptions) -> Result<PathBuf, Error> {
    use crate::experiments::regimes::bundled_config;
    let config = match &opts.config_dir {
        Some(dir) => Config::load(&dir.join("regimes.toml"))?,
        None => bundled_config()?,
    };
    let default_out = if opts.quick {
        "out/regimes-quick"
    } else {
        "out/regimes"
    };
    run_regime_map(&config, opts, default_out, &[]).map(|(out, _)| out)
}

/// Run a regime map's sweep and write its files, with `extra` files from
/// the map and its results written beside them, all or nothing. Returns the
/// output directory and the text `extra` wants printed.
fn run_regime_map(
    config: &Config,
    opts: &RegimesOptions,
    default_out: &str,
    extra: ExtraFiles,
) -> Result<(PathBuf, String), Error> {
    use crate::experiments::regimes::RegimeMap;
    let started = std::time::Instant::now();
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(default_out));
    check_dir(&out)?;
    // Every cell's config is checked here, before anything is written.
    let map = RegimeMap::new(config, opts.quick)?;
    let store = crate::experiments::store::JobStore::open(&out, &map.sweep, opts.quick, config)?;
    let progress = job_bar(map.sweep.jobs().len() as u64, opts.quiet);
    let execution = crate::experiments::sweep::Execution {
        store: Some(&store),
        shard: None,
        stop: Some(&INTERRUPTED),
        stop_after: None,
    };
    let results = with_threads(opts.threads, || map.sweep.execute(&execution, &progress));
    progress.finish_and_clear();
    let results = results?;
    let output_err = |message| OutputError {
        path: out.clone(),
        message,
    };
    let mut printed = String::new();
    let mut more = Vec::new();
    for make in extra {
        let (files, text) = make(&map, &results).map_err(output_err)?;
        more.extend(files);
        printed.push_str(&text);
    }
    let result = map.judge(&results, opts.quick);
    let mut files = result.files().map_err(output_err)?;
    files.extend(more);
    write_files(&out, &files)?;
    if !opts.quiet {
        if printed.is_empty() {
            print!("{}", result.headline());
        } else {
            print!("{printed}");
        }
        let transfers: u64 = results
            .iter()
            .flat_map(|j| &j.runs)
            .map(|r| r.block_transfers)
            .sum();
        println!(
            "{} runs, {transfers} block transfers in {:.1} s; wrote {}",
            results.iter().map(|j| j.runs.len()).sum::<usize>(),
            started.elapsed().as_secs_f64(),
            out.display()
        );
    }
    Ok((out, printed))
}

/// Makers of files written beside a regime map's: from the map and its
/// results, `(files, text to print)`.
type ExtraFiles<'a> = &'a [&'a dyn Fn(
    &crate::experiments::regimes::RegimeMap,
    &[crate::experiments::sweep::JobResult],
) -> Result<(Vec<(String, Vec<u8>)>, String), String>];

/// Options of `vmswarm policies`.
#[derive(Debug, Clone, Default)]
pub struct PoliciesOptions {
    /// The map's options (`config_dir` holds `policies.toml`).
    pub map: RegimesOptions,
    /// The policy judged against the paper's four (default `cross-oldest`).
    pub ours: Option<String>,
}

/// `vmswarm policies`: the regime map with our rule (`configs/policies.toml`),
/// then per cell ours against the best of the paper's four on `mean_vm_s`
/// and `p95_s`, paired, with the verdicts against issue 11's targets.
/// Writes the regime map's files and `policies.md`, `policies.csv`,
/// `policies.svg`, all or nothing.
pub fn policies(opts: &PoliciesOptions) -> Result<PathBuf, Error> {
    use crate::experiments::policies::{
        DEFAULT_OURS, PAPER, Targets, bundled_config, render_verdicts_svg, verdicts, verdicts_csv,
        verdicts_markdown,
    };
    let config = match &opts.map.config_dir {
        Some(dir) => Config::load(&dir.join("policies.toml"))?,
        None => bundled_config()?,
    };
    let ours = opts
        .ours
        .clone()
        .unwrap_or_else(|| DEFAULT_OURS.to_string());
    // Refuse a map that cannot be judged before running any of it.
    if let Some(name) = PAPER
        .iter()
        .copied()
        .chain([ours.as_str()])
        .find(|name| !config.policies.iter().any(|p| p == name))
    {
        return Err(ConfigError {
            file: config.source.clone(),
            key: "policies".into(),
            message: format!(
                "must list the paper's four ({}) and the policy judged; `{name}` is missing",
                PAPER.join(", ")
            ),
        }
        .into());
    }
    let targets = Targets::default();
    let make = |map: &crate::experiments::regimes::RegimeMap,
                results: &[crate::experiments::sweep::JobResult]| {
        let cells = verdicts(map, results, &ours, &targets)?;
        let per_regime = map.popularities.len() * map.rates_per_s.len();
        let text = verdicts_markdown(&cells, &ours, &targets);
        let files = vec![
            (
                "policies.md".to_string(),
                format!("# Policies\n\n{text}").into_bytes(),
            ),
            ("policies.csv".to_string(), verdicts_csv(&cells)?),
            (
                "policies.svg".to_string(),
                render_verdicts_svg(&cells, per_regime, &targets)?.into_bytes(),
            ),
        ];
        Ok((files, text))
    };
    let default_out = if opts.map.quick {
        "out/policies-quick"
    } else {
        "out/policies"
    };
    run_regime_map(&config, &opts.map, default_out, &[&make]).map(|(out, _)| out)
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

/// Options of `vmswarm bench`.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Policies, sizes, time budget.
    pub plan: crate::experiments::bench::PlanOptions,
    /// Output directory (default `out/bench`).
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// `vmswarm bench`: the simulator's speed, one single-threaded run at a
/// time; prints a table as runs finish and writes `bench.csv` into `out`.
pub fn bench(opts: &BenchOptions) -> Result<PathBuf, Error> {
    use crate::experiments::bench::{Machine, Plan, csv, table_header, table_notes, table_row};
    let out = opts
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("out/bench"));
    check_dir(&out)?;
    let plan = Plan::new(&opts.plan)?;
    let start = Machine::now();
    if !opts.quiet {
        println!("machine at start: {}", start.describe());
        print!("{}", table_header());
    }
    let rounds = plan.rounds;
    let mut round_shown = None;
    let rows = plan.run(&INTERRUPTED, &mut |round, row| {
        if !opts.quiet {
            use std::io::Write;
            if round_shown != Some(round) {
                let latency = row.latency.map(|l| l.describe());
                match (rounds, latency) {
                    (1, None) => {}
                    (1, Some(latency)) => println!("memory: {latency}"),
                    (_, None) => println!("round {} of {rounds}:", round + 1),
                    (_, Some(latency)) => println!("round {} of {rounds}: {latency}", round + 1),
                }
                round_shown = Some(round);
            }
            print!("{}", table_row(row));
            // Runs take long: show each row as it comes, even through a pipe.
            let _ = std::io::stdout().flush();
        }
    })?;
    if !opts.quiet && rounds > 1 {
        println!("fastest of {rounds} rounds (the smallest peak_MB):");
        print!(
            "{}{}",
            table_header(),
            rows.iter().map(table_row).collect::<String>()
        );
    }
    let bytes = csv(&rows, &start).map_err(|message| OutputError {
        path: out.clone(),
        message,
    })?;
    write_files(&out, &[("bench.csv".into(), bytes)])?;
    if !opts.quiet {
        print!("{}", table_notes(&rows));
        println!("machine at end: {}", Machine::now().describe());
        println!("wrote {}", out.join("bench.csv").display());
    }
    Ok(out)
}

/// Options of `vmswarm import oci`.
#[derive(Debug, Clone)]
pub struct ImportOciOptions {
    /// Image manifests (JSON), one image each, image 1 first.
    pub manifests: Vec<PathBuf>,
    /// The content file to write.
    pub out: PathBuf,
    /// Block size (Mb).
    pub block_mb: f64,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// `vmswarm import oci`: turn container image manifests into a `manifest`
/// content file (see [`crate::input::oci`]), written under a temporary name
/// and renamed, so a failure leaves no file behind. Returns its path.
pub fn import_oci(opts: &ImportOciOptions) -> Result<PathBuf, Error> {
    let bad_out = |message: &str| OutputError {
        path: opts.out.clone(),
        message: message.into(),
    };
    let name = match opts.out.file_name() {
        Some(name) if !opts.out.is_dir() => name.to_string_lossy().into_owned(),
        _ => return Err(bad_out("is a directory; --out takes the file to write").into()),
    };
    let dir = match opts.out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    check_dir(dir)?;
    let import = crate::input::oci::import(&opts.manifests, opts.block_mb)?;
    write_files(dir, &[(name, import.toml.into_bytes())])?;
    if !opts.quiet {
        for note in &import.notes {
            eprintln!("note: {note}");
        }
        println!(
            "{} images, {} chunks ({} shared by several images), {:.1} MB of distinct layers \
             ({:.1} MB image by image), blocks of {} Mb; wrote {}",
            import.images,
            import.chunks,
            import.shared_chunks,
            import.unique_bytes as f64 / 1e6,
            import.total_bytes as f64 / 1e6,
            opts.block_mb,
            opts.out.display()
        );
    }
    Ok(opts.out.clone())
}
