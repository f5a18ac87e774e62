//! Property tests of the allocation rules (docs/model.md section 5) on random
//! snapshots: feasibility for every rule, and each rule's defining property.
//! The exact rule is the oracle for the subgradient rule (the paper's
//! Algorithm 1).
//!
//! Iterations the subgradient rule needed with default parameters
//! (`max_iterations = 200`, `tolerance = 1e-3`), max over several runs of
//! 256 cases each: from a fresh rule (restart with `delta ~ R`) at most 3;
//! warm-started from an unrelated snapshot of the same size typically 40-90
//! per run, 149 at most over 100 runs (never the cap).
//! `subgradient_iterations_are_reported` prints the figure of each run.

use std::sync::atomic::{AtomicU32, Ordering};

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use vmswarm::policy::{
    AllocationRule, Equal, Exact, ExactAvailable, FluidMean, GroupState, OldestFirst,
    OldestFirstParams, Proportional, Snapshot, Subgradient, SubgradientParams, available_time_s,
    water_fill,
};

const CASES: u32 = 256;
/// Relative slack for floating-point rounding.
const EPS: f64 = 1e-9;

/// One group: 1 in 5 without demand; 1 in 5 without peer upload (the
/// infinite-threshold case); 1 in 5 with popularity exactly 0.
fn group() -> impl Strategy<Value = GroupState> {
    (
        prop_oneof![1 => Just(0.0), 4 => 0.0..=1e5],
        prop_oneof![1 => Just(0.0), 4 => 0.0..=2000.0],
        prop_oneof![1 => Just(0.0), 4 => 0.0..=1.0],
    )
        .prop_map(|(remaining_mb, peer_upload_mbps, popularity)| GroupState {
            remaining_mb,
            peer_upload_mbps,
            popularity,
            server_only_mb: 0.0,
            ..GroupState::default()
        })
}

fn groups() -> impl Strategy<Value = Vec<GroupState>> {
    prop::collection::vec(group(), 1..80)
}

/// Server upload, sometimes exactly 0.
fn u_s() -> impl Strategy<Value = f64> {
    prop_oneof![1 => Just(0.0), 9 => 0.0..=1e4]
}

/// Two snapshots' groups of one size: a tick and an unrelated next tick.
fn two_ticks() -> impl Strategy<Value = (Vec<GroupState>, Vec<GroupState>, f64, f64)> {
    (1usize..80).prop_flat_map(|n| {
        (
            prop::collection::vec(group(), n),
            prop::collection::vec(group(), n),
            u_s(),
            u_s(),
        )
    })
}

fn config() -> Config {
    Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    }
}

fn has_demand(groups: &[GroupState]) -> bool {
    groups.iter().any(GroupState::has_demand)
}

/// The properties every rule must have: one non-negative finite rate per
/// group, zero without demand, summing to at most `u_s` -- and to `u_s`
/// itself whenever some group has demand (the server never idles).
fn check_feasible(name: &str, snap: &Snapshot, rates: &[f64]) -> Result<(), TestCaseError> {
    prop_assert_eq!(rates.len(), snap.groups.len(), "{}", name);
    for (g, &r) in snap.groups.iter().zip(rates) {
        prop_assert!(r >= 0.0 && r.is_finite(), "{}: rate {}", name, r);
        if !g.has_demand() {
            prop_assert_eq!(r, 0.0, "{}: rate without demand", name);
        }
    }
    let sum: f64 = rates.iter().sum();
    let u_s = snap.u_s_mbps;
    prop_assert!(
        sum <= u_s * (1.0 + EPS),
        "{}: sum {} > u_s {}",
        name,
        sum,
        u_s
    );
    if has_demand(snap.groups) {
        prop_assert!(
            sum >= u_s * (1.0 - EPS),
            "{}: sum {} < u_s {}",
            name,
            sum,
            u_s
        );
    }
    Ok(())
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= EPS * a.abs().max(b.abs())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_rule_is_feasible(groups in groups(), u_s in u_s()) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let mut rules: [Box<dyn AllocationRule>; 4] = [
            Box::new(Equal),
            Box::new(Proportional),
            Box::new(Exact::new()),
            Box::new(Subgradient::new(SubgradientParams::default())),
        ];
        for rule in &mut rules {
            let a = rule.allocate(&snap);
            check_feasible(rule.name(), &snap, &a.rates_mbps)?;
        }
    }

    #[test]
    fn equal_splits_equally(groups in groups(), u_s in u_s()) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let a = Equal.allocate(&snap);
        let demand = groups.iter().filter(|g| g.has_demand()).count();
        for (g, &r) in groups.iter().zip(&a.rates_mbps) {
            if g.has_demand() {
                prop_assert!(close(r, u_s / demand as f64), "{} vs {}", r, u_s);
            }
        }
        prop_assert_eq!(a.iterations, 0);
    }

    #[test]
    fn proportional_follows_popularity(groups in groups(), u_s in u_s()) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let a = Proportional.allocate(&snap);
        let demand: Vec<_> = groups.iter().filter(|g| g.has_demand()).collect();
        let total: f64 = demand.iter().map(|g| g.popularity).sum();
        for (g, &r) in groups.iter().zip(&a.rates_mbps) {
            if !g.has_demand() {
                continue;
            }
            // All-zero popularity among groups with demand: equal fallback.
            let want = if total > 0.0 {
                u_s * g.popularity / total
            } else {
                u_s / demand.len() as f64
            };
            prop_assert!((r - want).abs() <= EPS * u_s, "{} vs {}", r, want);
        }
    }

    #[test]
    fn exact_equalises_the_served_groups(groups in groups(), u_s in u_s()) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let (rates, m_star) = water_fill(&snap);
        prop_assert!(!m_star.is_nan());
        prop_assert_eq!(&Exact::new().allocate(&snap).rates_mbps, &rates);
        let m = snap.max_remaining_time_s(&rates);
        prop_assert!(close(m, m_star) || m == m_star, "max T_r {} vs M* {}", m, m_star);
        for (g, &r) in groups.iter().zip(&rates) {
            if !g.has_demand() {
                continue;
            }
            let t = g.remaining_time_s(r);
            if r > 0.0 {
                // Every served group finishes exactly at M*.
                prop_assert!(close(t, m_star), "served T_r {} vs M* {}", t, m_star);
            } else {
                // Unserved groups are already at least as fast on peers alone.
                prop_assert!(t <= m_star * (1.0 + EPS), "unserved T_r {} > M* {}", t, m_star);
            }
        }
    }

    #[test]
    fn exact_is_no_worse_than_the_simple_rules(groups in groups(), u_s in u_s()) {
        // M* is the optimum of eq. (11): no feasible split beats it.
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let (_, m_star) = water_fill(&snap);
        for rates in [
            Equal.allocate(&snap).rates_mbps,
            Proportional.allocate(&snap).rates_mbps,
        ] {
            prop_assert!(snap.max_remaining_time_s(&rates) >= m_star * (1.0 - EPS));
        }
    }

    #[test]
    fn subgradient_is_feasible_whenever_it_stops(
        (first, second, u_first, u_second) in two_ticks(),
        cap in 1u32..6,
    ) {
        // A tiny cap stops the rule mid-way after a warm start from an
        // unrelated tick: whatever it returns must still be a valid split.
        let mut rule = Subgradient::new(SubgradientParams {
            max_iterations: cap,
            ..SubgradientParams::default()
        });
        rule.allocate(&Snapshot { u_s_mbps: u_first, groups: &first });
        let snap = Snapshot { u_s_mbps: u_second, groups: &second };
        let a = rule.allocate(&snap);
        prop_assert!(a.iterations <= cap);
        check_feasible("subgradient", &snap, &a.rates_mbps)?;
    }

    #[test]
    fn subgradient_warm_start_on_the_same_snapshot_is_no_slower(
        groups in groups(),
        u_s in u_s(),
    ) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let mut rule = Subgradient::new(SubgradientParams::default());
        let first = rule.allocate(&snap);
        let second = rule.allocate(&snap);
        prop_assert!(
            second.iterations <= first.iterations,
            "warm {} > cold {}", second.iterations, first.iterations
        );
        let (m1, m2) = (
            snap.max_remaining_time_s(&first.rates_mbps),
            snap.max_remaining_time_s(&second.rates_mbps),
        );
        prop_assert!(m2 <= m1 * (1.0 + EPS) || m2 == m1, "{} then {}", m1, m2);
    }
}

/// Checks one subgradient answer against the exact rule: feasible, within 1%
/// of the optimum, bounds bracketing it, iterations within the cap.
fn check_subgradient(
    rule: &Subgradient,
    snap: &Snapshot,
    rates: &[f64],
    iterations: u32,
) -> Result<(), TestCaseError> {
    check_feasible("subgradient", snap, rates)?;
    let params = rule.params();
    prop_assert!(iterations <= params.max_iterations);
    let (exact, _) = water_fill(snap);
    let best = snap.max_remaining_time_s(&exact);
    let got = snap.max_remaining_time_s(rates);
    if !has_demand(snap.groups) || snap.u_s_mbps == 0.0 {
        prop_assert_eq!(iterations, 0);
        return Ok(());
    }
    prop_assert!(got <= best * 1.01, "subgradient {} vs exact {}", got, best);
    prop_assert!(
        got >= best * (1.0 - EPS),
        "beat the optimum: {} < {}",
        got,
        best
    );
    let (lower, upper) = rule.bounds();
    prop_assert!(
        lower <= best * (1.0 + EPS),
        "lower bound {} > M* {}",
        lower,
        best
    );
    prop_assert!(close(upper, got), "upper bound {} vs {}", upper, got);
    Ok(())
}

static MAX_FRESH: AtomicU32 = AtomicU32::new(0);
static MAX_WARM: AtomicU32 = AtomicU32::new(0);

#[test]
fn subgradient_iterations_are_reported() {
    // A fresh rule restarts from the centre of the simplex.
    TestRunner::new(config())
        .run(&(groups(), u_s()), |(groups, u_s)| {
            let snap = Snapshot {
                u_s_mbps: u_s,
                groups: &groups,
            };
            let mut rule = Subgradient::new(SubgradientParams::default());
            let a = rule.allocate(&snap);
            MAX_FRESH.fetch_max(a.iterations, Ordering::Relaxed);
            check_subgradient(&rule, &snap, &a.rates_mbps, a.iterations)
        })
        .unwrap();
    // Warm-started from an unrelated snapshot of the same size: the
    // multipliers are wrong and the iterations must do the work.
    TestRunner::new(config())
        .run(&two_ticks(), |(first, second, u_first, u_second)| {
            let mut rule = Subgradient::new(SubgradientParams::default());
            rule.allocate(&Snapshot {
                u_s_mbps: u_first,
                groups: &first,
            });
            let snap = Snapshot {
                u_s_mbps: u_second,
                groups: &second,
            };
            let a = rule.allocate(&snap);
            MAX_WARM.fetch_max(a.iterations, Ordering::Relaxed);
            check_subgradient(&rule, &snap, &a.rates_mbps, a.iterations)
        })
        .unwrap();
    println!(
        "subgradient iterations (cap {}): fresh max {}, warm-started max {}",
        SubgradientParams::default().max_iterations,
        MAX_FRESH.load(Ordering::Relaxed),
        MAX_WARM.load(Ordering::Relaxed),
    );
}

/// Groups where some of `R` no peer holds (`S <= R`), 1 in 3 with none.
fn groups_with_unheld() -> impl Strategy<Value = Vec<GroupState>> {
    prop::collection::vec(
        (group(), prop_oneof![1 => Just(0.0), 2 => 0.0..=1.0]).prop_map(|(mut g, f)| {
            g.server_only_mb = f * g.remaining_mb;
            g
        }),
        1..80,
    )
}

fn available_max(groups: &[GroupState], rates: &[f64]) -> f64 {
    groups
        .iter()
        .zip(rates)
        .map(|(g, &u)| available_time_s(g, u))
        .fold(0.0, f64::max)
}

#[test]
fn exact_available_is_feasible_and_beats_exact_on_its_objective() {
    TestRunner::new(config())
        .run(&(groups_with_unheld(), 1.0..=1e4), |(groups, u_s)| {
            let snap = Snapshot {
                u_s_mbps: u_s,
                groups: &groups,
            };
            let a = ExactAvailable.allocate(&snap);
            let total: f64 = a.rates_mbps.iter().sum();
            prop_assert!(a.rates_mbps.iter().all(|&r| r >= 0.0));
            for (g, &r) in groups.iter().zip(&a.rates_mbps) {
                if !g.has_demand() {
                    prop_assert_eq!(r, 0.0);
                }
                // A group with blocks only the server has is never left out.
                if g.server_only_mb > 0.0 {
                    prop_assert!(r > 0.0);
                }
            }
            if groups.iter().any(GroupState::has_demand) {
                prop_assert!(
                    (total - u_s).abs() <= 1e-6 * u_s,
                    "sum {} vs {}",
                    total,
                    u_s
                );
            }
            // On the availability-aware objective it is at least as good as
            // the exact rule (which may leave such groups at zero).
            let (exact, _) = water_fill(&snap);
            let mine = available_max(&groups, &a.rates_mbps);
            let theirs = available_max(&groups, &exact);
            prop_assert!(mine <= theirs * (1.0 + 1e-6), "{} > {}", mine, theirs);
            Ok(())
        })
        .unwrap();
}

/// Groups as the simulator fills them for our rules: members (0 when the
/// group has no demand), the oldest member's age, and some of `R` no peer
/// holds. Ages repeat often, to exercise the tie order.
fn member_groups() -> impl Strategy<Value = Vec<GroupState>> {
    prop::collection::vec(
        (
            group(),
            prop_oneof![1 => Just(0.0), 2 => 0.0..=1.0],
            1usize..40,
            prop_oneof![1 => Just(3.0), 2 => 0.0..=100.0],
        )
            .prop_map(|(mut g, f, leechers, age_s)| {
                g.server_only_mb = f * g.remaining_mb;
                if g.has_demand() {
                    g.leechers = leechers;
                    g.oldest_leecher_age_s = age_s;
                }
                g
            }),
        1..80,
    )
}

/// Our rules, fresh, for ticks of `tick_s`.
fn our_rules(tick_s: f64) -> [Box<dyn AllocationRule>; 2] {
    [
        Box::new(OldestFirst::new(OldestFirstParams::new(tick_s))),
        Box::new(FluidMean::new(tick_s, OldestFirstParams::FLOOR_SHARE)),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Feasible (as every rule), never zero for a group with data only the
    /// server holds while `u_s > 0`, and deterministic: a rule that already
    /// allocated (its scratch buffers full) answers exactly as a fresh one.
    #[test]
    fn our_rules_are_feasible_serve_server_only_data_and_repeat(
        groups in member_groups(),
        other in member_groups(),
        u_s in u_s(),
        tick_s in prop_oneof![Just(1.0), 0.1..=5.0],
    ) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let warm = Snapshot { u_s_mbps: 1000.0, groups: &other };
        for (mut rule, mut fresh) in our_rules(tick_s).into_iter().zip(our_rules(tick_s)) {
            let name = rule.name();
            rule.allocate(&warm);
            let a = rule.allocate(&snap);
            check_feasible(name, &snap, &a.rates_mbps)?;
            if u_s > 0.0 {
                for (g, &r) in groups.iter().zip(&a.rates_mbps) {
                    if g.has_demand() && g.server_only_mb > 0.0 {
                        prop_assert!(r > 0.0, "{}: a server-only group starved", name);
                    }
                }
            }
            prop_assert_eq!(&a, &fresh.allocate(&snap), "{}: not deterministic", name);
        }
    }

    /// `oldest-first` serves in age order: a group gets more than its floor
    /// only when every older group has its tick cap.
    #[test]
    fn oldest_first_tops_up_older_groups_first(groups in member_groups(), u_s in 1.0..=1e4f64) {
        let snap = Snapshot { u_s_mbps: u_s, groups: &groups };
        let rates = OldestFirst::new(OldestFirstParams::new(1.0)).allocate(&snap).rates_mbps;
        let cap = |g: &GroupState| (g.remaining_mb - g.peer_upload_mbps).max(0.0);
        for (i, young) in groups.iter().enumerate() {
            let floor = young.server_only_mb.min(young.remaining_mb);
            if !young.has_demand() || rates[i] <= floor * (1.0 + 1e-6) + 1e-9 {
                continue;
            }
            for (j, old) in groups.iter().enumerate() {
                if old.has_demand() && old.oldest_leecher_age_s > young.oldest_leecher_age_s {
                    prop_assert!(
                        rates[j] >= cap(old) * (1.0 - 1e-6),
                        "group {} (age {}) has {} above its floor while older {} (age {}) has {} < cap {}",
                        i, young.oldest_leecher_age_s, rates[i], j, old.oldest_leecher_age_s,
                        rates[j], cap(old)
                    );
                }
            }
        }
    }
}
