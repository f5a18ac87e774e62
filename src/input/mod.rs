//! Model inputs: the config, the content (images and chunks) and the workload
//! (VM requests) it describes, drawn together into a [`scenario::Scenario`].
//! Nothing here knows how a run proceeds.

pub mod config;
pub mod content;
pub mod scenario;
pub mod seed;
pub mod workload;
