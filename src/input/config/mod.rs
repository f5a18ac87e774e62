//! Experiment configuration: the TOML schema, its defaults and its validation.
//!
//! Every field has a default (the paper's Section V setup where the paper
//! gives one), so an empty file is a valid config. Unknown keys are rejected
//! by serde (`deny_unknown_fields`); out-of-range values are rejected by
//! [`Config::validate`], and every error names the file and the key.
//!
//! One file per section (`content`, `workload`, `peers`, `server`,
//! `subgradient`, `sweep`, `limits`, and `policy` for `policies` and
//! `[[policy]]`), each holding the section's types, defaults and checks;
//! `errors` holds [`ConfigError`] and the shared range checks.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

use crate::input::topology::TopologyConfig;

mod content;
mod errors;
mod estimate;
mod limits;
mod peers;
mod policy;
mod server;
mod subgradient;
mod sweep;
mod workload;

pub use content::{ContentConfig, ContentKind, MAX_BLOCK_MB};
use errors::Checks;
pub use errors::ConfigError;
pub(crate) use errors::describe_toml_error;
pub use estimate::{Estimate, RunSize};
pub use limits::{DEFAULT_MAX_BLOCK_TRANSFERS, DEFAULT_MAX_MEMORY_GB, LimitsConfig};
pub use peers::{
    DEFAULT_SOURCE_SAMPLES, Endgame, MAX_RATE_MBPS, MAX_UPLOAD_SLOTS, PeersConfig, PieceSelection,
    SourceChoice,
};
pub use policy::{Grouping, OPT_IN_PRESETS, PRESETS, PolicyDef, RuleKind, SwarmModel};
pub use server::{MAX_ARRIVAL_TICKS, ServerConfig};
pub use subgradient::{SubgradientConfig, SubgradientParams};
pub use sweep::{Axis, QuickConfig, SweepConfig};
pub use workload::{ArrivalKind, PopularityKind, WorkloadConfig};

/// The largest seed: TOML integers are signed 64-bit, so a larger seed
/// could not be written back into `manifest.toml` or a sweep's configs.
pub const MAX_SEED: u64 = i64::MAX as u64;

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

    /// Check every value's range; the error names the first bad key. The
    /// sections are checked in order: seed, policies, content, workload,
    /// peers, server, limits, subgradient, sweep; then the estimated cost
    /// of a run against the limits ([`Config::check_cost`]).
    pub fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let check = Checks::new(file);
        if self.seed > MAX_SEED {
            return Err(check.err(
                "seed",
                format!(
                    "must be an integer from 0 to {MAX_SEED}, TOML's integer range, \
                     in the config and in --seed alike (got {})",
                    self.seed
                ),
            ));
        }
        self.validate_policies(&check)?;
        self.content.validate(&check)?;
        self.workload.validate(&check)?;
        self.peers.validate(&check)?;
        self.server.validate(&self.workload, &check)?;
        crate::input::topology::validate(self, file)?;
        self.validate_stream(&check)?;
        self.limits.validate(&check)?;
        self.subgradient.validate(&check)?;
        self.sweep.validate(self, &check)?;
        self.check_cost(&RunSize::from_config(self), file)
    }
}

impl Config {
    /// `workload.stream` reuses a departed peer's slot for the next arrival;
    /// the max-min network of racks and download caps keeps per-host state
    /// of its own that is not reused yet, so the two do not combine.
    fn validate_stream(&self, check: &Checks) -> Result<(), ConfigError> {
        if !self.workload.stream {
            return Ok(());
        }
        let conflict = if self.topology.is_some() {
            Some("a [topology] table")
        } else if self.peers.download_cap_mbps.is_some() {
            Some("peers.download_cap_mbps")
        } else {
            None
        };
        match conflict {
            Some(what) => Err(check.err(
                "workload.stream",
                format!(
                    "cannot be combined with {what} (the max-min network keeps every host's \
                     links for the whole run); allowed: stream = false, or no racks and no \
                     download cap"
                ),
            )),
            None => Ok(()),
        }
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
