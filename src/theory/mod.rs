//! Theory: the paper's fluid model in closed form ([`analytic`]), the
//! figures drawn from it ([`analysis`]), and the simulator checked against it
//! ([`validation`]).

pub mod analysis;
pub mod analytic;
pub mod validation;
