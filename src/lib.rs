//! vmswarm: a discrete-event simulator of peer-to-peer VM image distribution.
pub mod policy;
