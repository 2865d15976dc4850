//! The gallery: every experiment in a folder run (its quick profile by default), its outputs
//! and checked claims written under one output folder, with one table of every claim
//! (`README.md`) and one self-contained page of every chart (`index.html`).

mod page;
mod readme;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;

use crate::experiment::claims::{ClaimResult, Verdict};
use crate::experiment::spec::ClaimKind;
use crate::experiment::output::Table;
use crate::experiment::sweep::{Options as SweepOptions, bar_style, run_sweep};
use crate::experiment::{Experiment, Profile, load_profile};

/// What to run and where to write it.
#[derive(Clone, Debug)]
pub struct Options {
    /// Folder holding the experiment files (`*.json`).
    pub experiments: PathBuf,
    /// Output folder: one subfolder per experiment, plus README.md and index.html.
    pub out: PathBuf,
    /// Quick profile (default) or the experiments as written.
    pub profile: Profile,
    /// Only these experiments (by name or file stem); all when empty.
    pub only: Vec<String>,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// No progress output.
    pub quiet: bool,
}

/// One experiment run, with its results and checked claims.
pub struct Entry {
    pub exp: Experiment,
    /// The experiment file as given in the gallery (e.g. `experiments/mmc_servers.json`).
    pub file: String,
    pub table: Table,
    pub claims: Vec<ClaimResult>,
}

/// Runs the gallery and writes every output; returns the entries in file-name order.
pub fn run(opts: &Options) -> Result<Vec<Entry>> {
    let exps = select(load_all(opts)?, &opts.only)?;
    let total: usize = exps.iter().map(|(_, e)| e.points.len() * e.spec.replications as usize).sum();
    let bar = if opts.quiet || !std::io::stderr().is_terminal() {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(total as u64)
    };
    bar.set_style(bar_style("runs"));
    std::fs::create_dir_all(&opts.out).with_context(|| format!("cannot create {}", opts.out.display()))?;
    let mut entries = Vec::new();
    let n = exps.len();
    for (k, (file, exp)) in exps.into_iter().enumerate() {
        let what = format!("experiment {}/{n}: {}", k + 1, exp.spec.name);
        bar.set_message(what.clone());
        if bar.is_hidden() && !opts.quiet {
            crate::note!("{what} ({} points × {} replications)", exp.points.len(), exp.spec.replications);
        }
        let sweep = SweepOptions { threads: opts.threads, quiet: true, bar: Some(bar.clone()), ..Default::default() };
        let results = run_sweep(&exp, &sweep)?;
        let table = Table::from_run(&exp, results, Default::default());
        table.write(&opts.out.join(&exp.spec.name))?;
        let claims = table.claims();
        entries.push(Entry { exp, file, table, claims });
    }
    bar.finish_and_clear();
    let readme = readme::markdown(&entries, opts.profile);
    std::fs::write(opts.out.join("README.md"), readme).context("cannot write the gallery's README.md")?;
    let html = page::html(&entries, &opts.out, opts.profile)?;
    std::fs::write(opts.out.join("index.html"), html).context("cannot write the gallery's index.html")?;
    Ok(entries)
}

/// Every experiment file in the folder, loaded; all problems reported together.
fn load_all(opts: &Options) -> Result<Vec<(String, Experiment)>> {
    let dir = &opts.experiments;
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the experiments folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        bail!("{} holds no experiment files (*.json)", dir.display());
    }
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match load_profile(&f, opts.profile) {
            Ok(e) => out.push((f.display().to_string(), e)),
            Err(e) => errors.push(e.to_string()),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    let mut names: Vec<&str> = out.iter().map(|(_, e)| e.spec.name.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
        bail!("two experiments are called `{}`; names must be unique (they name output folders)", w[0]);
    }
    Ok(out)
}

/// The experiments named by `--only` (name or file stem), in file order.
fn select(all: Vec<(String, Experiment)>, only: &[String]) -> Result<Vec<(String, Experiment)>> {
    if only.is_empty() {
        return Ok(all);
    }
    let stem = |f: &str| Path::new(f).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    for o in only {
        if !all.iter().any(|(f, e)| e.spec.name == *o || stem(f) == *o) {
            let names: Vec<&str> = all.iter().map(|(_, e)| e.spec.name.as_str()).collect();
            bail!("--only {o}: no such experiment; experiments: {}", names.join(", "));
        }
    }
    Ok(all.into_iter().filter(|(f, e)| only.iter().any(|o| e.spec.name == *o || stem(f) == *o)).collect())
}

/// Outcome claims counted by verdict, and the calibration rows (checked, never counted).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub reproduced: usize,
    pub direction_only: usize,
    pub differs: usize,
    pub calibration: usize,
}

impl Tally {
    /// Counts the claims of `entries`.
    pub fn of(entries: &[Entry]) -> Tally {
        let mut t = Tally::default();
        for c in entries.iter().flat_map(|e| &e.claims) {
            match (c.kind, c.verdict) {
                (ClaimKind::Calibration, _) => t.calibration += 1,
                (_, Verdict::Reproduced) => t.reproduced += 1,
                (_, Verdict::DirectionOnly) => t.direction_only += 1,
                (_, Verdict::Differs) => t.differs += 1,
            }
        }
        t
    }

    /// The headline: "61 outcome claims: 40 reproduced, 15 direction only, 6 differ; 23 calibration rows apart."
    pub fn headline(&self) -> String {
        format!(
            "{} outcome claims: {} reproduced, {} direction only, {} differ; {} calibration rows listed apart \
             (checked, not counted: their figures echo an input, follow by construction or are a timeout's clip).",
            self.reproduced + self.direction_only + self.differs,
            self.reproduced,
            self.direction_only,
            self.differs,
            self.calibration
        )
    }
}

/// The profile in words, for headings.
pub fn profile_words(p: Profile) -> &'static str {
    match p {
        Profile::Quick => "quick profile (each experiment's `quick` settings: shorter runs, fewer replications)",
        Profile::Full => "full profile (the experiments as written)",
    }
}

/// Run settings of an experiment in words: points × replications, duration, warm-up.
pub fn settings_words(exp: &Experiment) -> String {
    let first = exp.points.first().map(|p| &p.model);
    let dur = first.map_or(0.0, |m| m.duration.as_secs());
    let warm = first.map_or(0.0, |m| m.warmup.as_secs());
    format!(
        "{} points × {} replications, {} simulated per run ({} warm-up), seed {}",
        exp.points.len(),
        exp.spec.replications,
        duration_words(dur),
        duration_words(warm),
        exp.spec.seed
    )
}

/// Seconds as a short duration: `2 h`, `10 min`, `90 s`.
pub fn duration_words(s: f64) -> String {
    use crate::report::labels::sig;
    match s {
        s if s >= 86_400.0 => format!("{} d", sig(s / 86_400.0, 3)),
        s if s >= 3600.0 => format!("{} h", sig(s / 3600.0, 3)),
        s if s >= 60.0 => format!("{} min", sig(s / 60.0, 3)),
        s => format!("{} s", sig(s, 3)),
    }
}
