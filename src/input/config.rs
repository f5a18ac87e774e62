//! Experiment configuration: the TOML schema, its defaults and its validation.
//!
//! Every field has a default (the paper's Section V setup where the paper
//! gives one), so an empty file is a valid config. Unknown keys are rejected
//! by serde (`deny_unknown_fields`); out-of-range values are rejected by
//! [`Config::validate`], and every error names the file and the key.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::input::topology::{Locality, TopologyConfig};
use crate::policy::SubgradientParams;

/// The largest seed: TOML integers are signed 64-bit, so a larger seed
/// could not be written back into `manifest.toml` or a sweep's configs.
pub const MAX_SEED: u64 = i64::MAX as u64;

/// The most server ticks the arrivals may span (`window_s / tick_s`, or a
/// burst's spread or a trace's last request over `tick_s`). The server
/// re-allocates every tick, even while no one is downloading, so a longer
/// span makes a run that seems to hang.
pub const MAX_ARRIVAL_TICKS: f64 = 1e7;

/// An error in a config (or a file it points to), naming where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file the error is in.
    pub file: PathBuf,
    /// The offending key (dotted path), or empty when the file as a whole is bad.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the input held: names quoted from a file may
        // contain line breaks.
        let one_line = |s: &str| s.replace('\n', "\\n").replace('\r', "\\r");
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), one_line(&self.message))
        } else {
            write!(
                f,
                "{}: field `{}`: {}",
                self.file.display(),
                one_line(&self.key),
                one_line(&self.message)
            )
        }
    }
}

/// The largest block size accepted (Mb): a terabit. Larger values are
/// typos, and sizes must stay finite when multiplied out.
pub const MAX_BLOCK_MB: f64 = 1e6;

/// The largest rate accepted (Mb/s): a petabit per second.
pub const MAX_RATE_MBPS: f64 = 1e9;

impl std::error::Error for ConfigError {}

/// A whole experiment: content, workload, peers, server and the policies to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// A label carried into the outputs.
    pub name: String,
    /// The seed every random draw flows from (at most [`MAX_SEED`]).
    #[serde(deserialize_with = "deserialize_seed")]
    pub seed: u64,
    /// Policies to run, by preset or by a name defined in `[[policy]]`.
    pub policies: Vec<String>,
    /// Custom policies (swarm model x grouping x rule), usable in `policies`.
    pub policy: Vec<PolicyDef>,
    /// What the images are made of.
    pub content: ContentConfig,
    /// When VMs are requested, and for which image.
    pub workload: WorkloadConfig,
    /// The hosts the VMs run on.
    pub peers: PeersConfig,
    /// The image server.
    pub server: ServerConfig,
    /// Hosts in racks and rack links (docs/model.md section 9); absent:
    /// no network model beyond the hosts' own links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub topology: Option<TopologyConfig>,
    /// Parameters of the `subgradient` rule.
    pub subgradient: SubgradientConfig,
    /// A parameter grid, for `vmswarm sweep` and the figures.
    pub sweep: SweepConfig,
    /// Guards against runaway scenarios.
    pub limits: LimitsConfig,
    /// The file the config was read from, for messages (not a key).
    #[serde(skip)]
    pub source: PathBuf,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            name: "vmswarm".into(),
            seed: 1,
            policies: PRESETS.iter().map(|p| p.to_string()).collect(),
            policy: Vec::new(),
            content: ContentConfig::default(),
            workload: WorkloadConfig::default(),
            peers: PeersConfig::default(),
            server: ServerConfig::default(),
            topology: None,
            subgradient: SubgradientConfig::default(),
            sweep: SweepConfig::default(),
            limits: LimitsConfig::default(),
            source: PathBuf::new(),
        }
    }
}

/// The names of the built-in policies (MODEL.md section 5).
pub const PRESETS: [&str; 5] = [
    "iso",
    "cross-equ",
    "cross-prop",
    "cross-opt",
    "cross-opt-exact",
];

/// How the images' chunks are generated (MODEL.md section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ContentKind {
    /// Each image draws its chunks from a common pool (Section V).
    Pool,
    /// Every image holds the same common core plus chunks of its own (Section III.B).
    SharedCore,
    /// Explicit chunk lists per image, from a manifest file.
    Manifest,
}

/// `[content]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentConfig {
    /// Generator: `pool`, `shared-core` or `manifest`.
    pub kind: ContentKind,
    /// `K`: number of images (ignored for `manifest`).
    pub images: usize,
    /// `C`: chunks per image (ignored for `manifest`).
    pub chunks_per_image: usize,
    /// `B`: blocks per chunk (the default for manifest chunks without a size).
    pub blocks_per_chunk: u32,
    /// `b`: block size in Mb.
    pub block_mb: f64,
    /// `rho` for `pool` (expected pairwise common fraction), `beta` for
    /// `shared-core` (fraction of each image in the common core). In (0, 1]
    /// for `pool`, [0, 1] for `shared-core`.
    pub common_ratio: f64,
    /// Path of the manifest (`manifest` only), relative to the config file.
    pub manifest: Option<PathBuf>,
}

impl Default for ContentConfig {
    fn default() -> Self {
        ContentConfig {
            kind: ContentKind::Pool,
            images: 10,
            chunks_per_image: 16,
            blocks_per_chunk: 64,
            block_mb: 4.0,
            common_ratio: 0.2,
            manifest: None,
        }
    }
}

/// How request arrivals are generated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArrivalKind {
    /// Poisson process of rate `rate_per_s` during `[0, window_s)`.
    Poisson,
    /// A flash crowd: `burst_count` requests spread uniformly over `[0, burst_spread_s]`.
    Burst,
    /// Arrivals read from a CSV trace (`time_s,image`).
    Trace,
}

/// How a request picks its image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PopularityKind {
    /// `p_i` proportional to `1 / i^s`, image 1 the hottest.
    Zipf,
    /// `p_i = 1 / K`.
    Uniform,
}

/// `[workload]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkloadConfig {
    /// `poisson`, `burst` or `trace`.
    pub arrivals: ArrivalKind,
    /// `lambda`: total request rate (req/s), for `poisson`.
    pub rate_per_s: f64,
    /// Arrival window (s), for `poisson`.
    pub window_s: f64,
    /// VMs arriving before this time (s) are simulated but left out of the
    /// statistics. Default: 10% of the window.
    pub warmup_s: Option<f64>,
    /// Number of requests, for `burst`.
    pub burst_count: usize,
    /// The burst's requests are spread uniformly over `[0, burst_spread_s]`
    /// (0: all at time 0).
    pub burst_spread_s: f64,
    /// Path of the trace (`trace` only), relative to the config file.
    pub trace: Option<PathBuf>,
    /// `zipf` or `uniform`.
    pub popularity: PopularityKind,
    /// `s`: the Zipf exponent.
    pub zipf_exponent: f64,
    /// Shortest time (s) a VM seeds after it completes.
    pub lifetime_min_s: f64,
    /// Longest time (s) a VM seeds after it completes.
    pub lifetime_max_s: f64,
    /// Peers per image that hold the image at time 0 and never leave (a
    /// registry's preheat).
    pub initial_seeders: usize,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            arrivals: ArrivalKind::Poisson,
            rate_per_s: 2.0,
            window_s: 300.0,
            warmup_s: None,
            burst_count: 100,
            burst_spread_s: 0.0,
            trace: None,
            popularity: PopularityKind::Zipf,
            zipf_exponent: 1.0,
            lifetime_min_s: 50.0,
            lifetime_max_s: 100.0,
            initial_seeders: 0,
        }
    }
}

impl WorkloadConfig {
    /// The warm-up actually used: `warmup_s`, or 10% of the arrival window.
    pub fn warmup_s(&self) -> f64 {
        self.warmup_s.unwrap_or(0.1 * self.window_s)
    }
}

/// Block selection order of a leecher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PieceSelection {
    /// Fewest holders in the leecher's swarms first, random tie-break.
    Rarest,
    /// Uniformly random among available blocks.
    Random,
    /// Lowest block index of the image first.
    Sequential,
}

/// How a leecher picks the source of a block among its holders (the model's
/// section on transfers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceChoice {
    /// The holder with the fewest active uploads among those with a free
    /// slot, random tie-break (sampled among `source_samples` holders when
    /// there are more).
    LeastLoaded,
    /// The first holder with a free slot found from a random position: the
    /// simulator's early rule, kept only for comparison (it piles flows on
    /// some holders while others idle).
    FirstFree,
}

/// What a leecher does with its server blocks in flight once it has nothing
/// left to request from peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Endgame {
    /// Move each to a free holder that would deliver it sooner, cancelling
    /// the server flow (its partial data is waste).
    Switch,
    /// Keep them with the server, however slow (for comparison).
    Off,
}

/// `[peers]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeersConfig {
    /// `u_c`: mean upload capacity of a host (Mb/s).
    pub upload_mbps: f64,
    /// Heterogeneous hosts: each host's upload is drawn uniformly from
    /// `[u_c (1 - spread), u_c (1 + spread)]`. 0 means every host has `u_c`.
    pub upload_spread: f64,
    /// `d_c`: download capacity (Mb/s); absent means unlimited.
    pub download_cap_mbps: Option<f64>,
    /// Block requests a leecher keeps in flight to peers.
    pub max_downloads: u32,
    /// Blocks a peer uploads at once, sharing its upload equally.
    pub upload_slots: u32,
    /// `rarest`, `random` or `sequential`.
    pub piece_selection: PieceSelection,
    /// `least-loaded` or `first-free`.
    pub source_choice: SourceChoice,
    /// Holders a `least-loaded` choice samples when a block has more; with
    /// fewer, it looks at all of them.
    pub source_samples: u32,
    /// `switch` or `off`.
    pub endgame: Endgame,
    /// `none` or `rack` (rack-first source choice; needs `[topology]`).
    #[serde(skip_serializing_if = "Locality::is_none")]
    pub locality: Locality,
}

impl Default for PeersConfig {
    fn default() -> Self {
        PeersConfig {
            upload_mbps: 128.0,
            upload_spread: 0.0,
            download_cap_mbps: None,
            max_downloads: 4,
            upload_slots: 4,
            piece_selection: PieceSelection::Rarest,
            source_choice: SourceChoice::LeastLoaded,
            source_samples: DEFAULT_SOURCE_SAMPLES,
            endgame: Endgame::Switch,
            locality: Locality::None,
        }
    }
}

/// Default of `peers.source_samples`: with 8 samples, a request lands on a
/// busy holder only when all 8 are busy (under 0.1% when 40% are busy).
pub const DEFAULT_SOURCE_SAMPLES: u32 = 8;

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// `u_s`: the image server's upload (Mb/s).
    pub u_s_mbps: f64,
    /// The allocation is re-set every `tick_s` seconds.
    pub tick_s: f64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            u_s_mbps: 5120.0,
            tick_s: 1.0,
        }
    }
}

/// `[subgradient]`: the paper's Algorithm 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SubgradientConfig {
    /// Step-size scale `nu`.
    pub step: f64,
    /// Iteration cap per tick.
    pub max_iterations: u32,
    /// Stop when the relative duality gap is below this.
    pub tolerance: f64,
}

impl Default for SubgradientConfig {
    fn default() -> Self {
        let p = SubgradientParams::default();
        SubgradientConfig {
            step: p.step,
            max_iterations: p.max_iterations,
            tolerance: p.tolerance,
        }
    }
}

impl SubgradientConfig {
    /// The rule's parameters.
    pub fn params(&self) -> SubgradientParams {
        SubgradientParams {
            step: self.step,
            max_iterations: self.max_iterations,
            tolerance: self.tolerance,
        }
    }
}

/// `[sweep]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SweepConfig {
    /// Independent replications per grid point.
    pub replications: usize,
    /// Policy that paired differences are taken against (default: the
    /// config's first policy).
    pub baseline: Option<String>,
    /// The grid's axes, outermost first.
    pub axis: Vec<Axis>,
    /// What `--quick` changes.
    pub quick: Option<QuickConfig>,
}

impl Default for SweepConfig {
    fn default() -> Self {
        SweepConfig {
            replications: 1,
            baseline: None,
            axis: Vec::new(),
            quick: None,
        }
    }
}

/// One axis of the grid: a dotted config key and the values it takes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// Dotted key, e.g. `workload.rate_per_s`.
    pub key: String,
    /// Values, in order.
    pub values: Vec<toml::Value>,
}

/// `[sweep.quick]`: a reduced sweep for trying things out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QuickConfig {
    /// Replications in quick mode.
    pub replications: Option<usize>,
    /// Config values set in quick mode (dotted key -> value).
    pub set: toml::Table,
    /// Axes replacing those of the same key in quick mode.
    pub axis: Vec<Axis>,
}

impl Default for QuickConfig {
    fn default() -> Self {
        QuickConfig {
            replications: None,
            set: toml::Table::new(),
            axis: Vec::new(),
        }
    }
}

/// `[limits]`: a run that exceeds either stops with an error naming the
/// limit, instead of running on (a scenario that never drains, a typo that
/// asks for a million VMs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Most events one run may process (`--max-events`).
    pub max_events: Option<u64>,
    /// Latest simulated time one run may reach, in s (`--max-sim-time`).
    pub max_sim_time_s: Option<f64>,
}

/// The two P2P models of Section III.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SwarmModel {
    /// One swarm per image.
    Isolated,
    /// One swarm per unique chunk.
    Cross,
}

/// What a server group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grouping {
    /// One group per image.
    Image,
    /// One group per chunk (of the swarm model's chunk space).
    Chunk,
}

/// An allocation rule, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleKind {
    /// Equal split among groups with demand.
    Equal,
    /// Split by popularity among groups with demand.
    Proportional,
    /// The paper's Algorithm 1.
    Subgradient,
    /// Exact min-max by water-filling.
    Exact,
    /// A static share of `u_s` per group (`shares`).
    Fixed,
    /// Exact min-max counting blocks no peer holds (ours; `policy::ExactAvailable`).
    ExactAvailable,
}

/// A `[[policy]]` entry: a named combination.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyDef {
    /// The name used in `policies` and in the outputs.
    pub name: String,
    /// `isolated` or `cross`.
    pub swarms: SwarmModel,
    /// `image` or `chunk`.
    pub groups: Grouping,
    /// `equal`, `proportional`, `subgradient`, `exact`, `exact-available`
    /// or `fixed`.
    pub rule: RuleKind,
    /// For `fixed`: the share of `u_s` of each group, in group order (images,
    /// or the swarm model's chunks); non-negative, summing to at most 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<Vec<f64>>,
}

impl PolicyDef {
    /// The preset of this name, if there is one.
    pub fn preset(name: &str) -> Option<PolicyDef> {
        use Grouping::*;
        use RuleKind::*;
        use SwarmModel::*;
        let (swarms, groups, rule) = match name {
            "iso" => (Isolated, Image, Equal),
            "cross-equ" => (Cross, Image, Equal),
            "cross-prop" => (Cross, Image, Proportional),
            "cross-opt" => (Cross, Chunk, Subgradient),
            "cross-opt-exact" => (Cross, Chunk, Exact),
            _ => return None,
        };
        Some(PolicyDef {
            name: name.to_string(),
            swarms,
            groups,
            rule,
            shares: None,
        })
    }
}

impl Config {
    /// Read, parse and validate a config file. Relative paths inside it
    /// (manifest, trace) are resolved against the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            key: String::new(),
            message: format!("cannot read the config: {e}"),
        })?;
        let mut config = Config::parse(&text, path)?;
        let base = path.parent().unwrap_or(Path::new(""));
        for (key, p) in [
            ("content.manifest", &mut config.content.manifest),
            ("workload.trace", &mut config.workload.trace),
        ] {
            let Some(p) = p else { continue };
            if p.is_relative() {
                *p = base.join(&*p);
            }
            if let Err(e) = std::fs::metadata(&*p) {
                return Err(ConfigError {
                    file: path.to_path_buf(),
                    key: key.to_string(),
                    message: format!("cannot read `{}`: {e}", p.display()),
                });
            }
        }
        Ok(config)
    }

    /// Parse and validate config text; `file` is only used in messages.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_path_buf(),
            key: String::new(),
            message: describe_toml_error(text, &e),
        })?;
        config.source = file.to_path_buf();
        config.validate(file)?;
        Ok(config)
    }

    /// The policies to run, resolved to their definitions, in `policies` order.
    /// Names are checked by [`Config::validate`].
    pub fn resolved_policies(&self) -> Vec<PolicyDef> {
        self.policies
            .iter()
            .filter_map(|name| self.find_policy(name))
            .collect()
    }

    fn find_policy(&self, name: &str) -> Option<PolicyDef> {
        self.policy
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .or_else(|| PolicyDef::preset(name))
    }

    /// Replace the policy list (the CLI's `--policy`); names are checked,
    /// and an error about them says they came from `--policy`.
    pub fn set_policies(&mut self, names: Vec<String>, file: &Path) -> Result<(), ConfigError> {
        for (i, name) in names.iter().enumerate() {
            let problem = if self.find_policy(name).is_none() {
                format!("unknown policy; allowed: {}", self.known_policies())
            } else if names[..i].contains(name) {
                "is given twice".to_string()
            } else {
                continue;
            };
            return Err(ConfigError {
                file: file.to_path_buf(),
                key: String::new(),
                message: format!("--policy `{name}`: {problem}"),
            });
        }
        self.policies = names;
        self.validate(file)
    }

    /// The policy names `policies` may use, for messages.
    fn known_policies(&self) -> String {
        let custom: Vec<&str> = self.policy.iter().map(|p| p.name.as_str()).collect();
        format!(
            "{}{}",
            PRESETS.join(", "),
            if custom.is_empty() {
                String::new()
            } else {
                format!(", or one defined in [[policy]]: {}", custom.join(", "))
            }
        )
    }

    /// Check every value's range; the error names the first bad key.
    pub fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let err = |key: &str, message: String| ConfigError {
            file: file.to_path_buf(),
            key: key.to_string(),
            message,
        };
        let positive = |key: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(err(key, format!("must be a finite number > 0 (got {v})")))
            }
        };
        let at_most = |key: &str, v: f64, max: f64| {
            if v <= max {
                Ok(())
            } else {
                Err(err(key, format!("must be at most {max:e} (got {v:e})")))
            }
        };
        let non_negative = |key: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(err(key, format!("must be a finite number >= 0 (got {v})")))
            }
        };

        if self.seed > MAX_SEED {
            return Err(err(
                "seed",
                format!(
                    "must be an integer from 0 to {MAX_SEED}, TOML's integer range, \
                     in the config and in --seed alike (got {})",
                    self.seed
                ),
            ));
        }

        // Policies.
        if self.policies.is_empty() {
            return Err(err("policies", "must name at least one policy".to_string()));
        }
        for (i, def) in self.policy.iter().enumerate() {
            if def.name.trim().is_empty() {
                return Err(err(
                    &format!("policy[{i}].name"),
                    "must not be empty".into(),
                ));
            }
            if PolicyDef::preset(&def.name).is_some() {
                return Err(err(
                    &format!("policy[{i}].name"),
                    format!(
                        "`{}` is a preset's name; a policy of your own needs another name (presets: {})",
                        def.name,
                        PRESETS.join(", ")
                    ),
                ));
            }
            if self.policy[..i].iter().any(|d| d.name == def.name) {
                return Err(err(
                    &format!("policy[{i}].name"),
                    format!("`{}` is defined twice", def.name),
                ));
            }
        }
        for (i, def) in self.policy.iter().enumerate() {
            let key = format!("policy[{i}].shares");
            match (&def.shares, def.rule) {
                (None, RuleKind::Fixed) => {
                    return Err(err(&key, "is required when rule = \"fixed\"".into()));
                }
                (Some(_), rule) if rule != RuleKind::Fixed => {
                    return Err(err(&key, "is only allowed when rule = \"fixed\"".into()));
                }
                (Some(shares), _) => {
                    if shares.iter().any(|s| !s.is_finite() || *s < 0.0) {
                        return Err(err(&key, "every share must be a finite number >= 0".into()));
                    }
                    let total: f64 = shares.iter().sum();
                    if total > 1.0 + 1e-9 {
                        return Err(err(
                            &key,
                            format!("shares must sum to at most 1 (got {total})"),
                        ));
                    }
                }
                (None, _) => {}
            }
        }
        for (i, name) in self.policies.iter().enumerate() {
            if self.find_policy(name).is_none() {
                return Err(err(
                    &format!("policies[{i}]"),
                    format!(
                        "unknown policy `{name}`; allowed: {}",
                        self.known_policies()
                    ),
                ));
            }
            if self.policies[..i].contains(name) {
                return Err(err(
                    &format!("policies[{i}]"),
                    format!("`{name}` is listed twice"),
                ));
            }
        }

        // Content.
        let c = &self.content;
        if c.kind != ContentKind::Manifest {
            if c.images == 0 {
                return Err(err("content.images", "must be at least 1 (got 0)".into()));
            }
            if c.chunks_per_image == 0 {
                return Err(err(
                    "content.chunks_per_image",
                    "must be at least 1 (got 0)".into(),
                ));
            }
        }
        if c.blocks_per_chunk == 0 {
            return Err(err(
                "content.blocks_per_chunk",
                "must be at least 1 (got 0)".into(),
            ));
        }
        positive("content.block_mb", c.block_mb)?;
        at_most("content.block_mb", c.block_mb, MAX_BLOCK_MB)?;
        match c.kind {
            ContentKind::Pool => {
                if !(c.common_ratio > 0.0 && c.common_ratio <= 1.0) {
                    return Err(err(
                        "content.common_ratio",
                        format!(
                            "must be in (0, 1] for the pool generator (got {})",
                            c.common_ratio
                        ),
                    ));
                }
            }
            ContentKind::SharedCore => {
                if !(0.0..=1.0).contains(&c.common_ratio) {
                    return Err(err(
                        "content.common_ratio",
                        format!(
                            "must be in [0, 1] for the shared-core generator (got {})",
                            c.common_ratio
                        ),
                    ));
                }
            }
            ContentKind::Manifest => {
                if c.manifest.is_none() {
                    return Err(err(
                        "content.manifest",
                        "is required when content.kind = \"manifest\"".into(),
                    ));
                }
            }
        }

        // Workload.
        let w = &self.workload;
        match w.arrivals {
            ArrivalKind::Poisson => {
                positive("workload.rate_per_s", w.rate_per_s)?;
                positive("workload.window_s", w.window_s)?;
            }
            ArrivalKind::Burst => {
                if w.burst_count == 0 {
                    return Err(err(
                        "workload.burst_count",
                        "must be at least 1 (got 0)".into(),
                    ));
                }
                non_negative("workload.burst_spread_s", w.burst_spread_s)?;
            }
            ArrivalKind::Trace => {
                if w.trace.is_none() {
                    return Err(err(
                        "workload.trace",
                        "is required when workload.arrivals = \"trace\"".into(),
                    ));
                }
            }
        }
        if let Some(warmup) = w.warmup_s {
            non_negative("workload.warmup_s", warmup)?;
            if w.arrivals == ArrivalKind::Poisson && warmup >= w.window_s {
                return Err(err(
                    "workload.warmup_s",
                    format!(
                        "must be < workload.window_s ({warmup} >= {}): no VM would be counted",
                        w.window_s
                    ),
                ));
            }
        }
        non_negative("workload.zipf_exponent", w.zipf_exponent)?;
        non_negative("workload.lifetime_min_s", w.lifetime_min_s)?;
        non_negative("workload.lifetime_max_s", w.lifetime_max_s)?;
        if w.lifetime_max_s < w.lifetime_min_s {
            return Err(err(
                "workload.lifetime_max_s",
                format!(
                    "must be >= workload.lifetime_min_s ({} < {})",
                    w.lifetime_max_s, w.lifetime_min_s
                ),
            ));
        }

        // Peers.
        let p = &self.peers;
        non_negative("peers.upload_mbps", p.upload_mbps)?;
        at_most("peers.upload_mbps", p.upload_mbps, MAX_RATE_MBPS)?;
        if !(0.0..=1.0).contains(&p.upload_spread) {
            return Err(err(
                "peers.upload_spread",
                format!("must be in [0, 1] (got {})", p.upload_spread),
            ));
        }
        if let Some(d) = p.download_cap_mbps {
            positive("peers.download_cap_mbps", d)?;
            at_most("peers.download_cap_mbps", d, MAX_RATE_MBPS)?;
        }
        if p.max_downloads == 0 {
            return Err(err(
                "peers.max_downloads",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if p.upload_slots == 0 {
            return Err(err(
                "peers.upload_slots",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if !(1..=1024).contains(&p.source_samples) {
            return Err(err(
                "peers.source_samples",
                format!("must be in 1..=1024 (got {})", p.source_samples),
            ));
        }

        // Server.
        non_negative("server.u_s_mbps", self.server.u_s_mbps)?;
        at_most("server.u_s_mbps", self.server.u_s_mbps, MAX_RATE_MBPS)?;
        if self.server.u_s_mbps == 0.0 && w.initial_seeders == 0 {
            return Err(err(
                "server.u_s_mbps",
                "must be > 0 when workload.initial_seeders = 0: the server is then the \
                 images' only source, and no VM could ever complete"
                    .into(),
            ));
        }
        positive("server.tick_s", self.server.tick_s)?;
        let span = match w.arrivals {
            ArrivalKind::Poisson => Some(("workload.window_s", w.window_s)),
            ArrivalKind::Burst => Some(("workload.burst_spread_s", w.burst_spread_s)),
            ArrivalKind::Trace => None, // checked against the trace's last request
        };
        if let Some((key, span_s)) = span {
            let ticks = span_s / self.server.tick_s;
            if ticks > MAX_ARRIVAL_TICKS {
                return Err(err(
                    key,
                    format!(
                        "spans {ticks:.3e} ticks of server.tick_s = {} s; allowed: at most \
                         {MAX_ARRIVAL_TICKS:.0e} ticks (the server re-allocates every tick)",
                        self.server.tick_s
                    ),
                ));
            }
        }

        crate::input::topology::validate(self, file)?;

        // Limits.
        if self.limits.max_events == Some(0) {
            return Err(err(
                "limits.max_events",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if let Some(t) = self.limits.max_sim_time_s {
            positive("limits.max_sim_time_s", t)?;
        }

        // Subgradient.
        positive("subgradient.step", self.subgradient.step)?;
        if self.subgradient.max_iterations == 0 {
            return Err(err(
                "subgradient.max_iterations",
                "must be at least 1 (got 0)".into(),
            ));
        }
        positive("subgradient.tolerance", self.subgradient.tolerance)?;

        // Sweep (the grid's values are checked when the sweep is expanded).
        if self.sweep.replications == 0 {
            return Err(err(
                "sweep.replications",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if let Some(q) = &self.sweep.quick
            && q.replications == Some(0)
        {
            return Err(err(
                "sweep.quick.replications",
                "must be at least 1 (got 0)".into(),
            ));
        }
        if let Some(b) = &self.sweep.baseline
            && self.find_policy(b).is_none()
        {
            return Err(err(
                "sweep.baseline",
                format!(
                    "unknown policy `{b}`; allowed: one of the policies run ({})",
                    self.policies.join(", ")
                ),
            ));
        }
        Ok(())
    }
}

/// Deserialize `seed`: an integer from 0 to [`MAX_SEED`], with a message
/// that says so for negative, too large or non-integer values.
fn deserialize_seed<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    use serde::de::{Error, Unexpected, Visitor};
    struct Seed;
    impl Visitor<'_> for Seed {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "an integer from 0 to {MAX_SEED}")
        }
        fn visit_u64<E: Error>(self, v: u64) -> Result<u64, E> {
            if v <= MAX_SEED {
                Ok(v)
            } else {
                Err(E::invalid_value(Unexpected::Unsigned(v), &self))
            }
        }
        fn visit_i64<E: Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
        }
        fn visit_i128<E: Error>(self, v: i128) -> Result<u64, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(Unexpected::Other(&v.to_string()), &self)),
            }
        }
        fn visit_u128<E: Error>(self, v: u128) -> Result<u64, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(Unexpected::Other(&v.to_string()), &self)),
            }
        }
    }
    d.deserialize_u64(Seed)
}

/// Turn a TOML error into one line with the line number and the message.
pub(crate) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            // Quote the line, so that the message names the key even where
            // serde's own message does not (wrong types).
            let source = text.lines().nth(line - 1).unwrap_or("").trim();
            if source.is_empty() {
                format!("line {line}: {message}")
            } else {
                format!("line {line} (`{source}`): {message}")
            }
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("test.toml"))
    }

    #[test]
    fn empty_config_is_the_paper_default() {
        let c = parse("").unwrap();
        assert_eq!(
            c,
            Config {
                source: PathBuf::from("test.toml"),
                ..Config::default()
            }
        );
        assert_eq!(c.resolved_policies().len(), 5);
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let e = parse("seed = 3\n[peers]\nupload = 5\n").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("test.toml"), "{text}");
        assert!(text.contains("line 3"), "{text}");
        assert!(text.contains("upload"), "{text}");
    }

    #[test]
    fn out_of_range_values_name_the_key() {
        let e = parse("[workload]\nrate_per_s = -1\n").unwrap_err();
        assert_eq!(e.key, "workload.rate_per_s");
        let e = parse("[content]\ncommon_ratio = 0.0\n").unwrap_err();
        assert_eq!(e.key, "content.common_ratio");
        let e = parse("policies = [\"iso\", \"nope\"]\n").unwrap_err();
        assert_eq!(e.key, "policies[1]");
        assert!(e.message.contains("cross-opt-exact"));
    }

    #[test]
    fn custom_policies_resolve() {
        let c = parse(
            "policies = [\"iso-exact\", \"iso\"]\n[[policy]]\nname = \"iso-exact\"\nswarms = \"isolated\"\ngroups = \"image\"\nrule = \"exact\"\n",
        )
        .unwrap();
        let p = c.resolved_policies();
        assert_eq!(p[0].rule, RuleKind::Exact);
        assert_eq!(p[1], PolicyDef::preset("iso").unwrap());
    }
}
