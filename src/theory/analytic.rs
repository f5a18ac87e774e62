//! The analytic (fluid) model of the paper's Section III (docs/model.md section 8):
//! closed-form equilibria, optimal server allocations and the fluid ODEs.
//!
//! # One swarm, three uses
//!
//! Every swarm of both models is the same fluid swarm. It has an arrival
//! rate `lambda`, a content size `S` each peer downloads, a per-peer upload
//! `c` spent in this swarm, a departure rate `gamma`, an efficiency `eta`,
//! and gets a server rate `u`. With `x` leechers and `y` seeders,
//!
//! ```text
//! x' = lambda - (u + c (eta x + y)) / S
//! y' =          (u + c (eta x + y)) / S - gamma y
//! ```
//!
//! whose equilibrium is `y = lambda / gamma`,
//! `x = (lambda / eta) (S / c - 1 / gamma) - u / (eta c)` and, by Little's
//! law, `T_d = x / lambda`. The paper's systems are instances of it:
//!
//! | swarm | `lambda` | `S` | `c` | equations |
//! |---|---|---|---|---|
//! | isolated, image `i` | `lambda_i` | `F` | `u_c` | ODE before (1); (1), (2) |
//! | cross, Swarm `i` (unique chunks) | `lambda_i` | `(1 - beta) F` | `(1 - theta) u_c` | ODE before (6); (6) |
//! | cross, Swarm 0 (common chunks) | `lambda = sum lambda_i` | `beta F` | `theta u_c` | ODE before (7); (7) |
//!
//! `T_d` is affine in the server rate, `T_d(u) = a - b u` ([`LinearTime`]),
//! so minimising `max T_d` over allocations (Theorems III.1 and III.2) is
//! water-filling ([`water_fill`]).
//!
//! # Where the closed forms stop
//!
//! When the closed form gives `x <= 0`, server and seeders can carry more
//! than the arrivals bring: there is no positive equilibrium, leechers are
//! served as they arrive (the model has no download cap), so in the fluid
//! limit `x = 0` and the time is 0. Results say so ([`Regime`]) instead of
//! reporting a negative time.
//!
//! # Inconsistencies in the paper's formulas
//!
//! - The printed ODE for cross Swarm `i` completes peers at
//!   `(u_s^i + u_c (1 - theta)(eta x + y)) / ((1 - beta) F)` in the `x`
//!   equation but at `(u_s^i + u_c (eta x + y)) / F` in the `y` equation.
//!   Those two rates differ, peers would be created or lost between the
//!   classes, and the equilibrium would not have `y_i = lambda_i / gamma_i`
//!   as printed with eq. (6). We use the `x` equation's rate in both, the
//!   only choice that reproduces eq. (6) and matches Swarm 0's ODE.
//! - Theorems III.1 and III.2 say the optimum equalises every `T_d`. That
//!   holds only if every swarm gets a positive server rate: problem (3) has
//!   no `u_s^i >= 0` constraint, and with one a swarm already faster than
//!   the common level gets nothing and stays faster (water-filling).
//! - Theorem III.2's proof calls the problem an LP "by the same method", but
//!   `theta` enters as `1/theta` and `1/(1 - theta)`: it is an LP only for a
//!   fixed `theta`. The optimal level is quasi-convex in `theta` (see
//!   [`optimal_cross_allocation`]), which is what makes a 1-D search sound.
//! - With equal `eta` and `gamma` in all `K + 1` swarms, the optimal level
//!   at any `theta` that serves every swarm is
//!   `(F / u_c - 1 / gamma - u_s / (lambda u_c)) / eta`: independent of
//!   `theta` and equal to the isolated model's optimum. `theta = beta`
//!   (eq. 9) is one point of that flat minimum, not the unique optimum, and
//!   in this fluid model the cross model gains nothing over the isolated one
//!   unless `eta_0` or `gamma_0` differ from the image swarms' (Figure 3's
//!   gain must come from such a difference).
//! - Eq. (8) writes the budget as `sum_{i=0}^K u_i^s` (index typo for
//!   `u_s^i`).

/// Parameters of one image's swarm (paper Table I).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SwarmParams {
    /// `lambda_i`: request rate of the image (req/s), > 0.
    pub lambda_per_s: f64,
    /// `gamma_i`: departure rate of a seeder, 1 / mean seeding time (1/s), > 0.
    pub gamma_per_s: f64,
    /// `eta_i`: fraction of a leecher's upload that is used, in (0, 1].
    pub eta: f64,
}

/// The isolated-image model (Section III.A): one swarm per image, data is
/// exchanged only within a swarm.
#[derive(Debug, Clone, PartialEq)]
pub struct IsolatedModel {
    /// `F`: image size (Mb), the same for every image.
    pub file_mb: f64,
    /// `u_c`: upload capacity of a VM instance (Mb/s).
    pub u_c_mbps: f64,
    /// The image swarms `1..=K`, in order.
    pub swarms: Vec<SwarmParams>,
}

/// The cross-image model (Section III.B): every image holds the same common
/// chunks of total size `beta F`, exchanged by all peers in Swarm 0; the
/// rest of each image is exchanged in its own Swarm `i`.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossModel {
    /// `F`: image size (Mb), the same for every image.
    pub file_mb: f64,
    /// `u_c`: upload capacity of a VM instance (Mb/s).
    pub u_c_mbps: f64,
    /// `beta`: common fraction of every image, in (0, 1).
    pub beta: f64,
    /// `gamma_0`: departure rate of a Swarm 0 seeder (1/s), > 0.
    pub common_gamma_per_s: f64,
    /// `eta_0`: efficiency of Swarm 0, in (0, 1].
    pub common_eta: f64,
    /// The image swarms `1..=K` (unique chunks), in order.
    pub swarms: Vec<SwarmParams>,
}

/// One fluid swarm, the common form of every swarm in both models (see the
/// module docs for how the paper's swarms map onto it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FluidSwarm {
    /// Arrival rate of peers into the swarm (req/s), > 0.
    pub arrival_per_s: f64,
    /// Content each peer downloads in this swarm (Mb), > 0.
    pub content_mb: f64,
    /// Upload a peer spends in this swarm (Mb/s), > 0.
    pub peer_upload_mbps: f64,
    /// Departure rate of a seeder (1/s), > 0.
    pub gamma_per_s: f64,
    /// Efficiency of leechers' upload, in (0, 1].
    pub eta: f64,
}

/// A distribution time affine in the server rate:
/// `T_d(u) = intercept_s - slope_s_per_mbps * u` (eq. 2, 6 or 7 rearranged).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearTime {
    /// `a`: the time with no server help (s); may be <= 0.
    pub intercept_s: f64,
    /// `b = 1 / (lambda eta c)`: time saved per Mb/s of server rate, > 0.
    pub slope_s_per_mbps: f64,
}

/// Which side of the closed form's range a swarm (or an optimum) is on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regime {
    /// The closed form gives `x > 0`: peers' upload is the bottleneck and
    /// `t_d_s` is the mean distribution time.
    UploadConstrained {
        /// Mean distribution time (s), > 0.
        t_d_s: f64,
    },
    /// The closed form gives `x <= 0`: server and seeders alone carry the
    /// load, there is no positive solution, and in the fluid limit leechers
    /// are served as they arrive.
    ServerAndSeedersSuffice,
}

/// The fluid equilibrium of one swarm (eqs. 1-2, 6, 7).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Equilibrium {
    /// Mean number of leechers; 0 when server and seeders suffice.
    pub x: f64,
    /// Mean number of seeders, `lambda / gamma`.
    pub y: f64,
    /// Whether the closed form applies, and the time if it does.
    pub regime: Regime,
}

/// An allocation of the server's upload over swarms, with the common time
/// it reaches.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// `u_s^i` per swarm (Mb/s), >= 0, summing to the budget.
    pub u_s_mbps: Vec<f64>,
    /// `max_i T_d^i` under this allocation.
    pub common: Regime,
}

/// The optimum of Theorem III.2: `theta`, the allocation and the time.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossOptimum {
    /// `theta*`: fraction of peer upload given to Swarm 0, in (0, 1).
    pub theta: f64,
    /// `u_s^0..u_s^K` (Mb/s), index 0 being Swarm 0.
    pub u_s_mbps: Vec<f64>,
    /// `max(T_d^0, ..., T_d^K)` at the optimum.
    pub common: Regime,
}

/// Settings of the fixed-step RK4 integration of the fluid ODEs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OdeSettings {
    /// Step (s), > 0; shortened slightly so whole steps end at the horizon.
    pub step_s: f64,
    /// Time to integrate to (s), > 0.
    pub horizon_s: f64,
    /// Record the state every this many steps (>= 1); the start and the
    /// horizon are always recorded.
    pub record_every_steps: usize,
}

/// One recorded point of a fluid trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct FluidState {
    /// Time since the empty start (s).
    pub t_s: f64,
    /// Leechers per swarm.
    pub x: Vec<f64>,
    /// Seeders per swarm.
    pub y: Vec<f64>,
}

/// Mean and maximum distribution time over images (what Figures 3-4 plot).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeSummary {
    /// `sum_i lambda_i T_i / lambda`: the mean over requests (s).
    pub weighted_mean_s: f64,
    /// `max_i T_i` (s).
    pub max_s: f64,
}

impl Regime {
    /// The regime of a closed-form value: positive is a time, anything else
    /// means server and seeders suffice.
    pub fn from_closed_form_s(value_s: f64) -> Regime {
        if value_s > 0.0 {
            Regime::UploadConstrained { t_d_s: value_s }
        } else {
            Regime::ServerAndSeedersSuffice
        }
    }

    /// The fluid-limit time (s): `t_d_s`, or 0 when server and seeders
    /// suffice (the model has no download cap, so a leecher that is not
    /// upload-constrained finishes at once).
    pub fn fluid_time_s(&self) -> f64 {
        match *self {
            Regime::UploadConstrained { t_d_s } => t_d_s,
            Regime::ServerAndSeedersSuffice => 0.0,
        }
    }

    /// The slower of two regimes; in the cross model an image is done when
    /// both its Swarm 0 and Swarm `i` parts are (Section III.B, before eq. 8).
    pub fn slower(self, other: Regime) -> Regime {
        if other.fluid_time_s() > self.fluid_time_s() {
            other
        } else {
            self
        }
    }
}

impl LinearTime {
    /// The closed form's value at server rate `u_s_mbps` (s). Not clamped:
    /// it is negative where server and seeders suffice.
    pub fn value_s(&self, u_s_mbps: f64) -> f64 {
        self.intercept_s - self.slope_s_per_mbps * u_s_mbps
    }

    /// The server rate that brings the time down to `level_s`, or 0 if the
    /// swarm is already at or below it.
    pub fn rate_for_level_mbps(&self, level_s: f64) -> f64 {
        ((self.intercept_s - level_s) / self.slope_s_per_mbps).max(0.0)
    }
}

impl FluidSwarm {
    /// The time as an affine function of the server rate: `a = (S/c -
    /// 1/gamma) / eta`, `b = 1 / (lambda eta c)` (eq. 2; eqs. 6 and 7 with
    /// the cross model's `S` and `c`).
    ///
    /// # Panics
    /// If a parameter is out of range (see the field docs).
    pub fn linear_time(&self) -> LinearTime {
        self.validate();
        let s = self;
        LinearTime {
            intercept_s: (s.content_mb / s.peer_upload_mbps - 1.0 / s.gamma_per_s) / s.eta,
            slope_s_per_mbps: 1.0 / (s.arrival_per_s * s.eta * s.peer_upload_mbps),
        }
    }

    /// The equilibrium at server rate `u_s_mbps`: `x` by eq. (1) (eq. 6 or
    /// 7's numerator in the cross model), `y = lambda / gamma`, `T_d = x /
    /// lambda` (eq. 2, Little's law), or the no-solution regime if `x <= 0`.
    ///
    /// # Panics
    /// If a parameter is out of range or `u_s_mbps` is negative or not finite.
    pub fn equilibrium(&self, u_s_mbps: f64) -> Equilibrium {
        self.validate();
        check_rate(u_s_mbps);
        let s = self;
        // Eq. (1): seeders leave at gamma and are fed at lambda in equilibrium.
        let y = s.arrival_per_s / s.gamma_per_s;
        let x = s.arrival_per_s / s.eta * (s.content_mb / s.peer_upload_mbps - 1.0 / s.gamma_per_s)
            - u_s_mbps / (s.eta * s.peer_upload_mbps);
        if x > 0.0 {
            let t_d_s = x / s.arrival_per_s; // eq. (2)
            Equilibrium {
                x,
                y,
                regime: Regime::UploadConstrained { t_d_s },
            }
        } else {
            Equilibrium {
                x: 0.0,
                y,
                regime: Regime::ServerAndSeedersSuffice,
            }
        }
    }

    /// Peers completing per second at state `(x, y)`. At the boundary
    /// `x = 0` the swarm cannot complete more peers than arrive: the surplus
    /// capacity has no one to serve, so the rate is capped at `lambda`.
    fn completion_per_s(&self, u_s_mbps: f64, x: f64, y: f64) -> f64 {
        let x = x.max(0.0);
        let capacity_mbps = u_s_mbps + self.peer_upload_mbps * (self.eta * x + y);
        let rate = capacity_mbps / self.content_mb;
        if x == 0.0 {
            rate.min(self.arrival_per_s)
        } else {
            rate
        }
    }

    /// `(x', y')`: the ODE of the module docs (before eqs. 1, 6 and 7), with
    /// one completion rate shared by both equations.
    fn derivative(&self, u_s_mbps: f64, [x, y]: [f64; 2]) -> [f64; 2] {
        let done = self.completion_per_s(u_s_mbps, x, y);
        [self.arrival_per_s - done, done - self.gamma_per_s * y]
    }

    /// One classical RK4 step. Leechers cannot be negative: where the
    /// service term would drive `x` below 0 (server and seeders suffice) it
    /// is clamped at 0, the fluid model's boundary.
    fn rk4_step(&self, u_s_mbps: f64, state: [f64; 2], dt_s: f64) -> [f64; 2] {
        let f = |s| self.derivative(u_s_mbps, s);
        let k1 = f(state);
        let k2 = f(add_scaled(state, dt_s / 2.0, k1));
        let k3 = f(add_scaled(state, dt_s / 2.0, k2));
        let k4 = f(add_scaled(state, dt_s, k3));
        let slope = [
            (k1[0] + 2.0 * k2[0] + 2.0 * k3[0] + k4[0]) / 6.0,
            (k1[1] + 2.0 * k2[1] + 2.0 * k3[1] + k4[1]) / 6.0,
        ];
        let [x, y] = add_scaled(state, dt_s, slope);
        [x.max(0.0), y]
    }

    fn validate(&self) {
        let s = self;
        assert!(
            positive(s.arrival_per_s)
                && positive(s.content_mb)
                && positive(s.peer_upload_mbps)
                && positive(s.gamma_per_s),
            "analytic: arrival, content, upload and gamma must be positive and finite: {s:?}"
        );
        assert!(
            s.eta > 0.0 && s.eta <= 1.0,
            "analytic: eta must be in (0, 1]: {s:?}"
        );
    }
}

impl IsolatedModel {
    /// `lambda = sum_i lambda_i` (req/s).
    pub fn lambda_per_s(&self) -> f64 {
        self.swarms.iter().map(|s| s.lambda_per_s).sum()
    }

    /// The image swarms as fluid swarms: `S = F`, `c = u_c`.
    ///
    /// # Panics
    /// If there is no swarm.
    pub fn fluid_swarms(&self) -> Vec<FluidSwarm> {
        assert!(!self.swarms.is_empty(), "analytic: the model has no swarm");
        self.swarms
            .iter()
            .map(|p| FluidSwarm {
                arrival_per_s: p.lambda_per_s,
                content_mb: self.file_mb,
                peer_upload_mbps: self.u_c_mbps,
                gamma_per_s: p.gamma_per_s,
                eta: p.eta,
            })
            .collect()
    }
}

impl CrossModel {
    /// `lambda = sum_i lambda_i`, also Swarm 0's arrival rate (req/s).
    pub fn lambda_per_s(&self) -> f64 {
        self.swarms.iter().map(|s| s.lambda_per_s).sum()
    }

    /// Swarm 0 then Swarms `1..=K` as fluid swarms for a given `theta`:
    /// Swarm 0 has `S = beta F`, `c = theta u_c`, arrival `lambda`; Swarm
    /// `i` has `S = (1 - beta) F`, `c = (1 - theta) u_c`, arrival `lambda_i`.
    ///
    /// # Panics
    /// If `beta` or `theta` is outside (0, 1), or there is no image swarm.
    pub fn fluid_swarms(&self, theta: f64) -> Vec<FluidSwarm> {
        assert!(!self.swarms.is_empty(), "analytic: the model has no swarm");
        assert!(in_open_unit(self.beta), "analytic: beta must be in (0, 1)");
        assert!(in_open_unit(theta), "analytic: theta must be in (0, 1)");
        let common = FluidSwarm {
            arrival_per_s: self.lambda_per_s(),
            content_mb: self.beta * self.file_mb,
            peer_upload_mbps: theta * self.u_c_mbps,
            gamma_per_s: self.common_gamma_per_s,
            eta: self.common_eta,
        };
        let unique = self.swarms.iter().map(|p| FluidSwarm {
            arrival_per_s: p.lambda_per_s,
            content_mb: (1.0 - self.beta) * self.file_mb,
            peer_upload_mbps: (1.0 - theta) * self.u_c_mbps,
            gamma_per_s: p.gamma_per_s,
            eta: p.eta,
        });
        std::iter::once(common).chain(unique).collect()
    }
}

/// Equilibria of the isolated model's swarms at the given server rates
/// (eqs. 1-2).
///
/// # Panics
/// If `u_s_mbps` has not one rate per swarm, or a parameter is out of range.
pub fn isolated_equilibria(model: &IsolatedModel, u_s_mbps: &[f64]) -> Vec<Equilibrium> {
    equilibria(&model.fluid_swarms(), u_s_mbps)
}

/// Equilibria of the cross model at `theta`: index 0 is Swarm 0 (eq. 7),
/// indices `1..=K` the image swarms (eq. 6). `u_s_mbps` holds `u_s^0..u_s^K`.
///
/// # Panics
/// If `u_s_mbps` has not `K + 1` rates, or a parameter is out of range.
pub fn cross_equilibria(model: &CrossModel, theta: f64, u_s_mbps: &[f64]) -> Vec<Equilibrium> {
    equilibria(&model.fluid_swarms(theta), u_s_mbps)
}

fn equilibria(swarms: &[FluidSwarm], u_s_mbps: &[f64]) -> Vec<Equilibrium> {
    check_lengths(swarms.len(), u_s_mbps.len());
    swarms
        .iter()
        .zip(u_s_mbps)
        .map(|(s, &u)| s.equilibrium(u))
        .collect()
}

/// Minimises `max_i T_i(u_i)` over `u_i >= 0`, `sum_i u_i = u_s_mbps`, for
/// affine times `T_i(u) = a_i - b_i u` (Theorem III.1's problem (4) with
/// `u_i >= 0`): water-filling. The served swarms all end at one level `M`;
/// a swarm with `a_i <= M` gets nothing and is already at or below `M`.
///
/// The level may fall to 0 or below (every swarm can be made
/// non-upload-constrained); the allocation then still spends the whole
/// budget, equalising the closed forms, and `common` says
/// [`Regime::ServerAndSeedersSuffice`].
///
/// # Panics
/// If `lines` is empty, a slope is not positive, or the budget is negative
/// or not finite.
pub fn water_fill(lines: &[LinearTime], u_s_mbps: f64) -> Allocation {
    let (level_s, rates) = water_fill_level(lines, u_s_mbps);
    Allocation {
        u_s_mbps: rates,
        common: Regime::from_closed_form_s(level_s),
    }
}

/// Water-filling's level `M` (unclamped) and rates. `M` solves
/// `sum_i max(0, (a_i - M) / b_i) = u_s`; the left side falls as `M` rises,
/// so `M` is unique. Taking swarms by decreasing `a_i`, the served set is
/// the shortest prefix whose level is at or above the next `a`.
fn water_fill_level(lines: &[LinearTime], u_s_mbps: f64) -> (f64, Vec<f64>) {
    assert!(!lines.is_empty(), "analytic: nothing to allocate to");
    assert!(
        lines
            .iter()
            .all(|l| positive(l.slope_s_per_mbps) && l.intercept_s.is_finite()),
        "analytic: every line needs a finite intercept and a positive slope"
    );
    check_rate(u_s_mbps);
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&p, &q| lines[q].intercept_s.total_cmp(&lines[p].intercept_s));
    // With the served set fixed, sum (a_i - M) / b_i = u_s is linear in M.
    let (mut weight, mut weighted_s) = (0.0, 0.0);
    let mut level_s = f64::INFINITY;
    for (k, &i) in order.iter().enumerate() {
        weight += 1.0 / lines[i].slope_s_per_mbps;
        weighted_s += lines[i].intercept_s / lines[i].slope_s_per_mbps;
        level_s = (weighted_s - u_s_mbps) / weight;
        let next_is_above = order
            .get(k + 1)
            .is_some_and(|&j| lines[j].intercept_s > level_s);
        if !next_is_above {
            break;
        }
    }
    let rates = lines
        .iter()
        .map(|l| l.rate_for_level_mbps(level_s))
        .collect();
    (level_s, rates)
}

/// Theorem III.1: the allocation of `u_s_mbps` over the isolated swarms
/// that minimises `max_i T_d^i` (eq. 3), by [`water_fill`] on
/// `T_d^i(u) = a_i - b_i u`, `a_i = (F/u_c - 1/gamma_i) / eta_i`,
/// `b_i = 1 / (eta_i u_c lambda_i)`.
///
/// # Panics
/// If a parameter is out of range.
pub fn optimal_isolated_allocation(model: &IsolatedModel, u_s_mbps: f64) -> Allocation {
    water_fill(&lines(&model.fluid_swarms()), u_s_mbps)
}

/// Theorem III.1's special case (equal `eta` and `gamma` in every swarm):
/// `u_s^i = u_s lambda_i / lambda`. Under that assumption all `a_i` are
/// equal, so water-filling serves every swarm in proportion to `1 / b_i`,
/// which is proportional to `lambda_i`.
pub fn proportional_allocation(model: &IsolatedModel, u_s_mbps: f64) -> Vec<f64> {
    let lambda = model.lambda_per_s();
    model
        .swarms
        .iter()
        .map(|s| u_s_mbps * s.lambda_per_s / lambda)
        .collect()
}

/// The optimal allocation over Swarm 0 and Swarms `1..=K` for a fixed
/// `theta` (problem (8) at that `theta`, by [`water_fill`] on eqs. 6-7).
///
/// # Panics
/// If `theta` or a parameter is out of range.
pub fn cross_allocation_at(model: &CrossModel, theta: f64, u_s_mbps: f64) -> Allocation {
    water_fill(&lines(&model.fluid_swarms(theta)), u_s_mbps)
}

/// Smallest share of its upload a peer gives either swarm in the `theta`
/// search of [`optimal_cross_allocation`]. Near `theta = 0` Swarm 0's closed
/// form is `((beta F - u_s^0 / lambda) / (theta u_c) - 1 / gamma_0) / eta_0`,
/// a 0/0 limit once the server feeds Swarm 0 alone, where rounding swamps
/// the result; likewise Swarm `i` near `theta = 1`.
pub const THETA_MIN: f64 = 1e-3;
/// Number of cells of the coarse `theta` grid of [`optimal_cross_allocation`].
const THETA_GRID_CELLS: usize = 256;
/// Golden-section iterations: 0.618^100 ~ 1e-21, far below one grid cell.
const GOLDEN_ITERATIONS: usize = 100;

/// Theorem III.2: minimises `max(T_d^0, ..., T_d^K)` (problem 8) over
/// `theta` in `[THETA_MIN, 1 - THETA_MIN]` and the allocation
/// `u_s^0..u_s^K`.
///
/// For a fixed `theta` the problem is water-filling; its level `M(theta)`
/// is quasi-convex in `theta`: `M(theta) <= m` iff
/// `sum_j max(0, (a_j - m) / b_j) <= u_s`, and each `(a_j - m) / b_j` is
/// affine in `theta` (Swarm 0's is
/// `lambda (beta F - theta u_c (1/gamma_0 + eta_0 m))`), so every sublevel
/// set is an interval. A grid therefore brackets the minimisers (the lowest
/// grid points plus one cell each side) and golden-section refines within
/// the bracket. The result is never worse than any point of that grid.
///
/// The minimum may sit at the range's edge: once `u_s >= lambda beta F`
/// the server can carry the common chunks alone and peers may do better
/// spending (almost) all their upload on their own swarms. When the
/// optimum is not positive (`ServerAndSeedersSuffice`) every `theta` with
/// `M(theta) <= 0` is optimal; the one returned has the lowest closed-form
/// level, i.e. the most slack.
///
/// # Panics
/// If a parameter is out of range.
pub fn optimal_cross_allocation(model: &CrossModel, u_s_mbps: f64) -> CrossOptimum {
    let theta = optimal_theta(model, u_s_mbps);
    let allocation = cross_allocation_at(model, theta, u_s_mbps);
    CrossOptimum {
        theta,
        u_s_mbps: allocation.u_s_mbps,
        common: allocation.common,
    }
}

/// The grid-and-golden-section search of [`optimal_cross_allocation`].
fn optimal_theta(model: &CrossModel, u_s_mbps: f64) -> f64 {
    let level = |theta: f64| water_fill_level(&lines(&model.fluid_swarms(theta)), u_s_mbps).0;
    let span = 1.0 - 2.0 * THETA_MIN;
    let grid: Vec<(f64, f64)> = (0..=THETA_GRID_CELLS)
        .map(|k| THETA_MIN + span * k as f64 / THETA_GRID_CELLS as f64)
        .map(|theta| (theta, level(theta)))
        .collect();
    let best = grid.iter().copied().fold(
        (f64::NAN, f64::INFINITY),
        |b, p| if p.1 < b.1 { p } else { b },
    );
    // Ties: the minimisers lie between the first and last lowest points.
    let first = grid.iter().position(|p| p.1 <= best.1).unwrap_or(0);
    let last = grid
        .iter()
        .rposition(|p| p.1 <= best.1)
        .unwrap_or(THETA_GRID_CELLS);
    let lo = grid[first.saturating_sub(1)].0;
    let hi = grid[(last + 1).min(THETA_GRID_CELLS)].0;
    let refined = golden_section_min(level, lo, hi);
    if level(refined) < best.1 {
        refined
    } else {
        best.0
    }
}

/// The allocation of the eq. (9) discussion, with `theta = beta`:
/// `u_s^0 = beta u_s`, `u_s^i = (1 - beta) lambda_i u_s / lambda`
/// (index 0 is Swarm 0). It equalises eq. (9) when `eta` and `gamma` are
/// equal in all `K + 1` swarms; use it with `theta = model.beta`.
pub fn cross_special_allocation(model: &CrossModel, u_s_mbps: f64) -> Vec<f64> {
    let lambda = model.lambda_per_s();
    let beta = model.beta;
    std::iter::once(beta * u_s_mbps)
        .chain(
            model
                .swarms
                .iter()
                .map(|s| (1.0 - beta) * s.lambda_per_s * u_s_mbps / lambda),
        )
        .collect()
}

/// Minimiser of a quasi-convex `f` on the open interval `(lo, hi)` by
/// golden-section search; `f` is never evaluated at the ends.
fn golden_section_min(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    const INV_PHI: f64 = 0.618_033_988_749_894_9; // (sqrt(5) - 1) / 2
    let mut c = hi - INV_PHI * (hi - lo);
    let mut d = lo + INV_PHI * (hi - lo);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..GOLDEN_ITERATIONS {
        // On a tie a minimiser lies in [c, d] (or c is one), so keeping
        // [lo, d] is safe.
        if fc <= fd {
            (hi, d, fd) = (d, c, fc);
            c = hi - INV_PHI * (hi - lo);
            fc = f(c);
        } else {
            (lo, c, fc) = (c, d, fd);
            d = lo + INV_PHI * (hi - lo);
            fd = f(d);
        }
    }
    if fc <= fd { c } else { d }
}

/// Integrates the fluid ODEs of `swarms` (each at its server rate) from the
/// empty start `x = y = 0` by fixed-step RK4, and returns the recorded
/// trajectory. The swarms are independent: they share no state.
///
/// Off the boundary the system is linear, with trace `c (1 - eta) / S -
/// gamma` and determinant `c eta gamma / S > 0`. A positive closed-form `x`
/// needs `1 / gamma < S / c`, hence `gamma > c (1 - eta) / S`: in the
/// upload-constrained regime the equilibrium is always stable, so long runs
/// approach the closed forms.
///
/// # Panics
/// If `u_s_mbps` has not one rate per swarm, or a parameter or setting is
/// out of range.
pub fn integrate(
    swarms: &[FluidSwarm],
    u_s_mbps: &[f64],
    settings: &OdeSettings,
) -> Vec<FluidState> {
    check_lengths(swarms.len(), u_s_mbps.len());
    swarms.iter().for_each(FluidSwarm::validate);
    u_s_mbps.iter().copied().for_each(check_rate);
    assert!(
        positive(settings.step_s)
            && positive(settings.horizon_s)
            && settings.record_every_steps > 0,
        "analytic: step and horizon must be positive, record_every_steps at least 1"
    );
    let steps = (settings.horizon_s / settings.step_s).ceil().max(1.0) as usize;
    let dt_s = settings.horizon_s / steps as f64;
    let mut state = vec![[0.0, 0.0]; swarms.len()];
    let mut trajectory = vec![record(0.0, &state)];
    for k in 1..=steps {
        for ((s, swarm), &u) in state.iter_mut().zip(swarms).zip(u_s_mbps) {
            *s = swarm.rk4_step(u, *s, dt_s);
        }
        if k % settings.record_every_steps == 0 || k == steps {
            trajectory.push(record(k as f64 * dt_s, &state));
        }
    }
    trajectory
}

/// [`integrate`] for the isolated model (the ODE before eq. 1).
///
/// # Panics
/// As [`integrate`].
pub fn integrate_isolated(
    model: &IsolatedModel,
    u_s_mbps: &[f64],
    settings: &OdeSettings,
) -> Vec<FluidState> {
    integrate(&model.fluid_swarms(), u_s_mbps, settings)
}

/// [`integrate`] for the cross model at `theta` (the ODEs before eqs. 6
/// and 7, with the consistent Swarm `i` seeder equation of the module
/// docs); index 0 is Swarm 0.
///
/// # Panics
/// As [`integrate`], or if `theta` is outside (0, 1).
pub fn integrate_cross(
    model: &CrossModel,
    theta: f64,
    u_s_mbps: &[f64],
    settings: &OdeSettings,
) -> Vec<FluidState> {
    integrate(&model.fluid_swarms(theta), u_s_mbps, settings)
}

fn record(t_s: f64, state: &[[f64; 2]]) -> FluidState {
    FluidState {
        t_s,
        x: state.iter().map(|s| s[0]).collect(),
        y: state.iter().map(|s| s[1]).collect(),
    }
}

/// The `lambda`-weighted mean and the maximum of per-image times, each
/// taken as [`Regime::fluid_time_s`].
///
/// # Panics
/// If the slices differ in length, are empty, or the weights do not sum to
/// a positive number.
pub fn summarize(weights_per_s: &[f64], times: &[Regime]) -> TimeSummary {
    check_lengths(times.len(), weights_per_s.len());
    let total: f64 = weights_per_s.iter().sum();
    assert!(
        !times.is_empty() && positive(total),
        "analytic: need positive weights"
    );
    let weighted: f64 = weights_per_s
        .iter()
        .zip(times)
        .map(|(w, t)| w * t.fluid_time_s())
        .sum();
    TimeSummary {
        weighted_mean_s: weighted / total,
        max_s: times.iter().map(Regime::fluid_time_s).fold(0.0, f64::max),
    }
}

/// [`summarize`] for the isolated model at the given rates: per image,
/// eq. (2), weighted by `lambda_i`.
///
/// # Panics
/// As [`isolated_equilibria`].
pub fn isolated_summary(model: &IsolatedModel, u_s_mbps: &[f64]) -> TimeSummary {
    let times: Vec<Regime> = isolated_equilibria(model, u_s_mbps)
        .iter()
        .map(|e| e.regime)
        .collect();
    summarize(&lambdas(&model.swarms), &times)
}

/// [`summarize`] for the cross model at `theta` and rates `u_s^0..u_s^K`:
/// an image's time is the slower of Swarm 0 (eq. 7) and its Swarm `i`
/// (eq. 6), weighted by `lambda_i`.
///
/// # Panics
/// As [`cross_equilibria`].
pub fn cross_summary(model: &CrossModel, theta: f64, u_s_mbps: &[f64]) -> TimeSummary {
    let eq = cross_equilibria(model, theta, u_s_mbps);
    let common = eq[0].regime;
    let times: Vec<Regime> = eq[1..].iter().map(|e| e.regime.slower(common)).collect();
    summarize(&lambdas(&model.swarms), &times)
}

fn lines(swarms: &[FluidSwarm]) -> Vec<LinearTime> {
    swarms.iter().map(FluidSwarm::linear_time).collect()
}

fn lambdas(swarms: &[SwarmParams]) -> Vec<f64> {
    swarms.iter().map(|s| s.lambda_per_s).collect()
}

fn add_scaled(a: [f64; 2], h: f64, k: [f64; 2]) -> [f64; 2] {
    [a[0] + h * k[0], a[1] + h * k[1]]
}

fn positive(v: f64) -> bool {
    v > 0.0 && v.is_finite()
}

fn in_open_unit(v: f64) -> bool {
    v > 0.0 && v < 1.0
}

fn check_rate(u_s_mbps: f64) {
    assert!(
        u_s_mbps >= 0.0 && u_s_mbps.is_finite(),
        "analytic: a server rate must be non-negative and finite, got {u_s_mbps}"
    );
}

fn check_lengths(swarms: usize, given: usize) {
    assert_eq!(swarms, given, "analytic: need one value per swarm");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(a: f64, b: f64) -> LinearTime {
        LinearTime {
            intercept_s: a,
            slope_s_per_mbps: b,
        }
    }

    #[test]
    fn water_fill_equalises_the_top_and_skips_the_fast() {
        // a = 10, 8, 2; b = 1, 0.5, 1; budget 4.
        // Serve {0, 1}: M = (10/1 + 8/0.5 - 4) / (1 + 2) = 22/3 = 7.33 > 2,
        // so swarm 2 stays out. Rates: 10 - 22/3 = 8/3, (8 - 22/3)/0.5 = 4/3.
        let (level, rates) =
            water_fill_level(&[line(10.0, 1.0), line(8.0, 0.5), line(2.0, 1.0)], 4.0);
        assert!((level - 22.0 / 3.0).abs() < 1e-12);
        assert!((rates[0] - 8.0 / 3.0).abs() < 1e-12);
        assert!((rates[1] - 4.0 / 3.0).abs() < 1e-12);
        assert_eq!(rates[2], 0.0);
    }

    #[test]
    fn water_fill_with_no_budget_is_the_slowest_swarm() {
        let (level, rates) = water_fill_level(&[line(3.0, 1.0), line(5.0, 2.0)], 0.0);
        assert_eq!(level, 5.0);
        assert_eq!(rates, vec![0.0, 0.0]);
    }

    #[test]
    fn water_fill_below_zero_reports_the_no_solution_regime() {
        // a = 1, b = 1, budget 3: M = 1 - 3 = -2 <= 0.
        let a = water_fill(&[line(1.0, 1.0)], 3.0);
        assert_eq!(a.common, Regime::ServerAndSeedersSuffice);
        assert_eq!(a.u_s_mbps, vec![3.0]);
    }

    #[test]
    fn golden_section_finds_a_kinked_minimum() {
        let f = |t: f64| (t - 0.3).abs() + 0.1 * (t - 0.3).max(0.0);
        assert!((golden_section_min(f, 0.0, 1.0) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn the_boundary_caps_completions_at_arrivals() {
        let s = FluidSwarm {
            arrival_per_s: 0.5,
            content_mb: 100.0,
            peer_upload_mbps: 10.0,
            gamma_per_s: 0.1,
            eta: 1.0,
        };
        // Server alone: 1000 / 100 = 10 completions/s > 0.5 arrivals/s.
        assert_eq!(s.derivative(1000.0, [0.0, 0.0]), [0.0, 0.5]);
        // A step from the boundary stays on it.
        assert_eq!(s.rk4_step(1000.0, [0.0, 0.0], 1.0)[0], 0.0);
    }

    #[test]
    fn slower_prefers_a_time_over_no_constraint() {
        let t = Regime::UploadConstrained { t_d_s: 2.0 };
        assert_eq!(Regime::ServerAndSeedersSuffice.slower(t), t);
        assert_eq!(t.slower(Regime::ServerAndSeedersSuffice), t);
        assert_eq!(
            t.slower(Regime::UploadConstrained { t_d_s: 3.0 })
                .fluid_time_s(),
            3.0
        );
    }
}
