//! The gallery: every experiment in a folder run (its quick profile by default), its outputs
//! and checked claims written under one output folder, with one table of every claim
//! (`README.md`) and one page of every chart (`index.html`, linking the PNGs beside it).

mod page;
mod readme;

pub use page::points_table;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use indicatif::ProgressBar;

use crate::experiment::claims::{ClaimResult, Verdict};
use crate::experiment::output::Table;
use crate::experiment::spec::ClaimKind;
use crate::experiment::sweep::{Options as SweepOptions, bar_style, run_sweep};
use crate::experiment::{Experiment, Profile, load_profile};
pub use crate::report::labels::duration_words;

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
    if opts.only.is_empty() {
        write_pages(&entries, &opts.out, opts.profile)?;
        return Ok(entries);
    }
    // `--only`: the pages still list every experiment whose finished output for its current
    // version is in the folder, so a partial rerun does not drop the others from the page.
    let ran_files: Vec<String> = entries.iter().map(|e| e.file.clone()).collect();
    for (file, exp) in load_all(opts)?.into_iter().filter_map(|(f, e)| e.ok().map(|e| (f, e))) {
        if !ran_files.contains(&file)
            && let Ok(entry) = read_one(opts, file, exp)
        {
            entries.push(entry);
        }
    }
    entries.sort_by(|a, b| a.file.cmp(&b.file));
    write_pages(&entries, &opts.out, opts.profile)?;
    entries.retain(|e| ran_files.contains(&e.file));
    Ok(entries)
}

/// The entries of a gallery already written to `opts.out` by [`run`] with the same options,
/// without running it again: every experiment loaded as `run` loads it, its table read back
/// from its folder's sweep.json and its claims checked again (as `merge` does, the same
/// numbers). An error names the first folder that is missing, cut short, or was written from
/// another version of its experiment (its experiment.resolved.json differs).
pub fn read(opts: &Options) -> Result<Vec<Entry>> {
    let exps = select(load_all(opts)?, &opts.only)?;
    exps.into_iter().map(|(file, exp)| read_one(opts, file, exp)).collect()
}

/// The entry of experiment `exp` (from `file`) read back from its folder in `opts.out`.
fn read_one(opts: &Options, file: String, exp: Experiment) -> Result<Entry> {
    let dir = opts.out.join(&exp.spec.name);
    let table = crate::experiment::output::read(&dir)
        .with_context(|| format!("{} holds no finished gallery output for {file}", dir.display()))?;
    if serde_json::to_value(&table.spec)? != serde_json::to_value(&exp.spec)? {
        bail!(
            "{}/experiment.resolved.json is not {file} as the {} profile runs it: that output was made from another version",
            dir.display(),
            if matches!(opts.profile, Profile::Quick) { "quick" } else { "full" }
        );
    }
    if !table.shard.is_whole() || table.results.len() != exp.points.len() {
        bail!("{}: {} of {} points; run the gallery again", dir.display(), table.results.len(), exp.points.len());
    }
    let claims = table.claims();
    Ok(Entry { exp, file, table, claims })
}

/// Writes the gallery's README.md and index.html into `out`, which holds every experiment's
/// folder (the page inlines their charts).
pub fn write_pages(entries: &[Entry], out: &Path, profile: Profile) -> Result<()> {
    let readme = readme::markdown(entries, profile);
    std::fs::write(out.join("README.md"), readme).context("cannot write the gallery's README.md")?;
    let html = page::html(entries, out, profile)?;
    std::fs::write(out.join("index.html"), html).context("cannot write the gallery's index.html")
}

/// Every experiment file in the folder, loaded: each with its experiment or its problems.
fn load_all(opts: &Options) -> Result<Vec<(String, Result<Experiment, String>)>> {
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
    Ok(files
        .into_iter()
        .map(|f| (f.display().to_string(), load_profile(&f, opts.profile).map_err(|e| e.to_string())))
        .collect())
}

/// The experiments to run: all of them, or those named by `--only` (name or file stem), in file
/// order. A broken file fails the gallery when it is among them; one that `--only` leaves out is
/// skipped with a note, so one experiment can be rerun while another is being written.
fn select(all: Vec<(String, Result<Experiment, String>)>, only: &[String]) -> Result<Vec<(String, Experiment)>> {
    let stem = |f: &str| Path::new(f).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    // Whether `--only o` names file `f` (by stem) or its experiment `e` (by name).
    let names_it = |o: &str, f: &str, e: Option<&Experiment>| stem(f) == o || e.is_some_and(|e| e.spec.name == o);
    let wanted = |f: &str, e: Option<&Experiment>| only.is_empty() || only.iter().any(|o| names_it(o, f, e));
    let (mut ok, mut errors, mut skipped) = (Vec::new(), Vec::new(), Vec::new());
    for (f, r) in all {
        match r {
            Ok(e) => ok.push((f, e)),
            Err(msg) if wanted(&f, None) => errors.push(msg),
            Err(_) => skipped.push(f),
        }
    }
    let names: Vec<String> = ok.iter().map(|(_, e)| e.spec.name.clone()).collect();
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    if let Some(o) = only.iter().find(|o| !ok.iter().any(|(f, e)| names_it(o, f, Some(e)))) {
        let maybe = match skipped.is_empty() {
            true => String::new(),
            false => format!("; these files could not be read, one of them may be it: {}", skipped.join(", ")),
        };
        bail!("--only {o}: no such experiment; experiments: {}{maybe}", names.join(", "));
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
        bail!("two experiments are called `{}`; names must be unique (they name output folders)", w[0]);
    }
    for f in &skipped {
        crate::note!("{f} is not a valid experiment and was skipped (see `capsim validate {f}`)");
    }
    Ok(ok.into_iter().filter(|(f, e)| wanted(f, Some(e))).collect())
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
