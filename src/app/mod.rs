//! The application: the commands the CLI calls, their output files, and the
//! crate-wide error they report.

pub mod commands;
pub mod error;
pub mod output;
