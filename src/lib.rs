//! vmswarm: a discrete-event simulator of peer-to-peer VM image distribution
//! in cloud data centers (Wu et al., "On P2P Mechanisms for VM Image
//! Distribution in Cloud Data Centers"; the model is fixed in MODEL.md).
//!
//! The crate is in layers, each depending only on those below it:
//!
//! | layer | modules |
//! |---|---|
//! | [`input`] | config, content, workload, scenario |
//! | [`policy`] | the server's allocation rules, behind one trait |
//! | [`sim`] | event engine, transfers, swarms, metrics |
//! | [`theory`] | the analytic model and the simulator's validation against it |
//! | [`experiments`] | sweeps, figures, comparisons, statistics, plots |
//! | [`app`] | the commands, their output files, the crate-wide error |
//!
//! Data flows one way: config -> scenario -> simulation -> metrics -> output.
//!
//! ```
//! use std::path::Path;
//! use vmswarm::input::config::Config;
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
//! # Ok::<(), vmswarm::app::error::Error>(())
//! ```

#![warn(missing_docs)]

pub mod app;
pub mod atomic_file;
pub mod experiments;
pub mod input;
pub mod plot;
pub mod policy;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod theory;
