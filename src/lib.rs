//! vmswarm: a discrete-event simulator of peer-to-peer VM image distribution
//! in cloud data centers (Wu et al., "On P2P Mechanisms for VM Image
//! Distribution in Cloud Data Centers"; the model as built is `docs/model.md`).
//!
//! The crate is in layers, each depending only on those below it (and on
//! the leaves):
//!
//! | layer | modules | uses |
//! |---|---|---|
//! | [`input`] | config (with the rules' parameters), content, workload | - |
//! | [`policy`] | the server's allocation rules, behind one trait | input |
//! | [`sim`] | event engine, transfers, swarms, metrics | input, policy |
//! | [`scenario`] | content and workload drawn per seed, every policy run on them; replication seeds | input, sim; progress |
//! | [`theory`] | the analytic model and the simulator's validation against it | input, sim, scenario; stats, plot |
//! | [`experiments`] | sweeps and their store and output files, figures, comparisons | input, sim, scenario; stats, plot, progress, atomic_file |
//! | [`app`] | the commands, their output files, the progress bars, the Ctrl-C flag, the crate-wide error | everything |
//!
//! Leaves depend on nothing in the crate: [`atomic_file`] (all-or-nothing
//! file writes), [`progress`] (how long work reports progress), [`stats`]
//! (means and confidence intervals), [`plot`] (SVG charts), [`huge_pages`]
//! (the binary's allocator). Each layer has
//! its own error type (`ConfigError`, `RunError`, `ValidationError`,
//! `SweepError`, `StoreError`, `WriteError`); [`app::error::Error`] wraps
//! them all.
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
//!     let run = scenario.run_policy(&policy, &mut |_| {})?;
//!     assert_eq!(run.output.vms.len(), 10);
//!     println!("{}: mean download {:.2} s", policy.name, run.summary.mean_vm_s);
//! }
//! # Ok::<(), vmswarm::app::error::Error>(())
//! ```

#![warn(missing_docs)]
#![warn(clippy::too_many_lines)]

pub mod app;
pub mod atomic_file;
pub mod experiments;
pub mod huge_pages;
pub mod input;
pub mod plot;
pub mod policy;
pub mod progress;
pub mod scenario;
pub mod sim;
pub mod stats;
pub mod theory;
