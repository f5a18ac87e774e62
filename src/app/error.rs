//! The errors a command reports: bad input, a run that failed, output that
//! could not be written, a sweep or its store that failed or was
//! interrupted, or a validation that could not run. Each layer has its own
//! error type; this one wraps them all, and says the same as they do.

use std::fmt;

use crate::app::output::OutputError;
use crate::experiments::bench::BenchError;
use crate::experiments::store::StoreError;
use crate::experiments::sweep::SweepError;
use crate::input::config::ConfigError;
use crate::sim::RunError;
use crate::theory::validation::ValidationError;

/// Any error a command reports to the user.
#[derive(Debug)]
pub enum Error {
    /// A bad config, manifest or trace.
    Config(ConfigError),
    /// A run hit a guard or broke an invariant.
    Run(RunError),
    /// Results could not be written.
    Output(OutputError),
    /// A sweep failed, or was interrupted (what finished is kept).
    Sweep(SweepError),
    /// A sweep's store could not be written, read or merged.
    Store(StoreError),
    /// The validation against the analytic model could not run.
    Validation(ValidationError),
}

impl Error {
    /// Whether a sweep was interrupted (by Ctrl-C), keeping what finished.
    pub fn is_interrupted(&self) -> bool {
        matches!(self, Error::Sweep(SweepError::Interrupted { .. }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Run(e) => write!(f, "{e}"),
            Error::Output(e) => write!(f, "{e}"),
            Error::Sweep(e) => write!(f, "{e}"),
            Error::Store(e) => write!(f, "{e}"),
            Error::Validation(e) => write!(f, "{e}"),
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

impl From<SweepError> for Error {
    fn from(e: SweepError) -> Self {
        Error::Sweep(e)
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Error::Store(e)
    }
}

impl From<BenchError> for Error {
    fn from(e: BenchError) -> Self {
        match e {
            BenchError::Config(e) => Error::Config(e),
            BenchError::Run(e) => Error::Run(e),
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Error::Validation(e)
    }
}
