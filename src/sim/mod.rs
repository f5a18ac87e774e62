//! The simulator: a small event engine, processor-sharing transfers, and the
//! swarm model that moves blocks between peers and the server (the model's
//! sections on swarms and transfers), producing per-VM and per-tick records
//! ([`metrics`]).
//!
//! One concept a file: [`engine`] (events), `queue` (its pending
//! entries), `radix_heap` (the queue's store when large), `prefetch`
//! (asking for the next event's records early), `changed`
//! (resources whose events move), [`transfer`] (processor sharing),
//! [`maxmin`] (max-min sharing of several resources at once, for rack and
//! link capacities; its deferred mode batches the exact solves),
//! `topology` (hosts in racks), `fabric` (the data center's links as one
//! max-min network, and its events), `locality` (rack-first choices),
//! `space` (the block space and bitsets), `rarity` (the rarest-first
//! index), `levels` (the rarity levels an image or chunk has keys at),
//! `choice` (block choice), `state`
//! (peers, flows, groups), `world` (the simulation and its event loop),
//! `peers`, `flows`, `sources` (peer requests), `holders` (source choice),
//! `holder_lists` (the holder lists' storage),
//! `endgame`, `server` (the server's groups and ticks), [`invariants`]
//! (end-of-run checks). Fast models have slow references beside them,
//! compiled for tests only.

mod changed;
mod choice;
mod draw;
mod endgame;
pub mod engine;
mod error;
mod fabric;
mod fifo;
mod finish_order;
mod float;
mod flows;
mod holder_lists;
mod holders;
mod holdings;
pub mod invariants;
mod levels;
mod locality;
pub mod maxmin;
#[cfg(test)]
mod maxmin_reference;
pub mod metrics;
mod peers;
mod prefetch;
mod queue;
mod radix_heap;
mod rarity;
mod server;
mod sources;
mod space;
mod state;
mod topology;
pub mod transfer;
#[cfg(test)]
mod transfer_reference;
mod unrequested;
mod waiting;
mod world;

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use crate::input::config::{LimitsConfig, PeersConfig, PolicyDef, ServerConfig};
use crate::input::content::Content;
use crate::input::topology::TopologyConfig;
use crate::input::workload::Workload;
use crate::policy::SubgradientParams;

pub use error::RunError;
pub use invariants::check_invariants;
use metrics::{Download, RunCounters, TickRecord, VmRecord};
pub use prefetch::CACHE_LINE_BYTES;
use world::Sim;

/// Everything one simulation run needs.
#[derive(Debug, Clone, Copy)]
pub struct RunSetup<'a> {
    /// The images.
    pub content: &'a Content,
    /// The requests (shared by every policy of a seed).
    pub workload: &'a Workload,
    /// Host parameters.
    pub peers: &'a PeersConfig,
    /// Server parameters.
    pub server: &'a ServerConfig,
    /// Racks and rack links (docs/model.md section 9), if any.
    pub topology: Option<&'a TopologyConfig>,
    /// The policy to run.
    pub policy: &'a PolicyDef,
    /// Parameters of the subgradient rule, if the policy uses it.
    pub subgradient: SubgradientParams,
    /// Seed of the simulation's own draws (tie-breaks, source choice).
    pub seed: u64,
    /// Guards: stop with an error past this many events or this time.
    pub limits: &'a LimitsConfig,
    /// Flags that stop the run with an error once one is set (Ctrl-C, an
    /// output that failed); checked every few thousand events.
    pub stop: &'a [&'a AtomicBool],
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// One record per VM request, in request order; empty when the records
    /// were streamed out as VMs completed (`workload.stream`).
    pub vms: Vec<VmRecord>,
    /// Whether `vms` was streamed out instead of kept.
    pub vms_streamed: bool,
    /// VMs that completed.
    pub completed: usize,
    /// The counted VMs' downloads, in completion order.
    pub downloads: Vec<Download>,
    /// Per tick and group.
    pub ticks: Vec<TickRecord>,
    /// Totals and counters.
    pub counters: RunCounters,
    /// A label per server group (image name, or chunk id).
    pub group_labels: Vec<String>,
    /// Mb peers delivered per swarm chunk. In the cross model swarm chunks
    /// are the content's chunks, in order; in the isolated model each
    /// image's chunks in turn.
    pub peer_mb_by_chunk: Vec<f64>,
}

/// Run one policy on one workload; `on_vm_done` sees each VM's record as
/// it completes (the only place a streamed record goes).
///
/// The run is checked at its end ([`check_invariants`]); a violation, or a
/// guard of `[limits]`, is an error carrying the policy and the seed.
pub fn simulate(
    setup: RunSetup,
    on_vm_done: &mut dyn FnMut(&VmRecord),
) -> Result<RunOutput, RunError> {
    let started = Instant::now();
    let mut sim = Sim::new(setup);
    if let Err(message) = sim.run(on_vm_done) {
        return Err(RunError::Limit {
            policy: setup.policy.name.clone(),
            seed: setup.seed,
            message,
        });
    }
    let mut out = sim.finish();
    out.counters.wall_s = started.elapsed().as_secs_f64();
    check_invariants(
        &out,
        setup.workload.request_count(),
        setup.peers,
        setup.server,
    )
    .map_err(|message| RunError::Invariant {
        policy: setup.policy.name.clone(),
        seed: setup.seed,
        message,
    })?;
    Ok(out)
}
