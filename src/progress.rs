//! Progress of long work: the library reports it through [`Progress`], the
//! application shows it (a terminal bar). A leaf: it depends on nothing
//! else in the crate.

/// Where long work reports how far it is. Reports may come from several
/// threads at once. Every method does nothing unless overridden.
pub trait Progress: Sync {
    /// The work has `total` steps.
    fn set_total(&self, _total: u64) {}
    /// A named stage begins (the policy a run is on).
    fn stage(&self, _name: &str) {}
    /// `n` more steps are done.
    fn advance(&self, _n: u64) {}
}

/// Progress reported nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}
