//! `[subgradient]`: the parameters of the paper's Algorithm 1, and the
//! rule's parameter struct (the policy layer uses it; it lives here so that
//! the input layer depends on nothing above it).

use serde::{Deserialize, Serialize};

use super::errors::{Checks, ConfigError};

/// `[subgradient]`: the paper's Algorithm 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgradientConfig {
    /// Step-size scale `nu`.
    pub step: f64,
    /// Iteration cap per tick.
    pub max_iterations: u32,
    /// Stop when the relative duality gap is below this.
    pub tolerance: f64,
}

impl Default for SubgradientConfig {
    fn default() -> Self {
        let p = SubgradientParams::default();
        SubgradientConfig {
            step: p.step,
            max_iterations: p.max_iterations,
            tolerance: p.tolerance,
        }
    }
}

impl SubgradientConfig {
    /// Check the section's ranges; the error names the first bad key.
    pub(crate) fn validate(&self, check: &Checks) -> Result<(), ConfigError> {
        check.positive("subgradient.step", self.step)?;
        check.at_least_one("subgradient.max_iterations", self.max_iterations.into())?;
        check.positive("subgradient.tolerance", self.tolerance)
    }

    /// The rule's parameters.
    pub fn params(&self) -> SubgradientParams {
        SubgradientParams {
            step: self.step,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
        }
    }
}

/// The knobs of the subgradient rule (docs/model.md section 5: "step size,
/// iteration cap and stopping rule are config options").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubgradientParams {
    /// Scale of the first step of each call (dimensionless). 1.0 is the
    /// step that solves the problem in one move once the served set is
    /// right; later steps adapt (Barzilai-Borwein) within `[1e-3, 1e3]`
    /// times this first step. Must be positive.
    pub step: f64,
    /// Cap on iterations per call; one iteration is one minimisation of the
    /// Lagrangian (eq. 13), including those a line search rejects.
    pub max_iterations: u32,
    /// Stop once the relative duality gap `(UB - LB) / UB` is at most this.
    /// Since `LB <= M* <= UB`, the returned allocation is then within this
    /// fraction of the optimum.
    pub tolerance: f64,
}

impl Default for SubgradientParams {
    /// `step = 1.0`: the natural (Newton-like) scale of the scaled step, see
    /// the docs of `policy::subgradient`. `tolerance = 1e-3`: 0.1% of the
    /// completion time is far below the noise in the measured peer rates
    /// `P_g`, and it keeps the result within 1% of the exact rule with margin.
    /// `max_iterations = 500`: on random snapshots of up to 80 groups the
    /// rule needs up to ~200 iterations from the simplex's centre (a
    /// restart), a mean of ~4 (max ~70) warm-started from a perturbed copy
    /// of the snapshot (+-10% on `R_g` and `P_g`), and a mean of ~10 (max
    /// ~150) warm-started from an unrelated snapshot; at ~2 us per
    /// iteration for 80 groups the cap bounds a tick at about a millisecond.
    fn default() -> Self {
        Self {
            step: 1.0,
            max_iterations: 500,
            tolerance: 1e-3,
        }
    }
}
