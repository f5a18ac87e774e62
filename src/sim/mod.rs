//! The simulator: a small event engine, processor-sharing transfers, and the
//! swarm model that moves blocks between peers and the server, producing
//! per-VM and per-tick records ([`metrics`]). [`maxmin`] shares several
//! resources at once, for rack and link capacities (not yet wired in).

pub mod engine;
pub mod maxmin;
#[cfg(test)]
mod maxmin_reference;
pub mod metrics;
pub mod swarm;
pub mod transfer;
#[cfg(test)]
mod transfer_reference;
