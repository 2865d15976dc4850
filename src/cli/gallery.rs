//! `capsim gallery`: every experiment run, its claims checked, one table and one page.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;

use crate::experiment::Profile;
use crate::gallery::{self, Tally};

/// Arguments of `capsim gallery`.
#[derive(Args, Debug)]
pub struct GalleryArgs {
    /// Run the experiments as written instead of their quick profiles.
    #[arg(long)]
    pub full: bool,
    /// Run only this experiment (its name or file stem); repeat for several.
    #[arg(long, value_name = "NAME")]
    pub only: Vec<String>,
    /// Worker threads; 0 (the default) uses every core. The outputs do not depend on it.
    #[arg(long, default_value_t = 0, value_parser = super::parse_threads)]
    pub threads: usize,
    /// Output folder.
    #[arg(long, default_value = "output")]
    pub out: PathBuf,
    /// Folder of experiment files.
    #[arg(long, default_value = "experiments")]
    pub experiments: PathBuf,
}

/// Runs the gallery and prints where its files are.
pub fn gallery(args: GalleryArgs) -> Result<()> {
    let start = Instant::now();
    let opts = gallery::Options {
        experiments: args.experiments,
        out: args.out,
        profile: if args.full { Profile::Full } else { Profile::Quick },
        only: args.only,
        threads: args.threads,
        quiet: false,
    };
    let entries = gallery::run(&opts)?;
    let runs: usize = entries.iter().flat_map(|e| &e.table.results).map(|r| r.values.first().map_or(0, Vec::len)).sum();
    crate::say!(
        "gallery: {} experiment{}, {runs} runs in {:.1} s; {}",
        entries.len(),
        if entries.len() == 1 { "" } else { "s" },
        start.elapsed().as_secs_f64(),
        Tally::of(&entries).headline()
    );
    for e in &entries {
        for c in e.claims.iter().filter(|c| c.verdict != crate::experiment::claims::Verdict::Reproduced) {
            crate::say!("  {} / {} ({}): {} — {}", e.exp.spec.name, c.id, c.kind.label(), c.verdict.label(), c.note);
        }
    }
    crate::say!("wrote {0}/README.md, {0}/index.html and one folder per experiment", opts.out.display());
    Ok(())
}
