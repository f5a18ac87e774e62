//! The errors a command reports: bad input, a run that failed, output that
//! could not be written, or an interrupted sweep.

use std::fmt;

use crate::app::output::OutputError;
use crate::input::config::ConfigError;
use crate::sim::RunError;

/// Any error a command reports to the user.
#[derive(Debug)]
pub enum Error {
    /// A bad config, manifest or trace.
    Config(ConfigError),
    /// A run hit a guard or broke an invariant.
    Run(RunError),
    /// Results could not be written.
    Output(OutputError),
    /// A sweep was interrupted; what finished is kept.
    Interrupted {
        /// Jobs whose results are stored.
        kept: usize,
        /// Jobs in the sweep (or shard).
        total: usize,
        /// Where they are stored.
        store: std::path::PathBuf,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Run(e) => write!(f, "{e}"),
            Error::Output(e) => write!(f, "{e}"),
            Error::Interrupted { kept, total, store } => write!(
                f,
                "interrupted: {kept} of {total} runs are kept in {}; run the same command again to resume",
                store.display()
            ),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<RunError> for Error {
    fn from(e: RunError) -> Self {
        Error::Run(e)
    }
}

impl From<OutputError> for Error {
    fn from(e: OutputError) -> Self {
        Error::Output(e)
    }
}
