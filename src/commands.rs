//! The CLI's commands as library functions: `main.rs` parses arguments and
//! calls these.

use std::fmt;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{Config, ConfigError};
use crate::output::{OutputError, summary_table, write_run};
use crate::scenario::Scenario;

/// Any error a command reports to the user.
#[derive(Debug)]
pub enum Error {
    /// A bad config, manifest or trace.
    Config(ConfigError),
    /// Results could not be written.
    Output(OutputError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Output(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<OutputError> for Error {
    fn from(e: OutputError) -> Self {
        Error::Output(e)
    }
}

/// Options of `vmswarm run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The experiment config.
    pub config: PathBuf,
    /// Policies to run instead of the config's list.
    pub policies: Vec<String>,
    /// Seed to use instead of the config's.
    pub seed: Option<u64>,
    /// Output directory (default `out/<config name>`).
    pub out: Option<PathBuf>,
    /// Print nothing but errors.
    pub quiet: bool,
}

/// Load a config and apply the command line's overrides.
pub fn load_config(
    path: &Path,
    policies: &[String],
    seed: Option<u64>,
) -> Result<Config, ConfigError> {
    let mut config = Config::load(path)?;
    if !policies.is_empty() {
        config.set_policies(policies.to_vec(), path)?;
    }
    if let Some(seed) = seed {
        config.seed = seed;
    }
    Ok(config)
}

/// `vmswarm run`: every policy on one scenario; writes the run's files and
/// prints a summary table. Returns the output directory.
pub fn run(opts: &RunOptions) -> Result<PathBuf, Error> {
    let config = load_config(&opts.config, &opts.policies, opts.seed)?;
    let scenario = Scenario::build(&config)?;
    let out = opts.out.clone().unwrap_or_else(|| {
        let stem = opts
            .config
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "run".into());
        PathBuf::from("out").join(stem)
    });
    let policies = config.resolved_policies();
    let total = (scenario.workload.requests.len() * policies.len()) as u64;
    let progress = progress_bar(total, opts.quiet);
    let runs = scenario.run_all(&progress);
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
