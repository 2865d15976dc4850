//! Sharding a sweep across machines: shard K of N runs the points whose index ≡ K−1 (mod N).
//! Without `--shard`, the index and count are read from the batch system's environment.

use anyhow::{Context, Result, bail};

/// A share of the points; `index` is 0-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

impl Shard {
    /// Whether point `i` belongs to this shard (round-robin, which balances cheap and costly
    /// points better than contiguous blocks).
    pub fn contains(self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// Whether this is the whole sweep.
    pub fn is_whole(self) -> bool {
        self.count == 1
    }

    /// Parses `K/N` with 1 ≤ K ≤ N; the message says what is wrong in full (clap shows it as is).
    pub fn parse(s: &str) -> Result<Shard, String> {
        let usage = "write K/N to run the K-th of N equal shares of the points, e.g. 2/8";
        let (k, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not K/N; {usage}"))?;
        let k: usize = k.trim().parse().map_err(|_| format!("K = `{}` is not a whole number; {usage}", k.trim()))?;
        let n: usize = n.trim().parse().map_err(|_| format!("N = `{}` is not a whole number; {usage}", n.trim()))?;
        Shard::new(k, n).map_err(|e| e.to_string())
    }

    fn new(k1: usize, n: usize) -> Result<Shard> {
        if n == 0 {
            bail!("the number of shards N must be at least 1, got 0");
        }
        if k1 == 0 || k1 > n {
            bail!("shard K must be between 1 and N (shards are numbered from 1), got K = {k1} with N = {n}");
        }
        Ok(Shard { index: k1 - 1, count: n })
    }

    /// The shard from the environment of a batch array job, if there is one:
    /// Slurm (`SLURM_ARRAY_TASK_ID`, offset by `SLURM_ARRAY_TASK_MIN`, and
    /// `SLURM_ARRAY_TASK_COUNT`), a Kubernetes Indexed Job (`JOB_COMPLETION_INDEX`, 0-based, with
    /// `count` from `--shard-count`) or AWS Batch (`AWS_BATCH_JOB_ARRAY_INDEX`, 0-based, with
    /// `count` from `--shard-count`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>, count: Option<usize>) -> Result<Option<Shard>> {
        let num = |name: &str| -> Result<Option<usize>> {
            get(name).map(|v| v.trim().parse().with_context(|| format!("{name}=`{v}` is not a number"))).transpose()
        };
        if let Some(id) = num("SLURM_ARRAY_TASK_ID")? {
            if let Some(n) = count {
                // Explicit count: task IDs are the shard numbers (reruns such as --array=3,7).
                return Shard::new(id, n).map(Some).context("with --shard-count N, array task IDs must be 1..N");
            }
            let n = num("SLURM_ARRAY_TASK_COUNT")?.context("SLURM_ARRAY_TASK_COUNT is not set")?;
            let min = num("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let max = num("SLURM_ARRAY_TASK_MAX")?.unwrap_or(min + n.max(1) - 1);
            let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
            if step != 1 || max + 1 - min != n || n == 1 {
                bail!(
                    "this Slurm array ({min}-{max}, step {step}, {n} tasks) is not one contiguous range of all the shards \
                     (a stepped array, a list or a one-task rerun): give the number of shards with --shard-count N \
                     (task IDs are then the shard numbers), or --shard K/N"
                );
            }
            return Shard::new(id.checked_sub(min).context("SLURM_ARRAY_TASK_ID below SLURM_ARRAY_TASK_MIN")? + 1, n)
                .map(Some);
        }
        for var in ["JOB_COMPLETION_INDEX", "AWS_BATCH_JOB_ARRAY_INDEX"] {
            if let Some(i) = num(var)? {
                let n = count.with_context(|| format!("{var} is set: give the number of shards with --shard-count"))?;
                return Shard::new(i + 1, n).map(Some);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let owned: Vec<(String, String)> = pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect();
        move |k| owned.iter().find(|(a, _)| a == k).map(|(_, b)| b.clone())
    }

    #[test]
    fn parses_and_reads_batch_environments() {
        assert_eq!(Shard::parse("2/3").unwrap(), Shard { index: 1, count: 3 });
        assert!(Shard::parse("0/3").is_err() && Shard::parse("4/3").is_err() && Shard::parse("x").is_err());
        let slurm =
            env(&[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "1"), ("SLURM_ARRAY_TASK_COUNT", "8")]);
        assert_eq!(Shard::from_env(slurm, None).unwrap(), Some(Shard { index: 4, count: 8 }));
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "14"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert!(Shard::from_env(&stepped, None).is_err(), "a stepped array is refused without a count");
        let rerun =
            env(&[("SLURM_ARRAY_TASK_ID", "5"), ("SLURM_ARRAY_TASK_MIN", "5"), ("SLURM_ARRAY_TASK_COUNT", "1")]);
        assert!(Shard::from_env(&rerun, None).is_err(), "a one-task rerun would run the whole sweep");
        assert_eq!(Shard::from_env(&rerun, Some(8)).unwrap(), Some(Shard { index: 4, count: 8 }));
        let k8s = env(&[("JOB_COMPLETION_INDEX", "0")]);
        assert_eq!(Shard::from_env(&k8s, Some(4)).unwrap(), Some(Shard { index: 0, count: 4 }));
        assert!(Shard::from_env(&k8s, None).is_err(), "an index without a count is an error");
        let aws = env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "2")]);
        assert_eq!(Shard::from_env(aws, Some(3)).unwrap(), Some(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::from_env(env(&[]), Some(3)).unwrap(), None);
        let (a, b) = (Shard { index: 0, count: 3 }, Shard { index: 2, count: 3 });
        assert!(a.contains(3) && !a.contains(2) && b.contains(5));
    }
}
