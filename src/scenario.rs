//! From a config to results: draw the scenario (content and workload) once
//! per seed, then run every policy on it (common random numbers); and the
//! seeds of a sweep's replications.
//!
//! A layer of its own, above `sim` (it runs the simulator) and below
//! `theory` and `experiments` (which run scenarios).

use crate::input::config::{
    ArrivalKind, Config, ConfigError, Grouping, MAX_ARRIVAL_TICKS, PolicyDef, RunSize,
};
use crate::input::content::{Content, ContentReport};
use crate::input::seed::stream_seed;
use crate::input::workload::Workload;
use crate::progress::Progress;
use crate::sim::metrics::{ImageStats, Summary, VmRecord, image_stats, summarize};
use crate::sim::{RunError, RunOutput, RunSetup, simulate};

use std::sync::atomic::AtomicBool;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

/// Random streams derived from the config's seed, one per purpose, so that
/// drawing more of one never shifts another.
const CONTENT_STREAM: u64 = 1;
const WORKLOAD_STREAM: u64 = 2;

/// A config with its content and workload drawn: what every policy shares.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The resolved config.
    pub config: Config,
    /// The images.
    pub content: Content,
    /// The VM requests.
    pub workload: Workload,
}

/// Seed of replication `r`: independent of the grid point, so the points of
/// a replication share random numbers. Kept within TOML's integer range.
pub fn replication_seed(base: u64, r: usize) -> u64 {
    stream_seed(base, 1_000_000 + r as u64) >> 1
}

impl Scenario {
    /// Draw content and workload from the config's seed.
    pub fn build(config: &Config) -> Result<Scenario, ConfigError> {
        let mut content_rng =
            Xoshiro256PlusPlus::seed_from_u64(stream_seed(config.seed, CONTENT_STREAM));
        let content = Content::generate(&config.content, &mut content_rng)?;
        let mut workload_rng =
            Xoshiro256PlusPlus::seed_from_u64(stream_seed(config.seed, WORKLOAD_STREAM));
        let workload =
            Workload::generate(&config.workload, &config.peers, &content, &mut workload_rng)?;
        // `Config::validate` bounds the generated arrivals' span; a trace's
        // is known only now.
        if config.workload.arrivals == ArrivalKind::Trace
            && let (Some(trace), Some(last_s)) = (&config.workload.trace, workload.last_arrival_s())
        {
            let ticks = last_s / config.server.tick_s;
            if ticks > MAX_ARRIVAL_TICKS {
                return Err(ConfigError {
                    file: trace.clone(),
                    key: "time_s".into(),
                    message: format!(
                        "the last request, at {} s, comes {ticks:.3e} ticks of server.tick_s = {} s \
                         after the start; allowed: at most {MAX_ARRIVAL_TICKS:.0e} ticks (the server \
                         re-allocates every tick)",
                        last_s, config.server.tick_s
                    ),
                });
            }
        }
        for (i, def) in config.policy.iter().enumerate() {
            if let Some(shares) = &def.shares {
                let groups = crate::input::content::group_count(&content, def);
                if shares.len() != groups {
                    return Err(ConfigError {
                        file: config.source.clone(),
                        key: format!("policy[{i}].shares"),
                        message: format!(
                            "policy `{}` has {groups} server groups on this content ({}), but {} \
                             shares; allowed: exactly {groups} shares, in group order",
                            def.name,
                            match def.groups {
                                Grouping::Image => "one per image",
                                Grouping::Chunk => "one per chunk of its swarm model",
                            },
                            shares.len()
                        ),
                    });
                }
            }
        }
        // `Config::validate` checked the cost of the content and requests it
        // asks for; a manifest's and a trace's are known only now.
        config.check_cost(&drawn_size(&content, &workload), &config.source)?;
        Ok(Scenario {
            config: config.clone(),
            content,
            workload,
        })
    }

    /// Statistics of the drawn content.
    pub fn content_report(&self) -> ContentReport {
        self.content.report()
    }

    /// Run one policy on this scenario; `on_vm_done` sees each VM's record
    /// as it completes.
    pub fn run_policy(
        &self,
        policy: &PolicyDef,
        on_vm_done: &mut dyn FnMut(&VmRecord),
    ) -> Result<PolicyRun, RunError> {
        self.run_policy_until(policy, on_vm_done, &[])
    }

    /// [`Scenario::run_policy`], stopped with an error once one of `stop`
    /// is set.
    pub fn run_policy_until(
        &self,
        policy: &PolicyDef,
        on_vm_done: &mut dyn FnMut(&VmRecord),
        stop: &[&AtomicBool],
    ) -> Result<PolicyRun, RunError> {
        let output = simulate(
            RunSetup {
                content: &self.content,
                workload: &self.workload,
                peers: &self.config.peers,
                server: &self.config.server,
                topology: self.config.topology.as_ref(),
                policy,
                subgradient: self.config.subgradient.params(),
                seed: self.config.seed,
                limits: &self.config.limits,
                stop,
            },
            on_vm_done,
        )?;
        let per_image = image_stats(&output.downloads, self.content.images.len());
        let summary = summarize(
            &output.downloads,
            &per_image,
            &output.counters,
            self.config.server.u_s_mbps,
        );
        Ok(PolicyRun {
            policy: policy.clone(),
            output,
            per_image,
            summary,
        })
    }

    /// Run every policy of the config, in order: each policy starts a stage
    /// of `progress`, and each completed VM advances it by one.
    pub fn run_all(&self, progress: &dyn Progress) -> Result<Vec<PolicyRun>, RunError> {
        self.run_all_streaming(progress, &mut |_, _| {}, &[])
    }

    /// [`Scenario::run_all`], also handing each completed VM's record, with
    /// its policy, to `on_vm_done` (how `workload.stream` writes them), and
    /// stopped with an error once one of `stop` is set.
    pub fn run_all_streaming(
        &self,
        progress: &dyn Progress,
        on_vm_done: &mut dyn FnMut(&PolicyDef, &VmRecord),
        stop: &[&AtomicBool],
    ) -> Result<Vec<PolicyRun>, RunError> {
        self.config
            .resolved_policies()
            .iter()
            .map(|p| {
                progress.stage(&p.name);
                let mut on_vm = |vm: &VmRecord| {
                    progress.advance(1);
                    on_vm_done(p, vm);
                };
                self.run_policy_until(p, &mut on_vm, stop)
            })
            .collect()
    }
}

/// The sizes of a drawn content and workload.
fn drawn_size(content: &Content, workload: &Workload) -> RunSize {
    let blocks = |chunks: &mut dyn Iterator<Item = usize>| -> (f64, f64) {
        chunks.fold((0.0, 0.0), |(b, mb), c| {
            let chunk = &content.chunks[c];
            (b + f64::from(chunk.blocks), mb + chunk.size_mb())
        })
    };
    let image_chunks: usize = content.images.iter().map(|im| im.chunks.len()).sum();
    let (unique_blocks, _) = blocks(&mut (0..content.chunks.len()));
    let mut held = content
        .images
        .iter()
        .flat_map(|im| im.chunks.iter().copied());
    let (image_blocks, image_mb) = blocks(&mut held);
    RunSize {
        images: content.images.len() as f64,
        unique_chunks: content.chunks.len() as f64,
        unique_blocks,
        image_chunks: image_chunks as f64,
        image_blocks,
        image_mb,
        requests: workload.request_count() as f64,
        span_s: workload.last_arrival_s().unwrap_or(0.0),
    }
}

/// One policy's results on a scenario.
#[derive(Debug, Clone)]
pub struct PolicyRun {
    /// The policy.
    pub policy: PolicyDef,
    /// Raw records.
    pub output: RunOutput,
    /// Per-image statistics.
    pub per_image: Vec<ImageStats>,
    /// Headline numbers.
    pub summary: Summary,
}
