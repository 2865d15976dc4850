//! The `capsim` command line: argument parsing and one module per subcommand.

mod run;

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
    /// Run one model and write summary.json, timeseries.csv, the resolved model and charts.
    Run(run::RunArgs),
    /// Check a model file and report every problem found.
    Validate {
        /// The model file (JSON).
        model: PathBuf,
        /// Override a field before checking: a dotted path and a JSON value (or a bare string).
        #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
        set: Vec<Override>,
    },
    /// Print the JSON Schema of model files, for editors.
    Schema,
}

/// clap value parser for `--set`.
pub fn parse_override(s: &str) -> Result<Override, String> {
    Override::parse(s)
}

/// Parses arguments, runs the subcommand, and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate { model, set } => validate(&model, &set),
        Command::Schema => {
            let schema = schemars::schema_for!(model::ModelSpec);
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("a schema serialises")
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            2
        }
    }
}

fn validate(path: &std::path::Path, set: &[Override]) -> anyhow::Result<()> {
    let m = model::load(path, set)?;
    println!(
        "{}: ok — model `{}`: {} block(s), {} source(s), {} session population(s), {} class(es)",
        path.display(),
        m.spec.name,
        m.blocks.len(),
        m.sources.len(),
        m.sessions.len(),
        m.classes.len()
    );
    Ok(())
}
