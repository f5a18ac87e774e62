//! vmswarm: a discrete-event simulator of peer-to-peer VM image distribution
//! in cloud data centers (Wu et al., "On P2P Mechanisms for VM Image
//! Distribution in Cloud Data Centers"; the model is fixed in MODEL.md).
//!
//! Data flows one way: [`config`] -> [`scenario`] (content from [`content`],
//! requests from [`workload`]) -> [`swarm`] (on the [`engine`], with
//! [`transfer`] and a [`policy`] rule) -> [`metrics`] -> [`output`].
//!
//! ```
//! use std::path::Path;
//! use vmswarm::config::Config;
//! use vmswarm::scenario::Scenario;
//!
//! // Two small images, a short flash crowd, the paper's four policies.
//! let config = Config::parse(
//!     r#"
//!     policies = ["iso", "cross-equ", "cross-prop", "cross-opt"]
//!     [content]
//!     images = 2
//!     chunks_per_image = 4
//!     blocks_per_chunk = 8
//!     [workload]
//!     arrivals = "burst"
//!     burst_count = 10
//!     "#,
//!     Path::new("example.toml"),
//! )?;
//! let scenario = Scenario::build(&config)?;
//! for policy in config.resolved_policies() {
//!     let run = scenario.run_policy(&policy, &mut || {})?;
//!     assert_eq!(run.output.vms.len(), 10);
//!     println!("{}: mean download {:.2} s", policy.name, run.summary.mean_vm_s);
//! }
//! # Ok::<(), vmswarm::error::Error>(())
//! ```

#![warn(missing_docs)]

pub mod analysis;
pub mod analytic;
pub mod commands;
pub mod compare;
pub mod config;
pub mod content;
pub mod engine;
pub mod error;
pub mod figures;
pub mod metrics;
pub mod output;
pub mod plot;
pub mod policy;
pub mod scenario;
pub mod stats;
pub mod store;
pub mod swarm;
pub mod sweep;
pub mod transfer;
pub mod validation;
pub mod workload;
