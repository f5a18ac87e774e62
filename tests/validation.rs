//! A reduced `validate` run: the single isolated swarm must agree with the
//! fluid model (eqs. 1-2) within the stated tolerance.

use vmswarm::theory::validation::{Settings, Tolerances, single_swarm};

#[test]
fn single_swarm_agrees_with_the_fluid_model() {
    let tol = Tolerances::default();
    let checks = single_swarm(&Settings::quick(), tol.single_swarm).unwrap();
    assert_eq!(checks.len(), 4);
    for c in &checks {
        assert!(
            c.passed,
            "{}: predicted {}, simulated {} ({:+.1}%, tolerance {}%)",
            c.quantity,
            c.predicted,
            c.simulated.mean,
            100.0 * c.relative_error(),
            100.0 * c.tolerance
        );
        // The check is a real comparison: the prediction is a positive time
        // or count, and the simulation ran several seeds.
        assert!(c.predicted > 0.0);
        assert_eq!(c.simulated.n, Settings::quick().seeds);
    }
}
