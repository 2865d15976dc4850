//! Layers call downward only: the simulation's layers (engine, model, cost, components,
//! metrics, policy, sim) never import the layers that read or drive it (report, cli,
//! experiment, gallery). Checked on the source text, so a new upward `use` fails here with its
//! file and line.

use std::path::{Path, PathBuf};

/// Source folders of the lower layers.
const LOWER: [&str; 7] = ["engine", "model", "cost", "components", "metrics", "policy", "sim"];
/// Top-level modules they must not reach.
const UPPER: [&str; 4] = ["report", "cli", "experiment", "gallery"];

/// A token of Rust source, with its 1-based line; comments and literals are dropped.
#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// The tokens of `text` that matter for paths: identifiers, `::` and punctuation. Comments,
/// string, raw-string and char literals are skipped, so `crate::report` in a doc comment or a
/// message does not count.
fn tokens(text: &str) -> Vec<(usize, Tok)> {
    let c: Vec<char> = text.chars().collect();
    let (mut i, mut line, mut out) = (0, 1, Vec::new());
    let skip_to = |from: usize, end: &str, line: &mut usize| -> usize {
        let end: Vec<char> = end.chars().collect();
        let mut j = from;
        while j < c.len() && !c[j..].starts_with(&end) {
            if c[j] == '\\' && end == ['"'] {
                j += 1; // an escaped character inside a string
            }
            if c.get(j) == Some(&'\n') {
                *line += 1;
            }
            j += 1;
        }
        j + end.len()
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            i = skip_to(i + 2, "*/", &mut line);
        } else if ch == '"' {
            i = skip_to(i + 1, "\"", &mut line);
        } else if ch == 'r' && (next == Some('"') || next == Some('#')) && raw_string_start(&c[i + 1..]).is_some() {
            let hashes = raw_string_start(&c[i + 1..]).unwrap_or(0);
            let end = format!("\"{}", "#".repeat(hashes));
            i = skip_to(i + 2 + hashes, &end, &mut line);
        } else if ch == '\'' {
            // A char literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
            i += match (next, c.get(i + 2)) {
                (Some('\\'), _) => 2 + c[i + 2..].iter().position(|&x| x == '\'').unwrap_or(0) + 1,
                (Some(_), Some('\'')) => 3,
                _ => 1,
            };
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            out.push((line, Tok::Ident(c[start..i].iter().collect())));
        } else if ch == ':' && next == Some(':') {
            out.push((line, Tok::Path));
            i += 2;
        } else {
            if !ch.is_whitespace() {
                out.push((line, Tok::Punct(ch)));
            }
            i += 1;
        }
    }
    out
}

/// The number of `#` of a raw string whose text after the `r` is `rest`, if it is one.
fn raw_string_start(rest: &[char]) -> Option<usize> {
    let hashes = rest.iter().take_while(|&&x| x == '#').count();
    (rest.get(hashes) == Some(&'"')).then_some(hashes)
}

/// How deep the module of a source file is below the crate root: `sim/mod.rs` 1, `sim/run.rs`
/// 2 (so `super::super::` from it is the root).
fn module_depth(rel: &Path) -> usize {
    let parts = rel.components().count();
    if rel.file_name().is_some_and(|n| n == "mod.rs") { parts - 1 } else { parts }
}

/// Every path in `text` (a file `depth` modules below the root) that names a top-level module
/// of `UPPER`: `crate::report…`, `$crate::cli…`, `crate::{…, experiment, …}`, or `super::` hops
/// reaching the root, then one of them. Returned as (line, the path's start and module).
/// Also returns how many paths from the root it read, so a check that reads none can fail.
fn upward(text: &str, depth: usize) -> (Vec<(usize, String)>, usize) {
    let t = tokens(text);
    let (mut found, mut rooted) = (Vec::new(), 0);
    let ident = |k: usize| match t.get(k) {
        Some((_, Tok::Ident(s))) => Some(s.as_str()),
        _ => None,
    };
    for k in 0..t.len() {
        let starts_path = k == 0 || t[k - 1].1 != Tok::Path;
        let (root, mut at) = match ident(k) {
            Some("crate") if starts_path => (true, k + 1),
            Some("super") if starts_path => {
                let mut hops = 0;
                let mut at = k;
                while ident(at) == Some("super") && t.get(at + 1).map(|x| &x.1) == Some(&Tok::Path) {
                    hops += 1;
                    at += 2;
                }
                if hops == 0 {
                    continue; // `pub(super)`
                }
                (hops >= depth, at - 1)
            }
            _ => continue,
        };
        if !root || t.get(at).map(|x| &x.1) != Some(&Tok::Path) {
            continue;
        }
        rooted += 1;
        at += 1;
        let head =
            t[k..at].iter().map(|(_, x)| if let Tok::Ident(s) = x { s.as_str() } else { "::" }).collect::<String>();
        let mut names = Vec::new();
        match t.get(at).map(|x| &x.1) {
            Some(Tok::Ident(s)) => names.push((t[at].0, s.clone())),
            // A group: the first name of each item at its top level.
            Some(Tok::Punct('{')) => {
                let mut level = 0;
                for (j, (line, tok)) in t.iter().enumerate().skip(at) {
                    match tok {
                        Tok::Punct('{') => level += 1,
                        Tok::Punct('}') if level == 1 => break,
                        Tok::Punct('}') => level -= 1,
                        Tok::Ident(s) if level == 1 && matches!(t[j - 1].1, Tok::Punct('{' | ',')) => {
                            names.push((*line, s.clone()))
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        for (line, name) in names {
            if UPPER.contains(&name.as_str()) {
                found.push((line, format!("{head}{name}")));
            }
        }
    }
    (found, rooted)
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

#[test]
fn lower_layers_import_nothing_above_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let (mut files, mut rooted, mut problems) = (0, 0, Vec::new());
    for layer in LOWER {
        for path in rust_files(&src.join(layer)) {
            let rel = path.strip_prefix(&src).unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            let (found, n) = upward(&text, module_depth(rel));
            files += 1;
            rooted += n;
            for (line, what) in found {
                problems.push(format!(
                    "src/{}:{line}: `{what}` (the {layer} layer must not import from above it)",
                    rel.display()
                ));
            }
        }
    }
    // The walk saw the lower layers and their imports (so a wrong folder cannot pass silently).
    assert!(files >= 60 && rooted >= 150, "read only {files} files and {rooted} paths from the crate root");
    assert!(problems.is_empty(), "lower layers import upper ones:\n{}", problems.join("\n"));
}

#[test]
fn the_check_finds_every_form_of_upward_path() {
    let text = r##"//! A doc comment naming crate::report is fine.
use crate::engine::SimTime; // so is crate::cli in a comment
use crate::{model::Model, report::summary::Summary};
use super::world::World;
fn f() -> String {
    let s = "crate::gallery in a string"; let r = r#"crate::cli "quoted" in a raw string"#;
    let c = '"'; let l: &'static str = "";
    super::super::cli::run();
    $crate::experiment::run();
    crate::
        gallery::write()
}
use crate::{
    sim::{self, run},
    experiment,
};
"##;
    let (found, rooted) = upward(text, 2);
    let lines: Vec<(usize, &str)> = found.iter().map(|(l, s)| (*l, s.as_str())).collect();
    assert_eq!(
        lines,
        [
            (3, "crate::report"),
            (8, "super::super::cli"),
            (9, "crate::experiment"),
            (11, "crate::gallery"),
            (15, "crate::experiment")
        ]
    );
    assert_eq!(rooted, 6, "crate::engine, the group, super::super, $crate, crate::gallery, the last group");
    // One `super::` from a file two modules deep stays inside its layer.
    assert!(upward("use super::report::x;", 2).0.is_empty());
    assert_eq!(upward("use super::report::x;", 1).0, [(1, "super::report".to_string())]);
    assert_eq!(module_depth(Path::new("sim/mod.rs")), 1);
    assert_eq!(module_depth(Path::new("model/validate/kinds.rs")), 3);
}
