//! The `subgradient` rule: the paper's Algorithm 1 (prototype).

use super::exact::{fill_rates, water_level};
use super::{Allocation, AllocationRule, Snapshot};

/// Parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SubgradientParams {
    /// Step factor.
    pub step: f64,
    /// Iteration cap.
    pub max_iterations: u32,
    /// Relative gap.
    pub tolerance: f64,
}

impl Default for SubgradientParams {
    fn default() -> Self {
        Self {
            step: 1.0,
            max_iterations: 200,
            tolerance: 1e-3,
        }
    }
}

/// Subgradient rule.
#[derive(Debug, Clone, Default)]
pub struct Subgradient {
    params: SubgradientParams,
    /// experiment knob
    pub rule: u8,
    /// experiment knob
    pub warm_last: bool,
    delta: Vec<f64>,
    warm: Vec<f64>,
    weights: Vec<f64>,
    rates: Vec<f64>,
    best: Vec<f64>,
    times: Vec<f64>,
    order: Vec<(f64, usize)>,
    sorted: Vec<f64>,
}

const FLOOR: f64 = 1e-12;

impl Subgradient {
    /// New.
    pub fn new(params: SubgradientParams) -> Self {
        Self {
            params,
            ..Self::default()
        }
    }

    fn restart(&mut self, snapshot: &Snapshot) {
        let total: f64 = snapshot
            .groups
            .iter()
            .filter(|g| g.has_demand())
            .map(|g| g.remaining_mb)
            .sum();
        self.delta.clear();
        self.delta.extend(snapshot.groups.iter().map(|g| {
            if g.has_demand() {
                g.remaining_mb / total
            } else {
                0.0
            }
        }));
    }

    fn floor(&mut self, snapshot: &Snapshot) {
        let mut changed = false;
        for (d, g) in self.delta.iter_mut().zip(snapshot.groups) {
            if g.has_demand() && !(g.remaining_mb / g.peer_upload_mbps).is_finite() && *d < FLOOR {
                *d = FLOOR;
                changed = true;
            }
        }
        if changed {
            let s: f64 = self.delta.iter().sum();
            self.delta.iter_mut().for_each(|d| *d /= s);
        }
    }

    fn project(&mut self, snapshot: &Snapshot) {
        self.sorted.clear();
        for (d, g) in self.delta.iter().zip(snapshot.groups) {
            if g.has_demand() {
                self.sorted.push(*d);
            }
        }
        self.sorted.sort_unstable_by(|a, b| b.total_cmp(a));
        let (mut cs, mut tau) = (0.0, 0.0);
        for (j, &y) in self.sorted.iter().enumerate() {
            cs += y;
            let t = (cs - 1.0) / (j + 1) as f64;
            if y - t > 0.0 {
                tau = t;
            } else {
                break;
            }
        }
        for (d, g) in self.delta.iter_mut().zip(snapshot.groups) {
            *d = if g.has_demand() {
                (*d - tau).max(0.0)
            } else {
                0.0
            };
        }
    }
}

impl AllocationRule for Subgradient {
    fn name(&self) -> &'static str {
        "subgradient"
    }

    fn allocate(&mut self, snapshot: &Snapshot) -> Allocation {
        let n = snapshot.groups.len();
        let groups = snapshot.groups;
        let u_s = snapshot.u_s_mbps;
        let mut out = vec![0.0; n];
        if !(u_s > 0.0) || !groups.iter().any(|g| g.has_demand()) {
            return Allocation {
                rates_mbps: out,
                iterations: 0,
            };
        }
        if self.warm.len() != n {
            self.restart(snapshot);
        } else {
            self.delta.clear();
            self.delta.extend_from_slice(&self.warm);
            let mut s = 0.0;
            for (d, g) in self.delta.iter_mut().zip(groups) {
                if !g.has_demand() {
                    *d = 0.0;
                }
                s += *d;
            }
            if s > 0.0 && s.is_finite() {
                self.delta.iter_mut().for_each(|d| *d /= s);
            } else {
                self.restart(snapshot);
            }
        }
        self.floor(snapshot);
        self.weights.resize(n, 0.0);
        self.rates.resize(n, 0.0);
        self.times.resize(n, 0.0);
        self.best.resize(n, 0.0);
        self.warm.resize(n, 0.0);
        let (mut ub, mut lb) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut iterations = 0;
        let tol = self.params.tolerance;
        for t in 1..=self.params.max_iterations {
            iterations = t;
            for ((w, d), g) in self.weights.iter_mut().zip(&self.delta).zip(groups) {
                *w = if g.has_demand() {
                    (d * g.remaining_mb).sqrt()
                } else {
                    0.0
                };
            }
            let weights = &self.weights;
            let weight = |g: usize| weights[g];
            let peer = |g: usize| groups[g].peer_upload_mbps;
            let level = water_level(n, weight, peer, u_s, &mut self.order);
            fill_rates(weight, peer, level, u_s, &self.order, &mut self.rates);
            let mut dual = 0.0;
            let mut primal: f64 = 0.0;
            for (i, g) in groups.iter().enumerate() {
                let tr = g.remaining_time_s(self.rates[i]);
                self.times[i] = tr;
                if self.delta[i] > 0.0 {
                    dual += self.delta[i] * tr;
                }
                primal = primal.max(tr);
            }
            if primal < ub {
                ub = primal;
                self.best.copy_from_slice(&self.rates);
            }
            if dual > lb {
                lb = dual;
                self.warm.copy_from_slice(&self.delta);
            }
            if ub - lb <= tol * ub {
                break;
            }
            // direction
            let (mut cnt, mut sum) = (0usize, 0.0);
            for (i, g) in groups.iter().enumerate() {
                if g.has_demand() && self.delta[i] > 0.0 {
                    cnt += 1;
                    sum += self.times[i];
                }
            }
            let mean = sum / cnt as f64;
            let mut norm2 = 0.0;
            for (i, g) in groups.iter().enumerate() {
                if g.has_demand() && (self.delta[i] > 0.0 || self.times[i] > mean) {
                    norm2 += (self.times[i] - mean).powi(2);
                }
            }
            if !(norm2 > 0.0) {
                break;
            }
            let nu = match self.rule {
                0 => self.params.step * (ub - dual) / norm2,
                1 => self.params.step / ((t as f64).sqrt() * norm2.sqrt()),
                _ => self.params.step * (ub - dual) / norm2,
            };
            if self.rule == 2 {
                // scaled (non-Euclidean) comparison
                let mut s = 0.0;
                for i in 0..n {
                    if groups[i].has_demand() {
                        self.delta[i] *= (nu * (self.times[i] - mean)).exp();
                        s += self.delta[i];
                    }
                }
                self.delta.iter_mut().for_each(|d| *d /= s);
            } else {
                for i in 0..n {
                    if groups[i].has_demand() {
                        self.delta[i] += nu * (self.times[i] - mean);
                    }
                }
                self.project(snapshot);
            }
            self.floor(snapshot);
        }
        if self.warm_last {
            self.warm.copy_from_slice(&self.delta);
        }
        out.copy_from_slice(&self.best);
        Allocation {
            rates_mbps: out,
            iterations,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{GroupState, water_fill};

    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn rand_groups(r: &mut Lcg, n: usize) -> Vec<GroupState> {
        (0..n)
            .map(|_| GroupState {
                remaining_mb: if r.next() < 0.2 { 0.0 } else { r.next() * 1e5 },
                peer_upload_mbps: if r.next() < 0.2 {
                    0.0
                } else {
                    r.next() * 2000.0
                },
                popularity: r.next(),
            })
            .collect()
    }

    #[test]
    #[ignore]
    fn experiment() {
        for rule in [0u8, 1, 2] {
            for step in [0.25, 0.5, 1.0, 1.5] {
                for warm_last in [false, true] {
                    for scen in 0..3 {
                        let mut r = Lcg(42);
                        let (mut its, mut maxits, mut worst, mut fails) = (0u64, 0u32, 0.0f64, 0);
                        let trials = 300;
                        for _ in 0..trials {
                            let n = 1 + (r.next() * 80.0) as usize;
                            let u_s = r.next() * 1e4;
                            let g2 = rand_groups(&mut r, n);
                            let mut s = Subgradient::new(SubgradientParams {
                                step,
                                max_iterations: 2000,
                                tolerance: 1e-3,
                            });
                            s.rule = rule;
                            s.warm_last = warm_last;
                            let g1: Vec<GroupState> = match scen {
                                0 => g2.clone(),
                                1 => rand_groups(&mut r, n),
                                _ => g2
                                    .iter()
                                    .map(|g| GroupState {
                                        remaining_mb: (g.remaining_mb
                                            * (1.0 + 0.2 * (r.next() - 0.5))),
                                        peer_upload_mbps: g.peer_upload_mbps
                                            * (1.0 + 0.2 * (r.next() - 0.5)),
                                        popularity: 0.0,
                                    })
                                    .collect(),
                            };
                            if scen > 0 {
                                s.allocate(&Snapshot {
                                    u_s_mbps: u_s,
                                    groups: &g1,
                                });
                            }
                            let snap = Snapshot {
                                u_s_mbps: u_s,
                                groups: &g2,
                            };
                            let a = s.allocate(&snap);
                            let (ex, m) = water_fill(&snap);
                            let mm = snap.max_remaining_time_s(&ex);
                            let got = snap.max_remaining_time_s(&a.rates_mbps);
                            let rel = if mm > 0.0 { got / mm - 1.0 } else { 0.0 };
                            let _ = m;
                            worst = worst.max(rel);
                            its += a.iterations as u64;
                            maxits = maxits.max(a.iterations);
                            if a.iterations >= 2000 {
                                fails += 1;
                            }
                        }
                        println!(
                            "rule {rule} step {step} warmlast {warm_last} scen {scen}: mean its {:.1} max {maxits} capped {fails} worst rel {worst:.2e}",
                            its as f64 / trials as f64
                        );
                    }
                }
            }
        }
    }
}
