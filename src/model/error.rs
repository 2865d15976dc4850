//! Errors for model and experiment files: each names the file, the dotted JSON path (the same
//! syntax `--set` uses), the line:column where the path exists in the file, and what was expected.

use std::fmt;

/// One problem found in a file.
#[derive(Clone, Debug, PartialEq)]
pub struct Issue {
    /// Dotted path into the JSON document, e.g. `stations.server.servers`; empty for the root.
    pub path: String,
    /// 1-based line and column of the value at `path` (or its nearest existing parent).
    pub line_col: Option<(usize, usize)>,
    /// What is wrong and what was expected.
    pub message: String,
    /// The command-line flag the value came from (e.g. `--duration 5 parsecs`), when it did not
    /// come from the file; such issues are reported on the flag, not at a line of the file.
    pub flag: Option<String>,
}

impl Issue {
    /// An issue at `path` without a position yet.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Issue {
        Issue { path: path.into(), line_col: None, message: message.into(), flag: None }
    }
}

/// Everything wrong with one file, in document order of discovery.
#[derive(Clone, Debug, PartialEq)]
pub struct FileError {
    /// The file as the user named it.
    pub file: String,
    /// At least one issue.
    pub issues: Vec<Issue>,
}

impl FileError {
    /// A single-issue error.
    pub fn one(file: &str, issue: Issue) -> FileError {
        FileError { file: file.to_string(), issues: vec![issue] }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.issues.len();
        write!(f, "{} problem{} in {}", n, if n == 1 { "" } else { "s" }, self.file)?;
        for i in &self.issues {
            if let Some(flag) = &i.flag {
                write!(f, "\n  {flag}: at `{}`: {}", i.path, i.message)?;
                continue;
            }
            write!(f, "\n  {}", self.file)?;
            if let Some((l, c)) = i.line_col {
                write!(f, ":{l}:{c}")?;
            }
            if i.path.is_empty() {
                write!(f, ": {}", i.message)?;
            } else {
                write!(f, ": at `{}`: {}", i.path, i.message)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}
