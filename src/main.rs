//! The `vmswarm` command line: parses arguments and calls the library.

#![warn(clippy::too_many_lines)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;

use clap::{Args, Parser, Subcommand};

use vmswarm::app::commands::{
    self, FiguresOptions, INTERRUPTED, Overrides, RunOptions, SweepOptions, ValidateOptions,
};
use vmswarm::app::error::Error;
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
        /// Read fig5.toml, fig6.toml, fig7.toml from this directory instead
        /// of the bundled configs.
        #[arg(long, value_name = "DIR")]
        configs: Option<PathBuf>,
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

fn dispatch(command: Command) -> Result<(), Error> {
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
        .map(drop),
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
        .map(drop),
        Command::Merge { dirs, out, quiet } => commands::merge(&dirs, out, quiet).map(drop),
        Command::Compare {
            config,
            config_args,
            output,
        } => commands::compare(&sweep_options(config, config_args, output)).map(drop),
        Command::Analyze { config, out, quiet } => commands::analyze(&config, out, quiet).map(drop),
        Command::Validate {
            quick,
            seeds,
            output,
        } => commands::validate(&ValidateOptions {
            quick,
            seeds,
            threads: output.threads,
            out: output.out,
            quiet: output.quiet,
        })
        .map(drop),
        Command::Figures {
            fig,
            quick,
            extra,
            configs,
            output,
        } => commands::figures(&FiguresOptions {
            figures: fig.parse::<u8>().map(|n| vec![n]).unwrap_or_default(),
            quick,
            extra,
            threads: output.threads,
            out: output.out,
            config_dir: configs,
            quiet: output.quiet,
        })
        .map(drop),
    }
}

fn main() -> ExitCode {
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
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_interrupted() {
                ExitCode::from(130)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
