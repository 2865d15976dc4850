//! `capsim sweep` and `capsim merge`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use crate::experiment::output::{Table, merge};
use crate::experiment::shard::Shard;
use crate::experiment::sweep::{Options, run_sweep};
use crate::experiment::{self};

/// Arguments of `capsim sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// The experiment file (JSON).
    pub experiment: PathBuf,
    /// Worker threads; 0 (the default) uses every core. The output does not depend on it.
    #[arg(long, default_value_t = 0, value_parser = super::parse_threads)]
    pub threads: usize,
    /// Output folder (default output/<experiment name>/, or …/shard-K-of-N/ for a shard).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N (1-based), e.g. 2/8. Default: from SLURM_ARRAY_TASK_ID,
    /// JOB_COMPLETION_INDEX or AWS_BATCH_JOB_ARRAY_INDEX when set, else the whole sweep.
    #[arg(long, value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Number of shards, for JOB_COMPLETION_INDEX and AWS_BATCH_JOB_ARRAY_INDEX (whose
    /// environments do not carry it).
    #[arg(long)]
    pub shard_count: Option<usize>,
}

/// Runs the sweep (or one shard of it) and writes its outputs.
pub fn sweep(args: SweepArgs) -> Result<()> {
    let exp = experiment::load(&args.experiment)?;
    let shard = match args.shard {
        Some(s) => s,
        None => Shard::from_env(|k| std::env::var(k).ok(), args.shard_count)?.unwrap_or_default(),
    };
    let default_dir = PathBuf::from("output").join(&exp.spec.name);
    let dir = args.out.clone().unwrap_or_else(|| {
        if shard.is_whole() {
            default_dir
        } else {
            default_dir.join(format!("shard-{}-of-{}", shard.index + 1, shard.count))
        }
    });
    let start = Instant::now();
    let results = run_sweep(&exp, &Options { threads: args.threads, shard, quiet: false, bar: None })?;
    let reps: Vec<usize> = results.iter().map(|r| r.values.first().map_or(0, Vec::len)).collect();
    let runs: usize = reps.iter().sum();
    let (lo, hi) = (reps.iter().min().copied().unwrap_or(0), reps.iter().max().copied().unwrap_or(0));
    let reps_text = if lo == hi { format!("{lo}") } else { format!("{lo}–{hi} (run-length control)") };
    let table = Table::from_run(&exp, results, shard);
    let written = table.write(&dir)?;
    crate::say!(
        "sweep {}: {} points × {reps_text} replications = {} runs in {:.1} s{}",
        exp.spec.name,
        table.results.len(),
        runs,
        start.elapsed().as_secs_f64(),
        if shard.is_whole() { String::new() } else { format!(" (shard {}/{})", shard.index + 1, shard.count) }
    );
    for w in written {
        crate::say!("wrote {}", w.display());
    }
    Ok(())
}

/// Arguments of `capsim merge`.
#[derive(Args, Debug)]
pub struct MergeArgs {
    /// Shard output folders.
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged outputs (default output/<experiment name>/).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Merges shard folders into the outputs of one whole sweep.
pub fn merge_cmd(args: MergeArgs) -> Result<()> {
    let table = merge(&args.dirs)?;
    let dir = args.out.unwrap_or_else(|| PathBuf::from("output").join(&table.spec.name));
    for w in table.write(&dir)? {
        crate::say!("wrote {}", w.display());
    }
    Ok(())
}
