//! The `vmswarm` command line: parses arguments and calls the library.

#![warn(clippy::too_many_lines)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::{Args, Parser, Subcommand};

use vmswarm::app::commands::{
    self, FiguresOptions, INTERRUPTED, Overrides, PoliciesOptions, RegimesOptions, RunOptions,
    SweepOptions, ValidateOptions,
};
use vmswarm::app::error::Error;
use vmswarm::experiments::figures::Metric;
use vmswarm::experiments::sweep::Shard;

#[derive(Parser)]
#[command(
    name = "vmswarm",
    version,
    about = "Simulate P2P VM image distribution in a data center"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The options of `vmswarm bench`.
#[derive(Args)]
struct BenchArgs {
    /// Only the paper's default (at 2 and 5 requests/s) and the flash crowd
    /// at 1k and 10k hosts.
    #[arg(long)]
    quick: bool,
    /// Flash crowd sizes in hosts (10% seeders), run smallest first
    /// [default: 1000,10000,100000, or 1000,10000 with --quick].
    #[arg(long, value_name = "N,N,...", value_delimiter = ',')]
    hosts: Vec<u64>,
    /// Policy to run instead of the configs' (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Time budget of one flash crowd run (s); a run past it is stopped
    /// (by an event limit estimated from the smaller sizes) and the
    /// bigger sizes are skipped. `inf` for none.
    #[arg(
        long,
        value_name = "S",
        default_value_t = vmswarm::experiments::bench::DEFAULT_MAX_WALL_S,
        allow_negative_numbers = true
    )]
    max_wall_s: f64,
    /// Run everything N times in turn and report each row's fastest
    /// round (and its smallest peak memory): the machine's speed drifts.
    #[arg(long, value_name = "N", default_value_t = 1)]
    rounds: usize,
    /// A paper default of 30 s of arrivals, for tests.
    #[arg(long, hide = true)]
    tiny: bool,
    /// Skip the memory latency probe before each round (dependent loads
    /// through 256 KiB, 8 MiB and 64 MiB; about a second a round).
    #[arg(long)]
    no_memory_probe: bool,
    /// Output directory [default: out/bench].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// Changes to the config from the command line.
#[derive(Args)]
struct ConfigArgs {
    /// Policy to run instead of the config's list (repeatable).
    #[arg(long = "policy", value_name = "NAME")]
    policies: Vec<String>,
    /// Seed (base seed of a sweep) instead of the config's.
    #[arg(long)]
    seed: Option<u64>,
    /// Stop a run that processes more events than this (limits.max_events).
    #[arg(long, value_name = "N")]
    max_events: Option<u64>,
    /// Stop a run whose simulated time passes this, in s (limits.max_sim_time_s).
    #[arg(long, value_name = "S")]
    max_sim_time: Option<f64>,
}

impl ConfigArgs {
    fn overrides(self) -> Overrides {
        Overrides {
            policies: self.policies,
            seed: self.seed,
            max_events: self.max_events,
            max_sim_time_s: self.max_sim_time,
        }
    }
}

/// Where results go, how many threads, how chatty.
#[derive(Args)]
struct OutputArgs {
    /// Output directory [default: under out/, named for the command].
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads [default: all cores]; results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

/// What `vmswarm import` reads.
#[derive(Subcommand)]
enum ImportCommand {
    /// Container image manifests (OCI image manifest, Docker v2 schema 2),
    /// one image per file, into a `manifest` content file: one chunk per
    /// layer digest, so shared layers are shared chunks.
    Oci {
        /// Image manifests (JSON), one per image; image 1 (the most popular
        /// under Zipf) first. Each image is named after its file's stem.
        #[arg(required = true, value_name = "MANIFEST.json")]
        manifests: Vec<PathBuf>,
        /// The content file to write (TOML).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Block size in Mb (10^6 bits; 4 Mb = 500,000 bytes); a layer is
        /// its size over this, rounded up, and at least one block.
        #[arg(long, value_name = "MB", default_value_t = vmswarm::input::oci::DEFAULT_BLOCK_MB)]
        block_mb: f64,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
}

#[derive(Subcommand)]
enum Command {
    /// Run every policy of a TOML experiment config on one workload.
    Run {
        /// The experiment config (TOML).
        config: PathBuf,
        #[command(flatten)]
        config_args: ConfigArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run a config's `[sweep]` grid x policies x replications in parallel;
    /// finished runs are kept, so a stopped sweep resumes where it stopped.
    Sweep {
        /// The experiment config (TOML) with a `[sweep]` table.
        config: PathBuf,
        /// Run the reduced grid of `[sweep.quick]`.
        #[arg(long)]
        quick: bool,
        /// Run only shard i of n (0 <= i < n), for cluster array jobs; join
        /// the shards with `vmswarm merge`.
        #[arg(long, value_name = "i/n")]
        shard: Option<Shard>,
        /// Stop after this many runs, as Ctrl-C would (for testing resume).
        #[arg(long, hide = true)]
        stop_after: Option<usize>,
        #[command(flatten)]
        config_args: ConfigArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Join the stored runs of a sweep's shards into the files the unsharded
    /// sweep writes.
    Merge {
        /// The shards' output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory [default: the first DIR].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Import content from other formats: `vmswarm import oci MANIFEST.json...`.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Every policy under Zipf and uniform popularity: means, CIs, paired
    /// differences to the best.
    Compare {
        /// The experiment config (TOML); `[sweep] replications` sets the seeds.
        config: PathBuf,
        #[command(flatten)]
        config_args: ConfigArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Figures 3-4 and the fluid transient from the analytic model (CSV, SVG).
    Analyze {
        /// The analytic parameters (TOML).
        #[arg(default_value = "configs/analytic.toml")]
        config: PathBuf,
        /// Output directory [default: out/analysis].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Check the simulator against the analytic model; writes a report.
    Validate {
        /// A reduced run (fewer seeds, shorter windows).
        #[arg(long)]
        quick: bool,
        /// Seeds per scenario [default: 8, or 3 with --quick].
        #[arg(long)]
        seeds: Option<usize>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The simulator's speed: every preset on the paper's default (at 2 and
    /// at 5 requests/s) and the flash crowd (configs/flash-crowd.toml) at 1k,
    /// 10k and 100k hosts, one single-threaded run each (or N rounds of
    /// them, --rounds); prints blocks/s and writes bench.csv.
    Bench(BenchArgs),
    /// Regenerate the paper's Figures 5-7 (Zipf and uniform) as CSV and SVG.
    Figures {
        /// Which figure: 5, 6, 7 or all.
        #[arg(long, default_value = "all", value_parser = ["5", "6", "7", "all"])]
        fig: String,
        /// Reduced versions that finish in well under a minute.
        #[arg(long)]
        quick: bool,
        /// Add cross-opt-exact as an extra series.
        #[arg(long)]
        extra: bool,
        /// What Figures 5 and 7 plot: mean_vm_s (mean over VM downloads) or
        /// mean_image_s (mean of per-image means); their CSVs have both.
        // Checked in `dispatch`, not by clap, so that a bad value gets one
        // line naming the option and the allowed values (clap's takes three).
        #[arg(long, default_value = "mean_vm_s", value_name = "METRIC")]
        metric: String,
        /// Read fig5.toml, fig6.toml, fig7.toml from this directory instead
        /// of the bundled configs.
        #[arg(long, value_name = "DIR")]
        configs: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The regime map: each policy's standing in every cell (seeding
    /// lifetime x u_c x request rate x popularity) and the paper's claims
    /// judged per regime (CSV, Markdown, SVG heatmaps).
    Regimes {
        /// Reduced version (fewer rates, short windows, 2 replications).
        #[arg(long)]
        quick: bool,
        /// Read regimes.toml from this directory instead of the bundled config.
        #[arg(long, value_name = "DIR")]
        configs: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Our rule against the paper's four on the regime map: per cell the
    /// paired difference to the best of the four on mean_vm_s and p95_s,
    /// and the verdicts against issue 11's targets (policies.md, .csv,
    /// .svg, beside the regime map's files).
    Policies {
        /// The reduced grid (3 rates instead of 5, full windows, 5
        /// replications): the one docs/policies.md reports.
        #[arg(long)]
        quick: bool,
        /// Read policies.toml from this directory instead of the bundled config.
        #[arg(long, value_name = "DIR")]
        configs: Option<PathBuf>,
        /// The policy judged (default cross-oldest); the map must run it.
        #[arg(long, value_name = "NAME")]
        ours: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
}

fn sweep_options(config: PathBuf, config_args: ConfigArgs, output: OutputArgs) -> SweepOptions {
    SweepOptions {
        config,
        quick: false,
        threads: output.threads,
        out: output.out,
        overrides: config_args.overrides(),
        quiet: output.quiet,
        shard: None,
        stop_after: None,
    }
}

/// Why a command did not succeed.
enum Failure {
    /// A command-line value that clap accepts but the command cannot use.
    Usage(String),
    /// The command's own error.
    Command(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Command(e)
    }
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run {
            config,
            config_args,
            output,
        } => commands::run(&RunOptions {
            config,
            overrides: config_args.overrides(),
            out: output.out,
            quiet: output.quiet,
        })
        .map(drop)?,
        Command::Sweep {
            config,
            quick,
            shard,
            stop_after,
            config_args,
            output,
        } => commands::sweep(&SweepOptions {
            quick,
            shard,
            stop_after,
            ..sweep_options(config, config_args, output)
        })
        .map(drop)?,
        Command::Merge { dirs, out, quiet } => commands::merge(&dirs, out, quiet).map(drop)?,
        Command::Import(import) => import_images(import)?,
        Command::Compare {
            config,
            config_args,
            output,
        } => commands::compare(&sweep_options(config, config_args, output)).map(drop)?,
        Command::Analyze { config, out, quiet } => {
            commands::analyze(&config, out, quiet).map(drop)?
        }
        Command::Validate {
            quick,
            seeds,
            output,
        } => validate(quick, seeds, output)?,
        Command::Bench(args) => bench(args)?,
        Command::Figures {
            fig,
            quick,
            extra,
            metric,
            configs,
            output,
        } => figures(fig, quick, extra, metric, configs, output)?,
        Command::Regimes {
            quick,
            configs,
            output,
        } => commands::regimes(&regimes_options(quick, configs, output)).map(drop)?,
        Command::Policies {
            quick,
            configs,
            ours,
            output,
        } => commands::policies(&PoliciesOptions {
            map: regimes_options(quick, configs, output),
            ours,
        })
        .map(drop)?,
    }
    Ok(())
}

/// `vmswarm validate`.
fn validate(quick: bool, seeds: Option<usize>, output: OutputArgs) -> Result<(), Failure> {
    commands::validate(&ValidateOptions {
        quick,
        seeds,
        threads: output.threads,
        out: output.out,
        quiet: output.quiet,
    })?;
    Ok(())
}

/// The options of a regime map (`regimes`, `policies`).
fn regimes_options(quick: bool, configs: Option<PathBuf>, output: OutputArgs) -> RegimesOptions {
    RegimesOptions {
        quick,
        threads: output.threads,
        out: output.out,
        config_dir: configs,
        quiet: output.quiet,
    }
}

/// `vmswarm import`.
fn import_images(import: ImportCommand) -> Result<(), Failure> {
    let ImportCommand::Oci {
        manifests,
        out,
        block_mb,
        quiet,
    } = import;
    commands::import_oci(&commands::ImportOciOptions {
        manifests,
        out,
        block_mb,
        quiet,
    })?;
    Ok(())
}

/// `vmswarm bench`: the options as the command line gave them, with the
/// default sizes (or `--quick`'s) when it named none.
fn bench(args: BenchArgs) -> Result<(), Failure> {
    use vmswarm::experiments::bench::{DEFAULT_HOSTS, PlanOptions, QUICK_HOSTS};
    let hosts = match (args.hosts.is_empty(), args.quick) {
        (false, _) => args.hosts,
        (true, true) => QUICK_HOSTS.to_vec(),
        (true, false) => DEFAULT_HOSTS.to_vec(),
    };
    let plan = PlanOptions {
        policies: args.policies,
        hosts,
        max_wall_s: args.max_wall_s,
        tiny: args.tiny,
        rounds: args.rounds,
        probe_memory: !args.no_memory_probe,
    };
    commands::bench(&commands::BenchOptions {
        plan,
        out: args.out,
        quiet: args.quiet,
    })?;
    Ok(())
}

/// `vmswarm figures`: `--metric` is checked here, with a one-line error.
fn figures(
    fig: String,
    quick: bool,
    extra: bool,
    metric: String,
    configs: Option<PathBuf>,
    output: OutputArgs,
) -> Result<(), Failure> {
    let metric: Metric = metric
        .parse()
        .map_err(|e| Failure::Usage(format!("--metric: {e}")))?;
    commands::figures(&FiguresOptions {
        figures: fig.parse::<u8>().map(|n| vec![n]).unwrap_or_default(),
        quick,
        extra,
        threads: output.threads,
        out: output.out,
        config_dir: configs,
        quiet: output.quiet,
        metric,
    })?;
    Ok(())
}

/// Huge pages for large allocations (see `vmswarm::huge_pages`).
#[global_allocator]
static ALLOCATOR: vmswarm::huge_pages::HugePageAlloc = vmswarm::huge_pages::HugePageAlloc;

fn main() -> ExitCode {
    vmswarm::huge_pages::set_enabled(
        std::env::var_os("VMSWARM_HUGE_PAGES").is_none_or(|v| v != "0"),
    );
    let cli = Cli::parse();
    // Ctrl-C: sweeps stop starting runs, keep what finished, and say so.
    // A second Ctrl-C stops at once.
    let _ = ctrlc::set_handler(|| {
        if INTERRUPTED.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!("stopping: finishing the runs in progress (Ctrl-C again to stop now)");
    });
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        // Exit code 2, as clap gives for the command line's other bad values.
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Command(e)) => {
            eprintln!("error: {e}");
            if e.is_interrupted() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
