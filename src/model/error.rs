//! Errors for model and experiment files: each names the file, the dotted JSON path (the same
//! syntax `--set` uses), the line:column where the path exists in the file, and what was expected.

use std::borrow::Cow;
use std::fmt;

/// Digits beyond which a number in a message is shown in scientific notation.
const LONG_NUMBER: usize = 16;

/// `text` with every number of more than [`LONG_NUMBER`] digits (a 1e300 printed whole, or
/// 1e-300 as 0.000…) written in scientific notation, so no message shows 300 digits.
pub fn readable_numbers(text: &str) -> Cow<'_, str> {
    let b = text.as_bytes();
    let is_num = |c: u8| c.is_ascii_digit() || c == b'.';
    if !b.windows(LONG_NUMBER + 1).any(|w| w.iter().all(|&c| is_num(c))) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        let mut j = i + b[i..].iter().take_while(|&&c| is_num(c)).count();
        // An exponent belongs to the number ("1.8446744073709551e19"), so it is not split off.
        if j > i && matches!(b.get(j), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(b.get(j + 1), Some(b'+' | b'-')));
            let exp = b[(j + 1 + sign).min(b.len())..].iter().take_while(|c| c.is_ascii_digit()).count();
            if exp > 0 {
                j += 1 + sign + exp;
            }
        }
        let run = &text[i..j];
        let digits = run.bytes().filter(u8::is_ascii_digit).count();
        match run.parse::<f64>() {
            Ok(x) if digits > LONG_NUMBER => out.push_str(&format!("{x:e}")),
            _ if j > i => out.push_str(run),
            _ => {
                let c = text[i..].chars().next().expect("i is on a char boundary");
                out.push(c);
                i += c.len_utf8();
                continue;
            }
        }
        i = j;
    }
    Cow::Owned(out)
}

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
            let message = readable_numbers(&i.message);
            if let Some(flag) = &i.flag {
                write!(f, "\n  {}: at `{}`: {message}", readable_numbers(flag), i.path)?;
                continue;
            }
            write!(f, "\n  {}", self.file)?;
            if let Some((l, c)) = i.line_col {
                write!(f, ":{l}:{c}")?;
            }
            if i.path.is_empty() {
                write!(f, ": {message}")?;
            } else {
                write!(f, ": at `{}`: {message}", i.path)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FileError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_numbers_are_written_in_scientific_notation() {
        let huge = format!("got {} s", 1e300);
        assert_eq!(readable_numbers(&huge), "got 1e300 s");
        let tiny = format!("got {}, want more", 1e-300);
        assert_eq!(readable_numbers(&tiny), "got 1e-300, want more");
        // A long mantissa with its own exponent stays one number.
        assert_eq!(readable_numbers("got 1.8446744073709551e19 s"), "got 1.8446744073709552e19 s");
        assert_eq!(readable_numbers("x 1.23456789012345678E+29."), "x 1.2345678901234568e29.");
        // Ordinary numbers, and text around them, are left as they are.
        for t in ["from 1 to 4,294,967,295, got 1000000.5", "a 12-digit id 123456789012 · é"] {
            assert_eq!(readable_numbers(t), t);
        }
    }
}
