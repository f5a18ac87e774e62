//! `vmswarm bench`: the simulator's speed on fixed scenarios, so that anyone
//! can rerun the README's speed table: every preset on the paper's default
//! setup, at its own 2 requests/s and at 5, then the flash crowd of
//! `configs/flash-crowd.toml` at growing host counts. Runs go one at a
//! time on one thread, so each measures the simulator alone (the
//! machine's other load aside, which the table shows).
//!
//! A flash crowd run has a wall-clock budget. The simulator checks only
//! `[limits]` while it runs, so the budget is turned into
//! `limits.max_events`: the budget times the events/s expected at that
//! size, extrapolated from the smaller sizes that ran. It is an estimate, so
//! a run may stop a little before or after the budget; its wall time is
//! reported either way. Once a run is stopped or goes over the budget, the
//! bigger sizes are skipped, and the table says so.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use crate::input::config::{Config, ConfigError, PolicyDef};
use crate::scenario::Scenario;
use crate::sim::RunError;

use super::probe::MemoryLatency;

/// Why a bench did not finish: a scenario that cannot be drawn, or a run
/// that broke an invariant (a bug, never a measurement).
#[derive(Debug, Clone, PartialEq)]
pub enum BenchError {
    /// A scenario's config or content is bad.
    Config(ConfigError),
    /// A run broke an invariant.
    Run(RunError),
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchError::Config(e) => write!(f, "{e}"),
            BenchError::Run(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<ConfigError> for BenchError {
    fn from(e: ConfigError) -> Self {
        BenchError::Config(e)
    }
}

impl From<RunError> for BenchError {
    fn from(e: RunError) -> Self {
        BenchError::Run(e)
    }
}

/// A config bundled into the binary, so the bench runs from any directory
/// and always measures the same scenarios.
#[derive(Debug, Clone, Copy)]
pub struct BundledConfig {
    /// Its path in the repository, for messages.
    pub file: &'static str,
    /// Its text.
    pub text: &'static str,
}

impl BundledConfig {
    /// Parse and validate it.
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::parse(self.text, Path::new(self.file))
    }
}

/// The paper's Section V setup.
pub const PAPER_DEFAULT: BundledConfig = BundledConfig {
    file: "configs/paper-default.toml",
    text: include_str!("../../configs/paper-default.toml"),
};

/// The flash crowd of issue 9, at 1,000 hosts.
pub const FLASH_CROWD: BundledConfig = BundledConfig {
    file: "configs/flash-crowd.toml",
    text: include_str!("../../configs/flash-crowd.toml"),
};

/// Flash crowd sizes (hosts) run by default.
pub const DEFAULT_HOSTS: [u64; 3] = [1_000, 10_000, 100_000];
/// Flash crowd sizes (hosts) run with `--quick`.
pub const QUICK_HOSTS: [u64; 2] = [1_000, 10_000];
/// Fewest hosts of a flash crowd: 10% of them seed, and at least one must.
pub const MIN_HOSTS: u64 = 10;
/// Most hosts of a flash crowd: about 1.7 kB of memory per host at 100,000
/// hosts, so 10^7 hosts already take tens of GB.
pub const MAX_HOSTS: u64 = 10_000_000;
/// The arrival window of the paper's default in `tiny` mode (s), which
/// makes it about 60 VMs (150 at 5 requests/s): for tests, which must not
/// wait for a real run.
const TINY_WINDOW_S: f64 = 30.0;

/// The request rate of the paper's default's second scenario (requests/s):
/// issue 9 sets a target of its own there, where more leechers are
/// present at once (Fig. 5 goes up to it).
pub const HIGH_RATE_PER_S: f64 = 5.0;

/// Preheated seeders and leechers of a flash crowd of `hosts` hosts: 10%
/// seeders (rounded), the rest leechers, so that they sum to `hosts`.
pub fn split_hosts(hosts: u64) -> (usize, usize) {
    let seeders = (hosts as f64 * 0.1).round() as u64;
    (seeders as usize, (hosts - seeders) as usize)
}

/// What the bench runs, every config checked before anything runs.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The paper's default with the policies to run, named as in the
    /// table: at its own rate, then at [`HIGH_RATE_PER_S`].
    pub paper: Vec<(&'static str, Config)>,
    /// The flash crowd configs with their host counts, smallest first.
    pub flash: Vec<(u64, Config)>,
    /// Wall-clock budget of one flash crowd run (s); infinite for none.
    pub max_wall_s: f64,
    /// Times the whole plan runs, in turn (at least 1).
    pub rounds: usize,
    /// Measure the machine's memory latency before each round
    /// ([`MemoryLatency`]).
    pub probe_memory: bool,
}

/// Default wall-clock budget of one flash crowd run (s).
pub const DEFAULT_MAX_WALL_S: f64 = 120.0;

/// Most rounds `--rounds` takes.
pub const MAX_ROUNDS: usize = 100;

/// What the command line asks of the bench.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Policies instead of the configs' own (all five presets on the
    /// paper's default, `cross-equ` on the flash crowd).
    pub policies: Vec<String>,
    /// Flash crowd sizes (hosts), in any order.
    pub hosts: Vec<u64>,
    /// Wall-clock budget of one flash crowd run (s).
    pub max_wall_s: f64,
    /// Shorten the paper's default to a 30 s window (for tests).
    pub tiny: bool,
    /// Times the whole plan runs, in turn; each row then reports its
    /// fastest round (see [`fastest`]).
    pub rounds: usize,
    /// Measure the machine's memory latency before each round (about a
    /// second a round; [`MemoryLatency`]).
    pub probe_memory: bool,
}

impl Default for PlanOptions {
    /// The command line's defaults: the configs' policies, no sizes, a
    /// 120 s budget, one round.
    fn default() -> Self {
        PlanOptions {
            policies: Vec::new(),
            hosts: Vec::new(),
            max_wall_s: DEFAULT_MAX_WALL_S,
            tiny: false,
            rounds: 1,
            probe_memory: true,
        }
    }
}

impl Plan {
    /// Build every config; an error names the option (`--hosts`,
    /// `--max-wall-s`, `--policy`) and what is allowed.
    pub fn new(opts: &PlanOptions) -> Result<Plan, ConfigError> {
        let flash_file = Path::new(FLASH_CROWD.file);
        let usage = |message: String| ConfigError {
            file: flash_file.to_path_buf(),
            key: String::new(),
            message,
        };
        // Infinity is allowed and means no budget.
        if opts.max_wall_s.is_nan() || opts.max_wall_s <= 0.0 {
            return Err(usage(format!(
                "--max-wall-s {}: must be a number of seconds > 0 (inf for no budget)",
                opts.max_wall_s
            )));
        }
        if !(1..=MAX_ROUNDS).contains(&opts.rounds) {
            return Err(usage(format!(
                "--rounds {}: must be from 1 to {MAX_ROUNDS}",
                opts.rounds
            )));
        }
        let mut paper = PAPER_DEFAULT.config()?;
        if opts.tiny {
            paper.workload.window_s = TINY_WINDOW_S;
        }
        let mut hosts = opts.hosts.clone();
        hosts.sort_unstable();
        hosts.dedup();
        let mut flash = Vec::with_capacity(hosts.len());
        for n in hosts {
            if !(MIN_HOSTS..=MAX_HOSTS).contains(&n) {
                return Err(usage(format!(
                    "--hosts {n}: must be from {MIN_HOSTS} (10% of the hosts are seeders, at \
                     least one) to {MAX_HOSTS}"
                )));
            }
            let mut config = FLASH_CROWD.config()?;
            // The flash crowd has one image, so seeders per image (what
            // `initial_seeders` counts) are all the seeders.
            let (seeders, leechers) = split_hosts(n);
            config.workload.initial_seeders = seeders;
            config.workload.burst_count = leechers;
            if !opts.policies.is_empty() {
                config.set_policies(opts.policies.clone(), flash_file)?;
            }
            config.validate(flash_file)?;
            flash.push((n, config));
        }
        if !opts.policies.is_empty() {
            paper.set_policies(opts.policies.clone(), Path::new(PAPER_DEFAULT.file))?;
        }
        paper.validate(Path::new(PAPER_DEFAULT.file))?;
        let mut high_rate = paper.clone();
        high_rate.workload.rate_per_s = HIGH_RATE_PER_S;
        high_rate.validate(Path::new(PAPER_DEFAULT.file))?;
        Ok(Plan {
            paper: vec![
                (SCENARIO_PAPER, paper),
                (SCENARIO_PAPER_HIGH_RATE, high_rate),
            ],
            flash,
            max_wall_s: opts.max_wall_s,
            rounds: opts.rounds,
            probe_memory: opts.probe_memory,
        })
    }

    /// Run the plan `rounds` times in turn, calling `on_row` with the round
    /// (from 0) as each row is known, and return each row's fastest round
    /// ([`fastest`]). Rounds in turn, rather than each run repeated at
    /// once, so that the machine's drift over minutes (up to 30% on the
    /// README's machine) slows every row alike. An error is a run that
    /// broke an invariant (a bug, never a measurement) or a scenario that
    /// cannot be drawn.
    pub fn run(
        &self,
        stop: &AtomicBool,
        on_row: &mut dyn FnMut(usize, &Row),
    ) -> Result<Vec<Row>, BenchError> {
        let mut rounds = Vec::with_capacity(self.rounds);
        for round in 0..self.rounds {
            // After Ctrl-C, the rounds done so far are the result.
            if round > 0 && interrupted(stop).is_some() {
                break;
            }
            rounds.push(self.run_round(stop, &mut |row| on_row(round, row))?);
        }
        Ok(fastest(&rounds))
    }

    /// One round: the machine's memory latency, then the paper's default
    /// policy by policy, then the flash crowd size by size, calling
    /// `on_row` as each row is known (each row carries the round's
    /// latency). `stop` (Ctrl-C) skips what has not started.
    fn run_round(
        &self,
        stop: &AtomicBool,
        on_row: &mut dyn FnMut(&Row),
    ) -> Result<Vec<Row>, BenchError> {
        let mut rows = Vec::new();
        let probe = self.probe_memory && interrupted(stop).is_none();
        let latency = probe.then(MemoryLatency::measure);
        let mut emit = |mut row: Row, rows: &mut Vec<Row>| {
            if !matches!(row.outcome, Outcome::Skipped(_)) {
                row.latency = latency;
            }
            on_row(&row);
            rows.push(row);
        };
        for (name, config) in &self.paper {
            let paper = Scenario::build(config)?;
            let vms = paper.workload.requests.len();
            for policy in config.resolved_policies() {
                let row = match interrupted(stop) {
                    Some(why) => Row::new(name, &policy.name, vms as u64, vms, why),
                    None => measure(name, &paper, &policy, None)?,
                };
                emit(row, &mut rows);
            }
        }
        // (hosts, events/s of its slowest policy) of the sizes that finished.
        let mut speeds: Vec<(u64, f64)> = Vec::new();
        // Why the sizes still to come are skipped, once one is.
        let mut skip: Option<String> = None;
        for (hosts, config) in &self.flash {
            let skip_size = skip.clone();
            let mut config = config.clone();
            let guard = event_guard(&speeds, *hosts, self.max_wall_s);
            config.limits.max_events = guard;
            // A skipped size is not even drawn: it may be huge.
            let scenario = match &skip_size {
                None => Some(Scenario::build(&config)?),
                Some(_) => None,
            };
            for policy in config.resolved_policies() {
                let why = skip_size.clone().or_else(|| interrupted(stop));
                let row = match (why, &scenario) {
                    (None, Some(scenario)) => measure(SCENARIO_FLASH, scenario, &policy, guard)?,
                    (why, _) => {
                        let vms = config.workload.burst_count;
                        Row::new(
                            SCENARIO_FLASH,
                            &policy.name,
                            *hosts,
                            vms,
                            why.unwrap_or_default(),
                        )
                    }
                };
                if let (Outcome::Done, Some(rate)) = (&row.outcome, row.events_per_s()) {
                    match speeds.last_mut() {
                        Some((n, r)) if n == hosts => *r = r.min(rate),
                        _ => speeds.push((*hosts, rate)),
                    }
                }
                if skip.is_none() {
                    skip = over_budget(&row, self.max_wall_s);
                }
                emit(row, &mut rows);
            }
        }
        Ok(rows)
    }
}

/// Each row's fastest round: of the rounds where the run finished, the one
/// of least wall time, with the smallest peak memory of them (each reading
/// includes what the process held before the run, and after a first round
/// that is the heap the biggest run left to the allocator) and how many
/// rounds finished; a row that finished in no round is its first round's
/// (stopped or skipped, with why). Every round has the same rows in the
/// same order (a skipped run still has one).
pub fn fastest(rounds: &[Vec<Row>]) -> Vec<Row> {
    let Some(first) = rounds.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|i| {
            let done: Vec<&Row> = rounds
                .iter()
                .filter_map(|rows| rows.get(i))
                .filter(|r| r.outcome == Outcome::Done)
                .collect();
            let wall = |r: &&Row| r.wall_s.unwrap_or(f64::INFINITY);
            let Some(best) = done
                .iter()
                .copied()
                .min_by(|a, b| wall(a).total_cmp(&wall(b)))
            else {
                return first[i].clone();
            };
            let mut row = best.clone();
            row.peak_rss_mb = done.iter().filter_map(|r| r.peak_rss_mb).reduce(f64::min);
            row.peak_rss_reset = done.iter().all(|r| r.peak_rss_reset);
            row.finished_rounds = done.len();
            row
        })
        .collect()
}

/// Scenario names in the table and `bench.csv`.
const SCENARIO_PAPER: &str = "paper-default";
/// The paper's default at [`HIGH_RATE_PER_S`] (the name spells the rate:
/// change both together).
const SCENARIO_PAPER_HIGH_RATE: &str = "paper-at-5rps";
const SCENARIO_FLASH: &str = "flash-crowd";

fn interrupted(stop: &AtomicBool) -> Option<String> {
    stop.load(Ordering::SeqCst)
        .then(|| "interrupted (Ctrl-C)".to_string())
}

/// Why the bigger sizes are skipped after `row`, if they are.
fn over_budget(row: &Row, max_wall_s: f64) -> Option<String> {
    match (&row.outcome, row.wall_s) {
        (Outcome::Stopped(_), _) => Some(format!(
            "the {}-host run was stopped by the budget (--max-wall-s {max_wall_s})",
            row.hosts
        )),
        (Outcome::Done, Some(wall_s)) if wall_s > max_wall_s => Some(format!(
            "the {}-host run took {wall_s:.1} s, over the budget (--max-wall-s {max_wall_s})",
            row.hosts
        )),
        _ => None,
    }
}

/// `limits.max_events` for a flash crowd run of `hosts` hosts: the budget
/// times the events/s expected at that size. Per-event cost grows with the
/// crowd, so the expected rate is extrapolated on a log-log line through the
/// last two finished sizes (never faster than the last); after one size it
/// is that size's rate. None before any size has run, or without a budget.
pub fn event_guard(speeds: &[(u64, f64)], hosts: u64, max_wall_s: f64) -> Option<u64> {
    if !max_wall_s.is_finite() {
        return None;
    }
    let rate = match speeds {
        [] => return None,
        [(_, r)] => *r,
        [.., (n0, r0), (n1, r1)] => {
            let slope = if n1 > n0 {
                ((r1 / r0).ln() / (*n1 as f64 / *n0 as f64).ln()).min(0.0)
            } else {
                0.0
            };
            r1 * (hosts as f64 / *n1 as f64).powf(slope)
        }
    };
    Some((rate * max_wall_s).max(1.0) as u64)
}

/// One measured (or skipped) run of `policy` on `scenario`.
fn measure(
    name: &str,
    scenario: &Scenario,
    policy: &PolicyDef,
    guard: Option<u64>,
) -> Result<Row, RunError> {
    let w = &scenario.workload;
    let hosts = (w.requests.len() + w.initial_seeders.len()) as u64;
    let mut row = Row::new(name, &policy.name, hosts, w.requests.len(), String::new());
    row.peak_rss_reset = reset_peak_rss();
    row.load_1m = load_average().map(|l| l[0]);
    let started = Instant::now();
    let result = scenario.run_policy(policy, &mut |_| {});
    let outer_s = started.elapsed().as_secs_f64();
    row.peak_rss_mb = peak_rss_mb();
    match result {
        Ok(run) => {
            let c = &run.output.counters;
            row.events = Some(c.events);
            row.block_transfers = Some(c.block_transfers);
            // The simulation's own time, as `vmswarm run` reports it.
            row.wall_s = Some(c.wall_s);
            row.outcome = Outcome::Done;
            row.finished_rounds = 1;
        }
        Err(RunError::Limit { message, .. }) => {
            // The engine stops as soon as it has processed `max_events`.
            row.events = guard;
            row.wall_s = Some(outer_s);
            row.outcome = Outcome::Stopped(format!(
                "by limits.max_events = {}, the --max-wall-s budget at the events/s \
                 extrapolated from the smaller sizes; {message}",
                guard.unwrap_or_default()
            ));
        }
        Err(e) => return Err(e),
    }
    Ok(row)
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It finished: every VM completed.
    Done,
    /// The time budget's event guard stopped it; why.
    Stopped(String),
    /// It did not run; why.
    Skipped(String),
}

impl Outcome {
    /// `done`, `stopped` or `skipped`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Stopped(_) => "stopped",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// Why it stopped or was skipped; empty when done.
    pub fn note(&self) -> &str {
        match self {
            Outcome::Done => "",
            Outcome::Stopped(why) | Outcome::Skipped(why) => why,
        }
    }
}

/// One row of the bench: a run's size and speed. Unknown values (a run
/// stopped or skipped) are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// `paper-default`, `paper-at-5rps` or `flash-crowd`.
    pub scenario: String,
    /// The policy.
    pub policy: String,
    /// Hosts: VMs plus preheated seeders.
    pub hosts: u64,
    /// VM requests simulated (warm-up included).
    pub vms: usize,
    /// Events processed (for a stopped run, its `max_events`).
    pub events: Option<u64>,
    /// Blocks delivered.
    pub block_transfers: Option<u64>,
    /// Wall-clock time of the simulation (s).
    pub wall_s: Option<f64>,
    /// The process's peak resident set after the run (MB, 10^6 bytes).
    pub peak_rss_mb: Option<f64>,
    /// Whether the peak was reset before the run (else it is the process's
    /// peak so far).
    pub peak_rss_reset: bool,
    /// One-minute load average as the run started.
    pub load_1m: Option<f64>,
    /// How it ended.
    pub outcome: Outcome,
    /// Rounds in which it finished (its fastest is reported; see
    /// [`fastest`]).
    pub finished_rounds: usize,
    /// The machine's memory latency as its round started, when measured
    /// (and the run not skipped).
    pub latency: Option<MemoryLatency>,
}

impl Row {
    /// A row of a run that has not run (yet): skipped for `why`.
    fn new(scenario: &str, policy: &str, hosts: u64, vms: usize, why: String) -> Row {
        Row {
            scenario: scenario.to_string(),
            policy: policy.to_string(),
            hosts,
            vms,
            events: None,
            block_transfers: None,
            wall_s: None,
            peak_rss_mb: None,
            peak_rss_reset: false,
            load_1m: None,
            outcome: Outcome::Skipped(why),
            finished_rounds: 0,
            latency: None,
        }
    }

    /// Blocks delivered per second of wall time.
    pub fn blocks_per_s(&self) -> Option<f64> {
        Some(self.block_transfers? as f64 / self.wall_s?.max(1e-9))
    }

    /// Events processed per second of wall time.
    pub fn events_per_s(&self) -> Option<f64> {
        Some(self.events? as f64 / self.wall_s?.max(1e-9))
    }
}

/// The machine the bench runs on: cores and load, which decide how far its
/// numbers carry to another machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Machine {
    /// Cores this process may use.
    pub cores: usize,
    /// Load average over 1, 5 and 15 minutes (`/proc/loadavg`), when known.
    pub load: Option<[f64; 3]>,
}

impl Machine {
    /// Cores and load now.
    pub fn now() -> Machine {
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            load: load_average(),
        }
    }

    /// `2 cores, load average 1.20 0.80 0.50 (1, 5, 15 min)`.
    pub fn describe(&self) -> String {
        let load = match self.load {
            Some([a, b, c]) => format!("load average {a:.2} {b:.2} {c:.2} (1, 5, 15 min)"),
            None => "load average unknown (no /proc/loadavg)".to_string(),
        };
        format!("{} cores, {load}", self.cores)
    }
}

/// The load averages of `/proc/loadavg` (Linux).
pub fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut fields = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([fields.next()??, fields.next()??, fields.next()??])
}

/// The process's peak resident set (`VmHWM` of `/proc/self/status`), in MB.
pub fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024.0 / 1e6)
}

/// Reset the peak resident set to the current one (Linux 4.0+), so that the
/// next reading is that of one run; false when the kernel refuses.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[derive(Serialize)]
struct CsvRow<'a> {
    scenario: &'a str,
    policy: &'a str,
    hosts: u64,
    vms: usize,
    events: Option<u64>,
    block_transfers: Option<u64>,
    wall_s: Option<f64>,
    blocks_per_s: Option<f64>,
    events_per_s: Option<f64>,
    peak_rss_mb: Option<f64>,
    peak_rss_per_run: bool,
    load_1m: Option<f64>,
    cores: usize,
    status: &'static str,
    finished_rounds: usize,
    chase_256kib_ns: Option<f64>,
    chase_8mib_ns: Option<f64>,
    chase_64mib_ns: Option<f64>,
    note: &'a str,
}

/// `bench.csv`: one row per run (its fastest round); unknown values are
/// empty cells.
pub fn csv(rows: &[Row], machine: &Machine) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut w = csv::Writer::from_writer(&mut out);
    for r in rows {
        let chase_ns = |ns: fn(&MemoryLatency) -> f64| {
            r.latency.as_ref().map(|l| (ns(l) * 10.0).round() / 10.0)
        };
        w.serialize(CsvRow {
            scenario: &r.scenario,
            policy: &r.policy,
            hosts: r.hosts,
            vms: r.vms,
            events: r.events,
            block_transfers: r.block_transfers,
            wall_s: r.wall_s,
            blocks_per_s: r.blocks_per_s().map(f64::round),
            events_per_s: r.events_per_s().map(f64::round),
            peak_rss_mb: r.peak_rss_mb.map(|m| (m * 10.0).round() / 10.0),
            peak_rss_per_run: r.peak_rss_reset,
            load_1m: r.load_1m,
            cores: machine.cores,
            status: r.outcome.name(),
            finished_rounds: r.finished_rounds,
            chase_256kib_ns: chase_ns(|l| l.private_ns),
            chase_8mib_ns: chase_ns(|l| l.shared_ns),
            chase_64mib_ns: chase_ns(|l| l.memory_ns),
            note: r.outcome.note(),
        })
        .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())?;
    drop(w);
    Ok(out)
}

/// The table's header line.
pub fn table_header() -> String {
    format!(
        "{:<14} {:<16} {:>8} {:>8} {:>10} {:>11} {:>8} {:>10} {:>10} {:>8} {:>7} {:>8} {:>8}  status\n",
        "scenario",
        "policy",
        "hosts",
        "VMs",
        "events",
        "transfers",
        "wall_s",
        "blocks/s",
        "events/s",
        "peak_MB",
        "load1m",
        "8MiB_ns",
        "64MiB_ns"
    )
}

/// One line of the table; unknown values show as `-`.
pub fn table_row(r: &Row) -> String {
    fn cell<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
        v.map_or_else(|| "-".to_string(), f)
    }
    format!(
        "{:<14} {:<16} {:>8} {:>8} {:>10} {:>11} {:>8} {:>10} {:>10} {:>8} {:>7} {:>8} {:>8}  {}\n",
        r.scenario,
        r.policy,
        r.hosts,
        r.vms,
        cell(r.events, |v| v.to_string()),
        cell(r.block_transfers, |v| v.to_string()),
        cell(r.wall_s, |v| format!("{v:.2}")),
        cell(r.blocks_per_s(), |v| format!("{v:.0}")),
        cell(r.events_per_s(), |v| format!("{v:.0}")),
        cell(r.peak_rss_mb, |v| format!("{v:.1}")),
        cell(r.load_1m, |v| format!("{v:.2}")),
        cell(r.latency, |l| format!("{:.1}", l.shared_ns)),
        cell(r.latency, |l| format!("{:.1}", l.memory_ns)),
        r.outcome.name()
    )
}

/// What the table's columns mean, and why runs stopped or were skipped.
pub fn table_notes(rows: &[Row]) -> String {
    let mut s = String::from(
        "hosts: VMs plus preheated seeders; wall_s: the simulation alone, on one thread; \
         load1m: the 1-minute load average as the run started\n",
    );
    if rows.iter().any(|r| r.latency.is_some()) {
        s.push_str(
            "8MiB_ns, 64MiB_ns: one step of a chase of dependent loads through 8 MiB and \
             64 MiB of memory as the run's round started (the simulator waits on such loads; \
             bench.csv also has 256 KiB)\n",
        );
    }
    s.push_str(if rows.iter().any(|r| r.peak_rss_reset) {
        "peak_MB: the process's peak resident set (VmHWM) during the run, reset before it, so it \
         includes what the process already held\n"
    } else {
        "peak_MB: the process's peak resident set so far (VmHWM; the kernel would not reset it \
         between runs)\n"
    });
    for r in rows.iter().filter(|r| r.outcome != Outcome::Done) {
        s.push_str(&format!(
            "{} {} hosts, {}: {}: {}\n",
            r.scenario,
            r.hosts,
            r.policy,
            r.outcome.name(),
            r.outcome.note()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_split_into_seeders_and_leechers_that_sum() {
        assert_eq!(split_hosts(1_000), (100, 900));
        assert_eq!(split_hosts(10), (1, 9));
        assert_eq!(split_hosts(15), (2, 13));
        assert_eq!(split_hosts(1_000_000), (100_000, 900_000));
    }

    #[test]
    fn the_guard_extrapolates_the_slowdown() {
        assert_eq!(event_guard(&[], 1_000, 120.0), None);
        assert_eq!(event_guard(&[(1_000, 1e5)], 10_000, f64::INFINITY), None);
        // One size: its rate.
        assert_eq!(event_guard(&[(1_000, 1e5)], 10_000, 10.0), Some(1_000_000));
        // Rate halves per 10x: expect half again at the next 10x.
        let g = event_guard(&[(1_000, 1e5), (10_000, 5e4)], 100_000, 10.0).unwrap();
        assert!((g as f64 - 250_000.0).abs() < 2.0, "{g}");
        // A speed-up is not extrapolated.
        assert_eq!(
            event_guard(&[(1_000, 1e5), (10_000, 2e5)], 100_000, 10.0),
            Some(2_000_000)
        );
    }

    #[test]
    fn options_out_of_range_name_the_option() {
        let opts = |hosts: Vec<u64>, max_wall_s: f64| PlanOptions {
            hosts,
            max_wall_s,
            ..PlanOptions::default()
        };
        let e = Plan::new(&opts(vec![5], 120.0)).unwrap_err().to_string();
        assert!(e.contains("--hosts 5: must be from 10"), "{e}");
        let e = Plan::new(&opts(vec![1_000], f64::NAN))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--max-wall-s NaN"), "{e}");
        let e = Plan::new(&PlanOptions {
            policies: vec!["nope".into()],
            ..opts(vec![1_000], 1.0)
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("--policy `nope`"), "{e}");
        let plan = Plan::new(&opts(vec![10_000, 1_000, 1_000], 1.0)).unwrap();
        // The paper's default at its own rate, then at the high one, alike
        // but for the rate.
        let [(name, own), (high_name, high)] = &plan.paper[..] else {
            panic!("{} paper scenarios", plan.paper.len());
        };
        assert_eq!((*name, *high_name), ("paper-default", "paper-at-5rps"));
        assert_eq!(own.workload.rate_per_s, 2.0);
        assert_eq!(high.workload.rate_per_s, HIGH_RATE_PER_S);
        assert_eq!(high.resolved_policies(), own.resolved_policies());
        assert_eq!(high.workload.window_s, own.workload.window_s);
        let sizes: Vec<u64> = plan.flash.iter().map(|(n, _)| *n).collect();
        assert_eq!(sizes, [1_000, 10_000]);
        assert_eq!(plan.flash[1].1.workload.burst_count, 9_000);
        assert_eq!(plan.flash[1].1.workload.initial_seeders, 1_000);
    }

    #[test]
    fn each_row_reports_its_fastest_finished_round() {
        let row = |wall_s: Option<f64>, peak: f64, outcome: Outcome| Row {
            wall_s,
            peak_rss_mb: Some(peak),
            peak_rss_reset: true,
            block_transfers: Some(100),
            finished_rounds: usize::from(outcome == Outcome::Done),
            outcome,
            ..Row::new(SCENARIO_FLASH, "cross-equ", 10, 9, String::new())
        };
        let stopped = || Outcome::Stopped("by the budget".into());
        let skipped = || Outcome::Skipped("too big".into());
        let rounds = vec![
            vec![
                row(Some(2.0), 50.0, Outcome::Done),
                row(Some(9.0), 70.0, stopped()),
                row(None, 0.0, skipped()),
            ],
            vec![
                row(Some(1.0), 40.0, Outcome::Done),
                row(Some(3.0), 60.0, Outcome::Done),
                row(None, 0.0, skipped()),
            ],
            vec![
                row(Some(1.5), 45.0, Outcome::Done),
                row(None, 0.0, skipped()),
                row(None, 0.0, skipped()),
            ],
        ];
        let best = fastest(&rounds);
        assert_eq!(best.len(), 3);
        // The least wall time of the three, the smallest peak.
        assert_eq!(best[0].wall_s, Some(1.0));
        assert_eq!(best[0].peak_rss_mb, Some(40.0));
        assert_eq!(best[0].finished_rounds, 3);
        assert_eq!(best[0].blocks_per_s(), Some(100.0));
        // Only finished rounds count: a stopped run did not do the whole
        // work.
        assert_eq!(best[1].wall_s, Some(3.0));
        assert_eq!(best[1].peak_rss_mb, Some(60.0));
        assert_eq!(best[1].finished_rounds, 1);
        // Never finished: the first round's row, with why.
        assert_eq!(best[2].outcome, skipped());
        assert_eq!(best[2].finished_rounds, 0);
        assert!(fastest(&[]).is_empty());
    }

    #[test]
    fn after_ctrl_c_no_further_round_starts() {
        let plan = Plan::new(&PlanOptions {
            policies: vec!["cross-equ".into()],
            hosts: vec![200],
            tiny: true,
            rounds: 3,
            ..PlanOptions::default()
        })
        .unwrap();
        let stop = AtomicBool::new(true);
        let mut seen = Vec::new();
        let rows = plan.run(&stop, &mut |round, _| seen.push(round)).unwrap();
        // One round, every run skipped as interrupted: the paper's default
        // at both rates and the crowd.
        assert_eq!(seen, [0, 0, 0]);
        assert_eq!(rows.len(), 3);
        assert!(rows.iter().all(|r| r.outcome.note().contains("Ctrl-C")));
    }

    #[test]
    fn rounds_must_be_at_least_one() {
        for rounds in [0, MAX_ROUNDS + 1] {
            let e = Plan::new(&PlanOptions {
                hosts: vec![1_000],
                rounds,
                ..PlanOptions::default()
            })
            .unwrap_err()
            .to_string();
            assert!(
                e.contains(&format!("--rounds {rounds}: must be from 1")),
                "{e}"
            );
        }
        let plan = Plan::new(&PlanOptions {
            hosts: vec![1_000, 10_000],
            rounds: 3,
            ..PlanOptions::default()
        })
        .unwrap();
        assert_eq!(plan.rounds, 3);
    }

    #[test]
    fn every_preset_runs_the_same_flash_crowd() {
        // What configs/flash-crowd.toml claims: with one image and no server,
        // the swarm models coincide and the server's rule has nothing to
        // allocate, so one policy measures them all.
        let plan = Plan::new(&PlanOptions {
            policies: crate::input::config::PRESETS
                .iter()
                .map(|p| p.to_string())
                .collect(),
            hosts: vec![200],
            max_wall_s: 1.0,
            tiny: true,
            rounds: 1,
            probe_memory: false,
        })
        .unwrap();
        let config = &plan.flash[0].1;
        let scenario = Scenario::build(config).unwrap();
        let runs: Vec<_> = config
            .resolved_policies()
            .iter()
            .map(|p| scenario.run_policy(p, &mut |_| {}).unwrap().output)
            .collect();
        assert_eq!(runs.len(), 5);
        for run in &runs[1..] {
            assert_eq!(run.vms, runs[0].vms);
            assert_eq!(run.counters.events, runs[0].counters.events);
        }
    }
}
