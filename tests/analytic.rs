//! The analytic model of Section III (`vmswarm::theory::analytic`): closed forms
//! against hand-computed values, the no-solution regime, Theorems III.1 and
//! III.2 (by hand and as properties), and the fluid ODEs reaching the
//! closed-form equilibria.

use proptest::prelude::*;
use vmswarm::theory::analytic::*;

/// Image size of the hand-computed cases: 16 x 64 x 4 Mb.
const F_MB: f64 = 4096.0;
const U_C_MBPS: f64 = 128.0;

fn swarm(lambda_per_s: f64, seeding_s: f64, eta: f64) -> SwarmParams {
    SwarmParams {
        lambda_per_s,
        gamma_per_s: 1.0 / seeding_s,
        eta,
    }
}

fn isolated(swarms: Vec<SwarmParams>) -> IsolatedModel {
    IsolatedModel {
        file_mb: F_MB,
        u_c_mbps: U_C_MBPS,
        swarms,
    }
}

fn cross(beta: f64, common: SwarmParams, swarms: Vec<SwarmParams>) -> CrossModel {
    CrossModel {
        file_mb: F_MB,
        u_c_mbps: U_C_MBPS,
        beta,
        common_gamma_per_s: common.gamma_per_s,
        common_eta: common.eta,
        swarms,
    }
}

fn close(actual: f64, expected: f64, tol: f64) -> bool {
    (actual - expected).abs() <= tol
}

fn t_d(e: &Equilibrium) -> f64 {
    match e.regime {
        Regime::UploadConstrained { t_d_s } => t_d_s,
        Regime::ServerAndSeedersSuffice => panic!("expected an upload-constrained swarm: {e:?}"),
    }
}

/// `max_j T_j(u_j)` of the closed forms, unclamped: the objective of
/// problems (3) and (8).
fn max_closed_form_s(swarms: &[FluidSwarm], u_s_mbps: &[f64]) -> f64 {
    swarms
        .iter()
        .zip(u_s_mbps)
        .map(|(s, &u)| s.linear_time().value_s(u))
        .fold(f64::NEG_INFINITY, f64::max)
}

// ---- Closed forms, eqs. (1), (2), (6), (7) ----

#[test]
fn isolated_closed_form_matches_hand_computation() {
    // F/u_c = 4096/128 = 32 s; 1/gamma = 10 s; lambda = 0.5; u_s = 512:
    // eq. (1): x = 0.5 (32 - 10) - 512 / 128 = 11 - 4 = 7, y = 0.5 / 0.1 = 5;
    // eq. (2): T_d = 7 / 0.5 = 14 s (= 32 - 10 - 512 / 64).
    // With eta = 0.5 everything leecher-side doubles: x = 14, T_d = 28 s.
    let model = isolated(vec![swarm(0.5, 10.0, 1.0), swarm(0.5, 10.0, 0.5)]);
    let eq = isolated_equilibria(&model, &[512.0, 512.0]);
    assert!(close(eq[0].x, 7.0, 1e-12) && close(eq[0].y, 5.0, 1e-12));
    assert!(close(t_d(&eq[0]), 14.0, 1e-12));
    assert!(close(eq[1].x, 14.0, 1e-12) && close(eq[1].y, 5.0, 1e-12));
    assert!(close(t_d(&eq[1]), 28.0, 1e-12));
    // The affine form agrees: a = 32 - 10 = 22 s, b = 1 / (128 * 0.5) = 1/64.
    let line = model.fluid_swarms()[0].linear_time();
    assert!(close(line.intercept_s, 22.0, 1e-12));
    assert!(close(line.slope_s_per_mbps, 1.0 / 64.0, 1e-15));
}

#[test]
fn isolated_no_positive_solution_is_reported_not_a_negative_time() {
    // u_s = 2000: eq. (1) gives x = 11 - 2000/128 = -4.625 <= 0; server and
    // seeders carry 2000 + 128 * 5 = 2640 Mb/s > lambda F = 2048 Mb/s.
    let model = isolated(vec![swarm(0.5, 10.0, 1.0)]);
    let eq = isolated_equilibria(&model, &[2000.0])[0];
    assert_eq!(eq.regime, Regime::ServerAndSeedersSuffice);
    assert_eq!(eq.x, 0.0);
    assert!(close(eq.y, 5.0, 1e-12));
    assert_eq!(eq.regime.fluid_time_s(), 0.0);
    // Exactly on the edge (x = 0, u_s = 11 * 128 = 1408) is no solution too.
    let edge = isolated_equilibria(&model, &[1408.0])[0];
    assert_eq!(edge.regime, Regime::ServerAndSeedersSuffice);
}

#[test]
fn cross_closed_forms_match_hand_computation() {
    // beta = 0.2, theta = 0.25, eta = 0.8, 1/gamma = 10 s, lambda_i = 0.5
    // for two images, so lambda = 1.
    // Eq. (6), u_s^i = 256: (1-beta)F / ((1-theta)u_c) = 3276.8/96 = 34.1333;
    // (34.1333 - 10) / 0.8 = 30.1667; 256 / (0.5 * 0.8 * 96) = 6.6667;
    // T_d^i = 23.5 s, x_i = 0.5 * 23.5 = 11.75, y_i = 5.
    // Eq. (7), u_s^0 = 128: beta F / (theta u_c) = 819.2/32 = 25.6;
    // (25.6 - 10) / 0.8 = 19.5; 128 / (1 * 0.8 * 32) = 5; T_d^0 = 14.5 s,
    // x_0 = 14.5, y_0 = 1 / 0.1 = 10.
    let s = swarm(0.5, 10.0, 0.8);
    let model = cross(0.2, s, vec![s, s]);
    let eq = cross_equilibria(&model, 0.25, &[128.0, 256.0, 256.0]);
    assert!(close(t_d(&eq[0]), 14.5, 1e-12));
    assert!(close(eq[0].x, 14.5, 1e-12) && close(eq[0].y, 10.0, 1e-12));
    for e in &eq[1..] {
        assert!(close(t_d(e), 23.5, 1e-12));
        assert!(close(e.x, 11.75, 1e-12) && close(e.y, 5.0, 1e-12));
    }
}

#[test]
fn cross_no_positive_solution_is_reported_per_swarm() {
    // Same model; u_s^0 = 1000 puts Swarm 0 at 19.5 - 1000/25.6 < 0, while
    // Swarm 1 keeps T_d = 23.5 s.
    let s = swarm(0.5, 10.0, 0.8);
    let model = cross(0.2, s, vec![s]);
    let eq = cross_equilibria(&model, 0.25, &[1000.0, 128.0]);
    assert_eq!(eq[0].regime, Regime::ServerAndSeedersSuffice);
    assert_eq!(eq[0].x, 0.0);
    // Swarm 1 alone has lambda = 0.5, so Swarm 0 has lambda = 0.5 too:
    // 128 / (0.5 * 0.8 * 96) = 3.3333, T_d^1 = 30.1667 - 3.3333 = 26.8333.
    assert!(close(t_d(&eq[1]), 26.833_333_333_333, 1e-9));
}

// ---- Theorem III.1 ----

#[test]
fn theorem_iii_1_by_hand_all_served() {
    // Equal eta = 1, 1/gamma = 10: a = 22 s for both; lambda = (1, 0.25),
    // so b = (1/128, 1/32). u_s = 640 split 512/128 (proportional, 4:1):
    // T = 22 - 512/128 = 22 - 128/32 = 18 s.
    let model = isolated(vec![swarm(1.0, 10.0, 1.0), swarm(0.25, 10.0, 1.0)]);
    let a = optimal_isolated_allocation(&model, 640.0);
    assert!(close(a.u_s_mbps[0], 512.0, 1e-9) && close(a.u_s_mbps[1], 128.0, 1e-9));
    assert_eq!(a.common, Regime::UploadConstrained { t_d_s: 18.0 });
    assert_eq!(proportional_allocation(&model, 640.0), vec![512.0, 128.0]);
}

#[test]
fn theorem_iii_1_by_hand_one_swarm_already_faster() {
    // Swarm 2 seeds for 20 s: a_2 = 32 - 20 = 12 s. Serving only swarm 1
    // (a_1 = 22, b_1 = 1/128) gives 22 - 640/128 = 17 s > 12, so swarm 2
    // gets nothing and stays at 12 s: the optimum does not equalise.
    let model = isolated(vec![swarm(1.0, 10.0, 1.0), swarm(0.25, 20.0, 1.0)]);
    let a = optimal_isolated_allocation(&model, 640.0);
    assert_eq!(a.u_s_mbps, vec![640.0, 0.0]);
    assert_eq!(a.common, Regime::UploadConstrained { t_d_s: 17.0 });
    let eq = isolated_equilibria(&model, &a.u_s_mbps);
    assert!(close(t_d(&eq[1]), 12.0, 1e-12));
}

#[test]
fn theorem_iii_1_reports_when_server_and_seeders_suffice() {
    // a = 22 s for both, weights 1/b = 128 and 32: level = (22 * 160 -
    // 8000) / 160 = -28 s <= 0: every swarm can be served on arrival.
    let model = isolated(vec![swarm(1.0, 10.0, 1.0), swarm(0.25, 10.0, 1.0)]);
    let a = optimal_isolated_allocation(&model, 8000.0);
    assert_eq!(a.common, Regime::ServerAndSeedersSuffice);
    assert!(close(a.u_s_mbps.iter().sum(), 8000.0, 1e-9));
    let eq = isolated_equilibria(&model, &a.u_s_mbps);
    assert!(
        eq.iter()
            .all(|e| e.regime == Regime::ServerAndSeedersSuffice && e.x == 0.0)
    );
}

// ---- Theorem III.2 ----

#[test]
fn theorem_iii_2_special_case_is_water_filling_at_theta_beta() {
    // Equal eta, gamma in all K + 1 swarms; theta = beta = 0.3, u_s = 640,
    // lambda = (1, 0.25): u_s^0 = 0.3 * 640 = 192,
    // u_s^i = 0.7 * 640 * (0.8, 0.2) = (358.4, 89.6). Every T_d is
    // (F/u_c - 1/gamma - u_s/(lambda u_c)) / eta = 32 - 10 - 640/160 = 18 s.
    let s = swarm(1.0, 10.0, 1.0);
    let model = cross(0.3, s, vec![s, swarm(0.25, 10.0, 1.0)]);
    let special = cross_special_allocation(&model, 640.0);
    let expected = [192.0, 358.4, 89.6];
    assert!(
        special
            .iter()
            .zip(expected)
            .all(|(u, e)| close(*u, e, 1e-9))
    );
    let at_beta = cross_allocation_at(&model, 0.3, 640.0);
    assert!(
        at_beta
            .u_s_mbps
            .iter()
            .zip(expected)
            .all(|(u, e)| close(*u, e, 1e-9))
    );
    for e in cross_equilibria(&model, 0.3, &special) {
        assert!(close(t_d(&e), 18.0, 1e-9));
    }
}

#[test]
fn theorem_iii_2_with_equal_eta_gamma_is_flat_in_theta_and_equals_isolated() {
    // The inconsistency noted in the module docs: with equal eta and gamma
    // the optimal level at any theta that serves every swarm is 18 s, the
    // isolated model's optimum; theta = beta is one point of a flat minimum.
    let s = swarm(1.0, 10.0, 1.0);
    let model = cross(0.3, s, vec![s, swarm(0.25, 10.0, 1.0)]);
    // Every swarm is served while u_s^0 = lambda (beta F - theta u_c (1/gamma
    // + eta M)) = 1.25 (1228.8 - 3584 theta) >= 0 and u_s^i = lambda_i
    // (2867.2 - 3584 (1 - theta)) >= 0: theta in [0.2, 0.342857].
    for theta in [0.21, 0.3, 0.34] {
        let a = cross_allocation_at(&model, theta, 640.0);
        assert!(a.u_s_mbps.iter().all(|&u| u > 0.0));
        assert!(close(a.common.fluid_time_s(), 18.0, 1e-9), "theta {theta}");
    }
    for theta in [0.1, 0.5] {
        assert!(
            cross_allocation_at(&model, theta, 640.0)
                .common
                .fluid_time_s()
                > 18.0 + 1e-6
        );
    }
    let opt = optimal_cross_allocation(&model, 640.0);
    assert!(close(opt.common.fluid_time_s(), 18.0, 1e-9));
    let iso = isolated(model.swarms.clone());
    assert!(close(
        optimal_isolated_allocation(&iso, 640.0)
            .common
            .fluid_time_s(),
        18.0,
        1e-9
    ));
}

#[test]
fn theorem_iii_2_gains_when_swarm_0_is_more_efficient() {
    // eta_0 = 1 against eta_i = 0.5: the optimum moves theta away from beta
    // and beats both the special case and the isolated model.
    let model = cross(
        0.3,
        swarm(1.0, 10.0, 1.0),
        vec![swarm(1.0, 10.0, 0.5), swarm(0.25, 10.0, 0.5)],
    );
    let opt = optimal_cross_allocation(&model, 640.0);
    let special = cross_special_allocation(&model, 640.0);
    let special_s = max_closed_form_s(&model.fluid_swarms(0.3), &special);
    assert!(opt.common.fluid_time_s() < special_s - 1e-6);
    assert!((opt.theta - 0.3).abs() > 1e-3);
    let iso = isolated(model.swarms.clone());
    let iso_s = optimal_isolated_allocation(&iso, 640.0)
        .common
        .fluid_time_s();
    assert!(opt.common.fluid_time_s() < iso_s);
}

// ---- Fluid ODEs ----

const ODE: OdeSettings = OdeSettings {
    step_s: 0.01,
    horizon_s: 400.0,
    record_every_steps: 100,
};

fn within_one_percent(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 0.01 * expected
}

#[test]
fn isolated_ode_reaches_the_closed_form_equilibrium() {
    // Upload-constrained: F/u_c = 32 > 1/gamma + u_s/(u_c lambda) = 10 + 8.
    // Equilibrium x = 7, y = 5 (eq. 1, worked above); with eta = 0.9 the
    // equilibrium is stable (gamma = 0.1 > u_c (1 - eta) / F = 0.003).
    let model = isolated(vec![swarm(0.5, 10.0, 1.0), swarm(0.5, 10.0, 0.9)]);
    let rates = [512.0, 512.0];
    let path = integrate_isolated(&model, &rates, &ODE);
    assert_eq!(path[0].t_s, 0.0);
    assert!(path[0].x.iter().chain(&path[0].y).all(|&v| v == 0.0));
    assert_eq!(path.len(), 401);
    assert!(close(path.last().unwrap().t_s, 400.0, 1e-9));
    assert!(path.windows(2).all(|w| w[1].t_s > w[0].t_s));
    let end = path.last().unwrap();
    for (i, eq) in isolated_equilibria(&model, &rates).iter().enumerate() {
        assert!(
            within_one_percent(end.x[i], eq.x),
            "x[{i}] {} vs {}",
            end.x[i],
            eq.x
        );
        assert!(
            within_one_percent(end.y[i], eq.y),
            "y[{i}] {} vs {}",
            end.y[i],
            eq.y
        );
    }
}

#[test]
fn cross_ode_reaches_the_closed_form_equilibria() {
    // beta = theta = 0.5: Swarm 0 has S = 2048, c = 64, lambda = 1,
    // u_s^0 = 512: T_d^0 = 32 - 10 - 512/64 = 14 s, x_0 = 14, y_0 = 10.
    // Swarm i: S = 2048, c = 64, lambda_i = 0.5, u_s^i = 256:
    // T_d^i = 32 - 10 - 256/32 = 14 s, x_i = 7, y_i = 5.
    let s = swarm(0.5, 10.0, 1.0);
    let model = cross(0.5, swarm(1.0, 10.0, 1.0), vec![s, s]);
    let rates = [512.0, 256.0, 256.0];
    let eq = cross_equilibria(&model, 0.5, &rates);
    assert!(close(eq[0].x, 14.0, 1e-12) && close(eq[1].x, 7.0, 1e-12));
    let end = integrate_cross(&model, 0.5, &rates, &ODE).pop().unwrap();
    for (i, e) in eq.iter().enumerate() {
        assert!(
            within_one_percent(end.x[i], e.x),
            "x[{i}] {} vs {}",
            end.x[i],
            e.x
        );
        assert!(
            within_one_percent(end.y[i], e.y),
            "y[{i}] {} vs {}",
            end.y[i],
            e.y
        );
    }
}

#[test]
fn ode_stays_on_the_boundary_when_server_and_seeders_suffice() {
    // u_s = 2000 (no positive solution, see above). From the empty start
    // the server alone completes 2000 / 4096 = 0.49 peers/s < lambda = 0.5,
    // so a few leechers queue until seeders build up; then the service
    // term would push x below 0 and the boundary holds it at 0. Seeders
    // approach lambda / gamma = 5.
    let model = isolated(vec![swarm(0.5, 10.0, 1.0)]);
    let path = integrate_isolated(&model, &[2000.0], &ODE);
    assert!(path.iter().all(|p| p.x[0] >= 0.0));
    assert!(path.iter().any(|p| p.x[0] > 0.0));
    let end = path.last().unwrap();
    assert_eq!(end.x[0], 0.0);
    assert!(within_one_percent(end.y[0], 5.0));
}

// ---- Summaries (Figures 3-4) ----

#[test]
fn isolated_summary_by_hand() {
    // lambda = (1, 0.25), equal split 320/320: T_1 = 22 - 320/128 = 19.5,
    // T_2 = 22 - 320/32 = 12; mean = (19.5 + 0.25 * 12) / 1.25 = 18.
    let model = isolated(vec![swarm(1.0, 10.0, 1.0), swarm(0.25, 10.0, 1.0)]);
    let s = isolated_summary(&model, &[320.0, 320.0]);
    assert!(close(s.weighted_mean_s, 18.0, 1e-12) && close(s.max_s, 19.5, 1e-12));
}

#[test]
fn cross_summary_takes_the_slower_part_of_each_image() {
    // The hand-computed cross model: T_d^0 = 14.5, image 1 has
    // T_d^1 = 23.5; image 2 gets u_s^2 = 2000 > 30.1667 * 38.4, so its own
    // part is unconstrained and the image takes T_d^0 = 14.5.
    // Mean (23.5 + 14.5) / 2 = 19, max 23.5.
    let s = swarm(0.5, 10.0, 0.8);
    let model = cross(0.2, s, vec![s, s]);
    let summary = cross_summary(&model, 0.25, &[128.0, 256.0, 2000.0]);
    assert!(close(summary.weighted_mean_s, 19.0, 1e-9) && close(summary.max_s, 23.5, 1e-9));
}

#[test]
fn summary_counts_unconstrained_images_as_zero() {
    let times = [
        Regime::UploadConstrained { t_d_s: 4.0 },
        Regime::ServerAndSeedersSuffice,
    ];
    let s = summarize(&[1.0, 3.0], &times);
    assert!(close(s.weighted_mean_s, 1.0, 1e-12) && s.max_s == 4.0);
}

// ---- Properties on random inputs ----

fn any_swarm() -> impl Strategy<Value = SwarmParams> {
    (0.01f64..5.0, 0.005f64..1.0, 0.1f64..=1.0).prop_map(|(lambda_per_s, gamma_per_s, eta)| {
        SwarmParams {
            lambda_per_s,
            gamma_per_s,
            eta,
        }
    })
}

fn any_isolated() -> impl Strategy<Value = IsolatedModel> {
    (
        100.0f64..10_000.0,
        1.0f64..1000.0,
        prop::collection::vec(any_swarm(), 1..=8),
    )
        .prop_map(|(file_mb, u_c_mbps, swarms)| IsolatedModel {
            file_mb,
            u_c_mbps,
            swarms,
        })
}

fn any_cross() -> impl Strategy<Value = CrossModel> {
    (any_isolated(), 0.05f64..0.95, any_swarm()).prop_map(|(m, beta, common)| CrossModel {
        file_mb: m.file_mb,
        u_c_mbps: m.u_c_mbps,
        beta,
        common_gamma_per_s: common.gamma_per_s,
        common_eta: common.eta,
        swarms: m.swarms,
    })
}

/// Rounding scale of a water-filling problem: its largest term.
fn tolerance(swarms: &[FluidSwarm], u_s_mbps: f64) -> f64 {
    let lines = swarms.iter().map(FluidSwarm::linear_time);
    let big = lines
        .map(|l| l.intercept_s.abs() + l.slope_s_per_mbps * u_s_mbps)
        .fold(1.0, f64::max);
    1e-9 * big
}

/// Water-filling's guarantees: rates >= 0 summing to `u_s`; served swarms
/// at the common level; unserved swarms at or below it; no other allocation
/// (`others`) reaches a lower maximum.
fn check_water_filling(
    swarms: &[FluidSwarm],
    u_s_mbps: f64,
    rates: &[f64],
    others: &[Vec<f64>],
) -> f64 {
    let tol = tolerance(swarms, u_s_mbps);
    assert!(rates.iter().all(|&u| u >= 0.0));
    assert!(close(rates.iter().sum(), u_s_mbps, 1e-9 * (1.0 + u_s_mbps)));
    let level = max_closed_form_s(swarms, rates);
    for (s, &u) in swarms.iter().zip(rates) {
        let t = s.linear_time().value_s(u);
        if u > 0.0 {
            assert!(close(t, level, tol), "served swarm at {t}, level {level}");
        } else {
            assert!(
                t <= level + tol,
                "unserved swarm at {t} above level {level}"
            );
        }
    }
    for other in others {
        assert!(max_closed_form_s(swarms, other) >= level - tol);
    }
    level
}

fn equal_split(n: usize, u_s_mbps: f64) -> Vec<f64> {
    vec![u_s_mbps / n as f64; n]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn theorem_iii_1_water_filling_is_optimal(model in any_isolated(), u_s in 0.0f64..20_000.0) {
        let a = optimal_isolated_allocation(&model, u_s);
        let swarms = model.fluid_swarms();
        let others = [proportional_allocation(&model, u_s), equal_split(swarms.len(), u_s)];
        let level = check_water_filling(&swarms, u_s, &a.u_s_mbps, &others);
        // The reported time is the level, or 0 when it is not positive.
        prop_assert!(close(a.common.fluid_time_s(), level.max(0.0), tolerance(&swarms, u_s)));
        // Never a negative time, swarm by swarm.
        for e in isolated_equilibria(&model, &a.u_s_mbps) {
            prop_assert!(e.x >= 0.0 && e.regime.fluid_time_s() >= 0.0);
        }
    }

    #[test]
    fn theorem_iii_1_special_case_is_reproduced(
        model in any_isolated(),
        shared in any_swarm(),
        u_s in 1.0f64..20_000.0,
    ) {
        // Equal eta and gamma: every a_i is equal, so every swarm is served
        // and the general solver gives u_s lambda_i / lambda.
        let mut model = model;
        for s in &mut model.swarms {
            s.gamma_per_s = shared.gamma_per_s;
            s.eta = shared.eta;
        }
        let a = optimal_isolated_allocation(&model, u_s);
        let special = proportional_allocation(&model, u_s);
        for (u, p) in a.u_s_mbps.iter().zip(&special) {
            prop_assert!(close(*u, *p, 1e-9 * u_s), "{} vs {}", u, p);
        }
    }

    #[test]
    fn theorem_iii_2_optimum_beats_the_special_case_and_a_theta_grid(
        model in any_cross(),
        u_s in 0.0f64..20_000.0,
    ) {
        let opt = optimal_cross_allocation(&model, u_s);
        prop_assert!(opt.theta > 0.0 && opt.theta < 1.0);
        let swarms = model.fluid_swarms(opt.theta);
        let level = check_water_filling(&swarms, u_s, &opt.u_s_mbps, &[]);
        prop_assert!(close(opt.common.fluid_time_s(), level.max(0.0), tolerance(&swarms, u_s)));
        // No worse than theta = beta with the eq. (9) allocation ...
        let at_beta = model.fluid_swarms(model.beta);
        let special = max_closed_form_s(&at_beta, &cross_special_allocation(&model, u_s));
        prop_assert!(level <= special + tolerance(&at_beta, u_s), "{} > {}", level, special);
        // ... nor than the optimal allocation at any theta of a grid.
        for k in 1..100 {
            let theta = k as f64 / 100.0;
            let grid = model.fluid_swarms(theta);
            let at = max_closed_form_s(&grid, &cross_allocation_at(&model, theta, u_s).u_s_mbps);
            let tol = tolerance(&grid, u_s).max(tolerance(&swarms, u_s));
            prop_assert!(level <= at + tol, "theta* {}: {} > {} at {}", opt.theta, level, at, theta);
        }
    }
}
