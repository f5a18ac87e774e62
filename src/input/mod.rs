//! Model inputs: the config, the content (images and chunks) and the workload
//! (VM requests) it describes; the layer above the simulator (`scenario`)
//! draws them together. Nothing here knows how a run proceeds. [`oci`]
//! turns container image manifests into a content file (`vmswarm import
//! oci`).

pub mod config;
pub mod content;
pub mod oci;
pub mod seed;
pub mod topology;
pub mod workload;
