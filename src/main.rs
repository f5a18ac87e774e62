//! The `vmswarm` command line: parses arguments and calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vmswarm::commands::{self, RunOptions};

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
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
