//! Every bound in the source (a `const MAX_…`) is listed in docs/limits.md, with the file it is
//! in when two files use the same name; a bound a user cannot find is a bound they hit blind.

use std::path::Path;

/// Every `const MAX_…` in `dir`, as (file, name).
fn bounds(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            bounds(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            let text = std::fs::read_to_string(&p).unwrap();
            for line in text.lines() {
                let l = line.trim_start().trim_start_matches("pub ").trim_start_matches("pub(crate) ");
                if let Some(rest) = l.strip_prefix("const MAX_") {
                    let name = format!("MAX_{}", rest.split(':').next().unwrap().trim());
                    out.push((p.file_name().unwrap().to_string_lossy().into_owned(), name));
                }
            }
        }
    }
}

#[test]
fn every_bound_is_listed_in_the_docs() {
    let docs = std::fs::read_to_string("docs/limits.md").unwrap();
    let mut found = Vec::new();
    bounds(Path::new("src"), &mut found);
    assert!(found.len() > 40, "only {} bounds found: is the scan broken?", found.len());
    for (file, name) in &found {
        let shared = found.iter().filter(|(_, n)| n == name).count() > 1;
        let row = docs
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}`")) && (!shared || l.contains(&format!("({file})"))));
        assert!(row.is_some(), "{name} ({file}) is not listed in docs/limits.md");
    }
}
