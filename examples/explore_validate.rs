fn main() {
    let s = vmswarm::validation::Settings::quick();
    let mut all = vmswarm::validation::single_swarm(&s, 0.05).unwrap();
    all.extend(vmswarm::validation::zipf_isolated(&s, 0.1).unwrap());
    all.extend(vmswarm::validation::cross_shared_core(&s, 0.1).unwrap());
    all.extend(vmswarm::validation::subgradient_gap(&s, 0.01).unwrap());
    for c in all {
        println!(
            "{} | {} | pred {:.3} | sim {:.3} +- {:.3} | err {:+.3} | eta {:.3} | {}",
            c.scenario,
            c.quantity,
            c.predicted,
            c.simulated.mean,
            c.simulated.half_width(),
            c.relative_error(),
            c.eta,
            c.passed
        );
    }
}
