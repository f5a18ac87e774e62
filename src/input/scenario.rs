//! From a config to results: draw the scenario (content and workload) once
//! per seed, then run every policy on it (common random numbers).

use indicatif::ProgressBar;

use crate::input::config::{
    ArrivalKind, Config, ConfigError, Grouping, MAX_ARRIVAL_TICKS, PolicyDef,
};
use crate::input::content::{Content, ContentReport};
use crate::input::seed::stream_seed;
use crate::input::workload::Workload;
use crate::sim::metrics::{ImageStats, Summary, image_stats, summarize};
use crate::sim::{RunError, RunOutput, RunSetup, simulate};

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
            && let (Some(trace), Some(last)) = (&config.workload.trace, workload.requests.last())
        {
            let ticks = last.arrival_s / config.server.tick_s;
            if ticks > MAX_ARRIVAL_TICKS {
                return Err(ConfigError {
                    file: trace.clone(),
                    key: "time_s".into(),
                    message: format!(
                        "the last request, at {} s, comes {ticks:.3e} ticks of server.tick_s = {} s \
                         after the start; allowed: at most {MAX_ARRIVAL_TICKS:.0e} ticks (the server \
                         re-allocates every tick)",
                        last.arrival_s, config.server.tick_s
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

    /// Run one policy on this scenario; `on_vm_done` is called as each VM completes.
    pub fn run_policy(
        &self,
        policy: &PolicyDef,
        on_vm_done: &mut dyn FnMut(),
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
            },
            on_vm_done,
        )?;
        let per_image = image_stats(&output.vms, self.content.images.len());
        let summary = summarize(
            &output.vms,
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

    /// Run every policy of the config, in order, advancing `progress` by one
    /// per completed VM.
    pub fn run_all(&self, progress: &ProgressBar) -> Result<Vec<PolicyRun>, RunError> {
        self.config
            .resolved_policies()
            .iter()
            .map(|p| {
                progress.set_message(p.name.clone());
                self.run_policy(p, &mut || progress.inc(1))
            })
            .collect()
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
