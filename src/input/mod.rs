//! Model inputs: the config, the content (images and chunks) and the workload
//! (VM requests) it describes; the layer above the simulator (`scenario`)
//! draws them together. Nothing here knows how a run proceeds.

pub mod config;
pub mod content;
pub mod workload;
