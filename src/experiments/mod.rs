//! Experiments: sweeps over configs with replications and paired statistics,
//! the paper's figures, policy comparisons, and plots.

pub mod compare;
pub mod figures;
pub mod plot;
pub mod stats;
pub mod store;
pub mod sweep;
