//! `policies` and `[[policy]]`: which policies run, the presets, and
//! policies of your own (swarm model x grouping x rule).

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Config;
use super::errors::{Checks, ConfigError};

/// The names of the built-in policies (docs/model.md section 5).
pub const PRESETS: [&str; 5] = [
    "iso",
    "cross-equ",
    "cross-prop",
    "cross-opt",
    "cross-opt-exact",
];

/// Built-in policies that configs name to run, outside the default list:
/// `cross-oldest`, our rule aimed at download times (`docs/policies.md`).
pub const OPT_IN_PRESETS: [&str; 1] = ["cross-oldest"];

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
    /// Oldest VM first, with tick caps and server-only floors (ours;
    /// `policy::OldestFirst`).
    OldestFirst,
    /// Water-filling on `sqrt(n^g R^g)`, the fluid optimum of the summed
    /// download times, with server-only floors (ours; `policy::FluidMean`).
    FluidMean,
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
    /// `equal`, `proportional`, `subgradient`, `exact`, `exact-available`,
    /// `oldest-first`, `fluid-mean` or `fixed`.
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
            "cross-oldest" => (Cross, Image, OldestFirst),
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

    /// Check a definition's name: not empty, not a preset's, not the name
    /// of one of the `earlier` definitions. `i` is its index in `[[policy]]`.
    fn validate_name(
        &self,
        i: usize,
        earlier: &[PolicyDef],
        check: &Checks,
    ) -> Result<(), ConfigError> {
        let key = format!("policy[{i}].name");
        if self.name.trim().is_empty() {
            return Err(check.err(&key, "must not be empty".into()));
        }
        if PolicyDef::preset(&self.name).is_some() {
            return Err(check.err(
                &key,
                format!(
                    "`{}` is a preset's name; a policy of your own needs another name (presets: {}, {})",
                    self.name,
                    PRESETS.join(", "),
                    OPT_IN_PRESETS.join(", ")
                ),
            ));
        }
        if earlier.iter().any(|d| d.name == self.name) {
            return Err(check.err(&key, format!("`{}` is defined twice", self.name)));
        }
        Ok(())
    }

    /// Check `shares`: required by, and only allowed with, the `fixed`
    /// rule; non-negative, summing to at most 1.
    fn validate_shares(&self, i: usize, check: &Checks) -> Result<(), ConfigError> {
        let key = format!("policy[{i}].shares");
        match (&self.shares, self.rule) {
            (None, RuleKind::Fixed) => {
                return Err(check.err(&key, "is required when rule = \"fixed\"".into()));
            }
            (Some(_), rule) if rule != RuleKind::Fixed => {
                return Err(check.err(&key, "is only allowed when rule = \"fixed\"".into()));
            }
            (Some(shares), _) => {
                if shares.iter().any(|s| !s.is_finite() || *s < 0.0) {
                    return Err(check.err(&key, "every share must be a finite number >= 0".into()));
                }
                let total: f64 = shares.iter().sum();
                if total > 1.0 + 1e-9 {
                    return Err(
                        check.err(&key, format!("shares must sum to at most 1 (got {total})"))
                    );
                }
            }
            (None, _) => {}
        }
        Ok(())
    }
}

impl Config {
    /// The policies to run, resolved to their definitions, in `policies` order.
    /// Names are checked by [`Config::validate`].
    pub fn resolved_policies(&self) -> Vec<PolicyDef> {
        self.policies
            .iter()
            .filter_map(|name| self.find_policy(name))
            .collect()
    }

    pub(crate) fn find_policy(&self, name: &str) -> Option<PolicyDef> {
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
            "{}, {}{}",
            PRESETS.join(", "),
            OPT_IN_PRESETS.join(", "),
            if custom.is_empty() {
                String::new()
            } else {
                format!(", or one defined in [[policy]]: {}", custom.join(", "))
            }
        )
    }

    /// Check `policies` and `[[policy]]`: every definition's name, then
    /// every definition's shares, then the list run.
    pub(crate) fn validate_policies(&self, check: &Checks) -> Result<(), ConfigError> {
        if self.policies.is_empty() {
            return Err(check.err("policies", "must name at least one policy".to_string()));
        }
        for (i, def) in self.policy.iter().enumerate() {
            def.validate_name(i, &self.policy[..i], check)?;
        }
        for (i, def) in self.policy.iter().enumerate() {
            def.validate_shares(i, check)?;
        }
        for (i, name) in self.policies.iter().enumerate() {
            if self.find_policy(name).is_none() {
                return Err(check.err(
                    &format!("policies[{i}]"),
                    format!(
                        "unknown policy `{name}`; allowed: {}",
                        self.known_policies()
                    ),
                ));
            }
            if self.policies[..i].contains(name) {
                return Err(check.err(
                    &format!("policies[{i}]"),
                    format!("`{name}` is listed twice"),
                ));
            }
        }
        Ok(())
    }
}
