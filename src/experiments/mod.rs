//! Experiments: sweeps over configs with replications and paired statistics,
//! the paper's figures and its claims judged from them, the regime map
//! (winners and claims across parameters the paper leaves open), policy
//! comparisons, and the simulator's speed on fixed scenarios (`bench`).

pub mod bench;
pub mod claims;
pub mod compare;
pub mod figures;
pub mod heatmap;
pub mod policies;
pub mod probe;
pub mod regimes;
pub mod store;
pub mod sweep;
pub mod sweep_output;
