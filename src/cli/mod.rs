//! The `capsim` command line: argument parsing and one module per subcommand.

mod breakpoints;
mod capacity;
mod common;
mod compare;
mod gallery;
mod report;
mod run;
mod sweep;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::model::{self, Override};

/// capsim — a deterministic discrete-event capacity simulator.
#[derive(Parser, Debug)]
#[command(name = "capsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run every experiment (quick profiles by default), check their claims, and write the
    /// gallery: one table of every claim (README.md) and a page of every chart (index.html).
    Gallery(gallery::GalleryArgs),
    /// Run one model and write summary.json, timeseries.csv, the resolved model and charts.
    Run(run::RunArgs),
    /// Run an experiment: parameter points × replications in parallel, with confidence intervals.
    Sweep(sweep::SweepArgs),
    /// Join the outputs of sweep shards into what one whole sweep would have written.
    Merge(sweep::MergeArgs),
    /// Compare two configurations of a model under common random numbers (paired differences).
    Compare(compare::CompareArgs),
    /// Find the largest value of a parameter that meets every SLO (bisection with replications).
    Capacity(capacity::CapacityArgs),
    /// What breaks first as load grows: every component's limits at a row of loads, in the
    /// order they are crossed, with the first alarm each trips.
    Breakpoints(breakpoints::BreakpointsArgs),
    /// Write a self-contained index.html showing every chart and table in an output folder.
    Report {
        /// A folder written by run, sweep, merge, compare or capacity.
        dir: PathBuf,
    },
    /// Check a model file (or an experiment file) and report every problem found.
    Validate {
        /// The model or experiment file (JSON).
        model: PathBuf,
        /// Override a field before checking: a dotted path and a JSON value (or a bare string).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
        set: Vec<Override>,
    },
    /// Print the JSON Schema of model files (or, with --experiment, of experiment files).
    Schema {
        /// The schema of experiment files instead.
        #[arg(long)]
        experiment: bool,
    },
}

/// clap value parser for `--set`.
pub fn parse_override(s: &str) -> Result<Override, String> {
    Override::parse(s)
}

/// A whole number of at least `lo` and at most `hi`, with the bound named in the error.
fn bounded(s: &str, lo: usize, hi: usize, what: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        _ => Err(format!("`{s}`: {what} must be a whole number from {lo} to {hi}")),
    }
}

/// clap value parser for `--threads` (0: one per core).
pub fn parse_threads(s: &str) -> Result<usize, String> {
    bounded(s, 0, crate::model::limits::MAX_THREADS, "worker threads (0: one per core)")
}

/// clap value parser for `--replications` of compare and capacity.
pub fn parse_replications(s: &str) -> Result<usize, String> {
    bounded(s, 1, crate::model::limits::MAX_REPLICATIONS, "replications")
}

/// clap value parser for `--max-probes`.
pub fn parse_probes(s: &str) -> Result<usize, String> {
    bounded(s, 2, crate::model::limits::MAX_PROBES, "probes")
}

/// Parses arguments, runs the subcommand, and returns the process exit code.
pub fn main() -> i32 {
    // Help and usage errors are printed like everything else, so a closed or full stdout is
    // handled the same way.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            return if e.use_stderr() {
                crate::note!("{}", text.trim_end());
                2
            } else {
                crate::say!("{}", text.trim_end());
                0
            };
        }
    };
    let result = match cli.command {
        Command::Run(args) => match run::run(args) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::Validate { model, set } => validate(&model, &set),
        Command::Gallery(a) => gallery::gallery(a),
        Command::Sweep(a) => sweep::sweep(a),
        Command::Merge(a) => sweep::merge_cmd(a),
        Command::Compare(a) => compare::compare(a),
        Command::Capacity(a) => capacity::capacity(a),
        Command::Breakpoints(a) => breakpoints::breakpoints(a),
        Command::Report { dir } => report::report(&dir),
        Command::Schema { experiment } => {
            let schema = if experiment {
                schemars::schema_for!(crate::experiment::ExperimentSpec)
            } else {
                schemars::schema_for!(model::ModelSpec)
            };
            crate::say!("{}", serde_json::to_string_pretty(&schema).expect("a schema serialises"));
            Ok(())
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            crate::note!("error: {e}");
            for cause in e.chain().skip(1) {
                crate::note!("  caused by: {cause}");
            }
            2
        }
    }
}

fn validate(path: &std::path::Path, set: &[Override]) -> anyhow::Result<()> {
    if set.is_empty() && is_experiment(path) {
        let e = crate::experiment::load(path)?;
        // The gallery's quick profile may override more of the model (`quick.set`): check it too.
        if e.spec.quick.is_some() {
            crate::experiment::load_profile(path, crate::experiment::Profile::Quick)?;
        }
        crate::say!(
            "{}: ok — experiment `{}`: {} point(s) × {} replication(s), {} claim(s), {} chart(s)",
            path.display(),
            e.spec.name,
            e.points.len(),
            e.spec.replications,
            e.spec.claims.len(),
            e.spec.charts.len()
        );
        return Ok(());
    }
    let m = model::load(path, set)?;
    crate::say!(
        "{}: ok — model `{}`: {} block(s), {} service(s), {} source(s), {} session population(s), {} class(es)",
        path.display(),
        m.spec.name,
        m.blocks.len(),
        m.spec.services.len(),
        m.sources.len(),
        m.sessions.len(),
        m.classes.len()
    );
    Ok(())
}

/// Whether `path` holds an experiment file (a JSON object naming its `model` file).
fn is_experiment(path: &std::path::Path) -> bool {
    let Ok(text) = model::limits::read_bounded(path) else { return false };
    let doc: serde_json::Value = serde_json::from_str(model::json::strip_bom(&text)).unwrap_or_default();
    // A model has no `model` field; an experiment names its model there.
    doc.get("model").is_some()
}
