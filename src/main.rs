//! The `vmswarm` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vmswarm::commands::{self, FiguresOptions, RunOptions, SweepOptions, ValidateOptions};

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

#[derive(Subcommand)]
enum Command {
    /// Run every policy of a TOML experiment config on one workload.
    Run {
        /// The experiment config (TOML).
        config: PathBuf,
        /// Policy to run instead of the config's list (repeatable).
        #[arg(long = "policy", value_name = "NAME")]
        policies: Vec<String>,
        /// Seed to use instead of the config's.
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory [default: out/<config file stem>].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Run a config's `[sweep]` grid x policies x replications in parallel.
    Sweep {
        /// The experiment config (TOML) with a `[sweep]` table.
        config: PathBuf,
        /// Run the reduced grid of `[sweep.quick]`.
        #[arg(long)]
        quick: bool,
        /// Worker threads [default: all cores]; results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Policy to run instead of the config's list (repeatable).
        #[arg(long = "policy", value_name = "NAME")]
        policies: Vec<String>,
        /// Base seed to use instead of the config's.
        #[arg(long)]
        seed: Option<u64>,
        /// Output directory [default: out/<config file stem>-sweep].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Figures 3-4 and the fluid transient from the analytic model (CSV, SVG).
    Analyze {
        /// The analytic parameters (TOML), e.g. configs/analytic.toml.
        #[arg(default_value = "configs/analytic.toml")]
        config: PathBuf,
        /// Output directory [default: out/analysis].
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
        /// Policy to compare instead of the config's list (repeatable).
        #[arg(long = "policy", value_name = "NAME")]
        policies: Vec<String>,
        /// Base seed to use instead of the config's.
        #[arg(long)]
        seed: Option<u64>,
        /// Worker threads [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory [default: out/<config file stem>-compare].
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
        /// Worker threads [default: all cores].
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory [default: out/validation].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
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
        /// Worker threads [default: all cores]; results do not depend on it.
        #[arg(long)]
        threads: Option<usize>,
        /// Output directory [default: out/figures, or out/figures-quick].
        #[arg(long)]
        out: Option<PathBuf>,
        /// Read fig5.toml, fig6.toml, fig7.toml from this directory instead
        /// of the bundled configs.
        #[arg(long, value_name = "DIR")]
        configs: Option<PathBuf>,
        /// Print nothing but errors.
        #[arg(long, short)]
        quiet: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            config,
            policies,
            seed,
            out,
            quiet,
        } => commands::run(&RunOptions {
            config,
            policies,
            seed,
            out,
            quiet,
        })
        .map(|_| ()),
        Command::Sweep {
            config,
            quick,
            threads,
            policies,
            seed,
            out,
            quiet,
        } => commands::sweep(&SweepOptions {
            config,
            quick,
            threads,
            out,
            seed,
            policies,
            quiet,
        })
        .map(|_| ()),
        Command::Compare {
            config,
            policies,
            seed,
            threads,
            out,
            quiet,
        } => commands::compare(&SweepOptions {
            config,
            quick: false,
            threads,
            out,
            seed,
            policies,
            quiet,
        })
        .map(|_| ()),
        Command::Analyze { config, out, quiet } => {
            commands::analyze(&config, out, quiet).map(|_| ())
        }
        Command::Validate {
            quick,
            seeds,
            threads,
            out,
            quiet,
        } => commands::validate(&ValidateOptions {
            quick,
            seeds,
            threads,
            out,
            quiet,
        })
        .map(|_| ()),
        Command::Figures {
            fig,
            quick,
            extra,
            threads,
            out,
            configs,
            quiet,
        } => commands::figures(&FiguresOptions {
            figures: fig.parse::<u8>().map(|n| vec![n]).unwrap_or_default(),
            quick,
            extra,
            threads,
            out,
            config_dir: configs,
            quiet,
        })
        .map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
