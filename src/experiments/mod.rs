//! Experiments: sweeps over configs with replications and paired statistics,
//! the paper's figures and its claims judged from them, policy comparisons,
//! plots, and the simulator's speed on fixed scenarios (`bench`).

pub mod bench;
pub mod claims;
pub mod compare;
pub mod figures;
pub mod plot;
pub mod stats;
pub mod store;
pub mod sweep;
