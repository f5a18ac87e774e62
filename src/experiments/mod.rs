//! Experiments: sweeps over configs with replications and paired statistics,
//! the paper's figures and policy comparisons.

pub mod compare;
pub mod figures;
pub mod store;
pub mod sweep;
pub mod sweep_output;
