//! Experiments: sweeps over configs with replications and paired statistics,
//! the paper's figures and its claims judged from them, policy comparisons,
//! and plots.

pub mod claims;
pub mod compare;
pub mod figures;
pub mod plot;
pub mod stats;
pub mod store;
pub mod sweep;
