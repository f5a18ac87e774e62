//! The error every config check returns, and the small range checks the
//! sections share.

use std::fmt;
use std::path::{Path, PathBuf};

/// An error in a config (or a file it points to), naming where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigError {
    /// The file the error is in.
    pub file: PathBuf,
    /// The offending key (dotted path), or empty when the file as a whole is bad.
    pub key: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // One line, whatever the input held: names quoted from a file may
        // contain line breaks.
        let one_line = |s: &str| s.replace('\n', "\\n").replace('\r', "\\r");
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), one_line(&self.message))
        } else {
            write!(
                f,
                "{}: field `{}`: {}",
                self.file.display(),
                one_line(&self.key),
                one_line(&self.message)
            )
        }
    }
}

impl std::error::Error for ConfigError {}

/// Turn a TOML error into one line with the line number and the message.
pub(crate) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            // Quote the line, so that the message names the key even where
            // serde's own message does not (wrong types).
            let source = text.lines().nth(line - 1).unwrap_or("").trim();
            if source.is_empty() {
                format!("line {line}: {message}")
            } else {
                format!("line {line} (`{source}`): {message}")
            }
        }
        None => message,
    }
}

/// The range checks of validation, for one config file: each error names
/// the file and the key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Checks<'a> {
    file: &'a Path,
}

impl<'a> Checks<'a> {
    /// Checks whose errors name `file`.
    pub(crate) fn new(file: &'a Path) -> Checks<'a> {
        Checks { file }
    }

    /// An error at `key`.
    pub(crate) fn err(&self, key: &str, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_path_buf(),
            key: key.to_string(),
            message,
        }
    }

    /// `v` is finite and > 0.
    pub(crate) fn positive(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(self.err(key, format!("must be a finite number > 0 (got {v})")))
        }
    }

    /// `v` is at most `max`.
    pub(crate) fn at_most(&self, key: &str, v: f64, max: f64) -> Result<(), ConfigError> {
        if v <= max {
            Ok(())
        } else {
            Err(self.err(key, format!("must be at most {max:e} (got {v:e})")))
        }
    }

    /// `v` is finite and >= 0.
    pub(crate) fn non_negative(&self, key: &str, v: f64) -> Result<(), ConfigError> {
        if v.is_finite() && v >= 0.0 {
            Ok(())
        } else {
            Err(self.err(key, format!("must be a finite number >= 0 (got {v})")))
        }
    }

    /// A count is at least 1.
    pub(crate) fn at_least_one(&self, key: &str, n: u64) -> Result<(), ConfigError> {
        if n >= 1 {
            Ok(())
        } else {
            Err(self.err(key, "must be at least 1 (got 0)".into()))
        }
    }
}
