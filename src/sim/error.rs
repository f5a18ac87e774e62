//! Why a run did not produce a result.

/// Why a run did not produce a result.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// A guard of `[limits]` stopped it.
    Limit {
        /// The policy.
        policy: String,
        /// The run's seed.
        seed: u64,
        /// Which limit, and where the run was.
        message: String,
    },
    /// An end-of-run invariant failed: a bug, never a result.
    Invariant {
        /// The policy.
        policy: String,
        /// The run's seed.
        seed: u64,
        /// The invariant and the values that broke it.
        message: String,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Limit {
                policy,
                seed,
                message,
            } => {
                write!(
                    f,
                    "run of policy `{policy}` with seed {seed} stopped: {message}"
                )
            }
            RunError::Invariant {
                policy,
                seed,
                message,
            } => write!(
                f,
                "run of policy `{policy}` with seed {seed} broke an invariant (a bug; please report it with the config): {message}"
            ),
        }
    }
}

impl std::error::Error for RunError {}
