//! Model inputs: the config, the content (images and chunks) and the workload
//! (VM requests) it describes; [`crate::scenario::Scenario`] draws them
//! together. Nothing here knows how a run proceeds.

pub mod config;
pub mod content;
pub mod workload;
