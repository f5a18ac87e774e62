//! vmswarm: a discrete-event simulator of peer-to-peer VM image distribution
//! in cloud data centers (Wu et al., "On P2P Mechanisms for VM Image
//! Distribution in Cloud Data Centers"; the model is fixed in MODEL.md).
//!
//! Data flows one way: [`config`] -> [`scenario`] (content from [`content`],
//! requests from [`workload`]) -> [`swarm`] (on the [`engine`], with
//! [`transfer`] and a [`policy`] rule) -> [`metrics`] -> [`output`].

pub mod commands;
pub mod config;
pub mod content;
pub mod engine;
pub mod metrics;
pub mod output;
pub mod policy;
pub mod scenario;
pub mod stats;
pub mod swarm;
pub mod sweep;
pub mod transfer;
pub mod workload;
