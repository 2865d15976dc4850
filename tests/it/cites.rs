//! Every claim that quotes a source quotes it as written: each figure a claim cites must occur
//! in the file it names under the shared folder beside the repository (`../shared/`, which CI
//! has next to its clone), and every claim whose source is a seed names the seed file.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The shared folder: `CAPSIM_SHARED` if set, else `../shared` beside the repository.
fn shared_dir() -> PathBuf {
    std::env::var_os("CAPSIM_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// The problems with the citations of every experiment file in `experiments`, read against
/// `shared`: one line each, naming the experiment file, the claim and what is wrong.
fn problems(experiments: &Path, shared: &Path) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(experiments)
        .expect("experiments folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).expect("read")).expect("valid JSON");
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for c in v["claims"].as_array().into_iter().flatten() {
            out.extend(claim_problems(c, shared).into_iter().map(|p| format!("{name}: claim `{}`: {p}", c["id"])));
        }
    }
    out
}

/// What is wrong with one claim's citation, if anything.
fn claim_problems(c: &Value, shared: &Path) -> Vec<String> {
    let source = c["source"].as_str().unwrap_or("");
    let cites = &c["cites"];
    let mut out = Vec::new();
    if source.to_lowercase().contains("seed") && !cites["file"].as_str().is_some_and(|f| f.starts_with("seeds/")) {
        out.push(format!("its source (\"{source}\") is a seed, so `cites.file` must name the seed file (seeds/…)"));
    }
    let Some(file) = cites["file"].as_str() else { return out };
    let text = match std::fs::read_to_string(shared.join(file)) {
        Ok(t) => t,
        Err(e) => return vec![format!("cites {file}, which cannot be read under {}: {e}", shared.display())],
    };
    for q in cites["quotes"].as_array().into_iter().flatten() {
        let q = q.as_str().unwrap_or("");
        if !text.contains(q) {
            out.push(format!("quotes \"{q}\", which does not occur in {file}"));
        }
    }
    out
}

#[test]
fn every_cited_figure_occurs_in_its_source() {
    let shared = shared_dir();
    assert!(
        shared.join("seeds").is_dir(),
        "the seeds folder is absent: expected {} (the shared folder beside the repository, as CI lays it out; \
         set CAPSIM_SHARED to point elsewhere). The claims' citations cannot be checked without it.",
        shared.join("seeds").display()
    );
    let experiments = Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments");
    let found = problems(&experiments, &shared);
    assert!(found.is_empty(), "claims that misquote their source:\n{}", found.join("\n"));
}

#[test]
fn a_misquote_or_a_missing_citation_is_caught() {
    let dir = std::env::temp_dir().join(format!("capsim-cites-{}", std::process::id()));
    let (exps, shared) = (dir.join("experiments"), dir.join("shared"));
    std::fs::create_dir_all(&exps).unwrap();
    std::fs::create_dir_all(shared.join("seeds")).unwrap();
    std::fs::write(shared.join("seeds/000_x.txt"), "P99 spiked from 90ms to 800ms").unwrap();
    let claims = serde_json::json!({ "claims": [
        { "id": "ok", "source": "seed 000", "cites": { "file": "seeds/000_x.txt", "quotes": ["800ms"] } },
        { "id": "misquoted", "source": "seed 000", "cites": { "file": "seeds/000_x.txt", "quotes": ["0.8 s"] } },
        { "id": "uncited", "source": "seed 000 scenario 6" },
        { "id": "no_file", "source": "a paper", "cites": { "file": "seeds/999.txt", "quotes": ["1"] } },
        { "id": "closed_form", "source": "Erlang C" }
    ]});
    std::fs::write(exps.join("e.json"), claims.to_string()).unwrap();
    let found = problems(&exps, &shared);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(found[0].contains("\"misquoted\"") && found[0].contains("0.8 s"), "{}", found[0]);
    assert!(found[1].contains("\"uncited\"") && found[1].contains("seed file"), "{}", found[1]);
    assert!(found[2].contains("\"no_file\"") && found[2].contains("cannot be read"), "{}", found[2]);
}
