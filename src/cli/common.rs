//! Flags shared by the commands that run a model several times (compare, capacity).

use std::path::PathBuf;

use clap::Args;

use super::parse_override;
use crate::model::{self, FileError, Model, Override};

/// A model with overrides and run settings.
#[derive(Args, Debug, Clone)]
pub struct ModelArgs {
    /// The model file (JSON).
    pub model: PathBuf,
    /// Override a model field for every run (dotted path = JSON value or bare string).
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = parse_override)]
    pub set: Vec<Override>,
    /// Replications per configuration.
    #[arg(long, default_value_t = 10, value_parser = super::parse_replications)]
    pub replications: usize,
    /// Base seed; replication k uses the same derived seed in every configuration.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated time per run, e.g. 2h (overrides run.duration).
    #[arg(long)]
    pub duration: Option<String>,
    /// Warm-up per run, e.g. 10m (overrides run.warmup).
    #[arg(long)]
    pub warmup: Option<String>,
    /// Worker threads; 0 (the default) uses every core. Results do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = super::parse_threads)]
    pub threads: usize,
    /// Output folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// `--set` overrides followed by the run-setting flags that were given (they win), e.g.
/// `[("run.duration", "--duration", &args.duration)]`.
pub fn with_run_settings(set: &[Override], flags: &[(&str, &str, &Option<String>)]) -> Vec<Override> {
    let mut o = set.to_vec();
    for (path, flag, v) in flags {
        if let Some(v) = v {
            o.push(Override::from_flag(path, flag, v.clone()));
        }
    }
    o
}

impl ModelArgs {
    /// The base overrides: --set, then --duration and --warmup.
    pub fn overrides(&self) -> Vec<Override> {
        with_run_settings(
            &self.set,
            &[("run.duration", "--duration", &self.duration), ("run.warmup", "--warmup", &self.warmup)],
        )
    }

    /// Loads the model with the base overrides plus `extra`.
    pub fn load(&self, extra: &[Override]) -> Result<Model, FileError> {
        let mut o = self.overrides();
        o.extend(extra.iter().cloned());
        model::load(&self.model, &o)
    }
}
