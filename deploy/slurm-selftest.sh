#!/usr/bin/env bash
# Runs deploy/slurm-sweep.sbatch on a real, throw-away, single-node Slurm cluster and checks that
# the sharded sweep, merged by a dependent job, is byte for byte one unsharded sweep.
#
#   bash deploy/slurm-selftest.sh [path/to/capsim]      (default: target/release/capsim)
#
# What it does:
#   1. installs Debian's slurmctld, slurmd, slurm-client and munge with apt-get unless their
#      programs are already there (needs root; about 20-40 s the first time, 0 s after);
#   2. starts munged, slurmctld and slurmd as background daemons (no systemd) with every file
#      (slurm.conf, munge key and socket, state, spool, logs) in one temp dir; the node is
#      described with the CPUs and RealMemory that `slurmd -C` reports; no accounting;
#   3. submits `sbatch --array=1-3 deploy/slurm-sweep.sbatch` over a small copy of
#      experiments/mmc_servers.json (6 points x 3 replications of 2 h), a rerun of shard 2 the
#      way a failed shard is rerun, and a `--dependency=afterok` job running `capsim merge`;
#      waits at most 5 minutes; checks that every job completed with exit code 0, that two
#      shards fit on a 2-core node at once, and `cmp`s every merged file (points.csv, sweep.json,
#      charts) with one unsharded `capsim sweep` of the same experiment;
#   4. cancels its jobs, stops its daemons and removes the temp dir whatever happens.
# It takes about 15 s once the packages are installed.
#
# Exit status: 0 when the check passed, or when it was skipped (a line "slurm test skipped:
# REASON" says why: not root, no apt-get, the install failed, a daemon did not start);
# 1 when Slurm ran and a job failed, timed out or the outputs differ, or capsim is missing.
# Environment: SLURM_SELFTEST_STRICT=1 turns skips into failures; SLURM_SELFTEST_KEEP=1 keeps
# the temp dir; SLURM_SELFTEST_SBATCH=FILE tests another batch script; SLURM_SELFTEST_TIMEOUT=S
# bounds the wait for the jobs (default 300 s).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$here")
capsim=${1:-$repo/target/release/capsim}
sbatch_file=${SLURM_SELFTEST_SBATCH:-$here/slurm-sweep.sbatch}
job_timeout=${SLURM_SELFTEST_TIMEOUT:-300} # seconds for all the jobs together
shards=3
export PATH=$PATH:/usr/sbin:/sbin
start_time=$SECONDS

say() { echo "slurm-selftest: $*"; }
skip() {
  if [[ ${SLURM_SELFTEST_STRICT:-0} == 1 ]]; then
    echo "slurm test FAILED (strict, would be skipped): $*" >&2
    exit 1
  fi
  echo "slurm test skipped: $*"
  exit 0
}
fail() {
  echo "slurm test FAILED: $*" >&2
  show_logs >&2
  exit 1
}
show_logs() {
  [[ -n ${T:-} && -d ${T:-} ]] || return 0
  local f
  for f in "$T"/work/*.log "$T"/log/*.log "$T"/log/*.out; do
    [[ -s $f ]] || continue
    echo "---- ${f#"$T"/} (last 15 lines)"
    tail -n 15 "$f"
  done
}

# ---- checks that need nothing installed
case $capsim in /*) ;; *) capsim=$PWD/$capsim ;; esac
[[ -x $capsim && ! -d $capsim ]] \
  || fail "capsim binary not found or not executable: $capsim (run cargo build --release, or pass its path)"
[[ -r $sbatch_file ]] || fail "batch script not found: $sbatch_file"
[[ -r $repo/models/mmc.json ]] || fail "models/mmc.json not found under $repo"
[[ $(id -u) == 0 ]] || skip "needs root (installs packages, runs slurmd and munged); run it as root, e.g. in a container"

# ---- temp dir and cleanup (registered before anything is started)
T=$(mktemp -d /tmp/capsim-slurm.XXXXXX)
chmod 755 "$T" # munged runs as user munge and must reach $T/munge
mkdir -p "$T"/{etc,log,state,spool,work,run}
pids=()        # daemons we started, stopped in reverse order
job_ids=()     # jobs we submitted, cancelled if still there
made_policy=0  # whether we created /usr/sbin/policy-rc.d for the install

cleanup() {
  local rc=$? pid i
  set +e
  trap - EXIT INT TERM
  if ((${#job_ids[@]})) && command -v scancel >/dev/null; then
    scancel "${job_ids[@]}" 2>/dev/null
    for ((i = 0; i < 20; i++)); do # let slurmd end the job steps before it is stopped
      [[ -z $(squeue -h -j "$(IFS=,; echo "${job_ids[*]}")" 2>/dev/null) ]] && break
      sleep 0.5
    done
  fi
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null
  done
  for pid in "${pids[@]}"; do
    for ((i = 0; i < 20; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d
  if [[ ${SLURM_SELFTEST_KEEP:-0} == 1 ]]; then
    say "kept $T"
  else
    rm -rf "$T"
  fi
  say "done in $((SECONDS - start_time)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 1. packages (idempotent: skipped when the programs are there)
progs=(munged mungekey munge unmunge slurmctld slurmd sbatch squeue sinfo scontrol scancel)
missing=()
for p in "${progs[@]}"; do command -v "$p" >/dev/null || missing+=("$p"); done
if ((${#missing[@]})); then
  command -v apt-get >/dev/null || skip "${missing[*]} not installed and there is no apt-get"
  say "installing slurmctld slurmd slurm-client munge (missing: ${missing[*]})"
  t0=$SECONDS
  export DEBIAN_FRONTEND=noninteractive
  # Keep the packages' init scripts from starting daemons with the system's (absent) config.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && made_policy=1
  fi
  apt_install() {
    timeout 240 apt-get install -y --no-install-recommends -o DPkg::Lock::Timeout=60 \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      slurmctld slurmd slurm-client munge </dev/null >>"$T/log/apt.log" 2>&1
  }
  if ! apt_install; then
    say "apt-get install failed; running apt-get update and trying once more"
    timeout 120 apt-get update </dev/null >>"$T/log/apt.log" 2>&1 || true
    apt_install || skip "apt-get install failed: $(grep -E '^(E|W):' "$T/log/apt.log" | awk '!seen[$0]++' | tail -n 3 | tr '\n' ' ')"
  fi
  ((made_policy)) && rm -f /usr/sbin/policy-rc.d && made_policy=0
  for p in "${progs[@]}"; do command -v "$p" >/dev/null || skip "apt-get install succeeded but $p is still missing"; done
  say "install took $((SECONDS - t0)) s"
else
  say "packages already installed (install took 0 s)"
fi
getent passwd munge >/dev/null || skip "user munge does not exist (broken munge package?)"
say "$(slurmctld -V)"

# ---- 2. munged, with its own key and socket in the temp dir
mkdir -p "$T/munge"
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chown -R munge:munge "$T/munge"
chmod 755 "$T/munge"
chmod 400 "$T/munge/munge.key"
sock=$T/munge/munge.socket
# setpriv execs munged as user munge, so $! is munged itself; -F keeps it in the foreground.
setpriv --reuid=munge --regid=munge --init-groups \
  munged -F --socket="$sock" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
  --seed-file="$T/munge/munged.seed" --log-file="$T/munge/munged.log" \
  </dev/null >"$T/log/munged.log" 2>&1 &
pids+=($!)
up=0
for ((i = 0; i < 40; i++)); do
  kill -0 "${pids[-1]}" 2>/dev/null || break
  if munge -n -S "$sock" 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; then up=1 && break; fi
  sleep 0.25
done
((up)) || skip "munged did not start: $(tail -n 3 "$T/log/munged.log" | tr '\n' ' ')"
say "munged up"

# ---- 3. slurm.conf: one node, as slurmd -C sees this machine
host=$(hostname -s)
node_line=$(slurmd -C 2>/dev/null | grep -m1 '^NodeName=' || true)
[[ -n $node_line ]] || skip "slurmd -C printed no NodeName line"
node_hw=${node_line#NodeName=* } # CPUs=... RealMemory=...
# Ports: the first pair nothing listens on (bash's /dev/tcp connects only if something does).
port=
for p in 16817 26817 36817 46817; do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$((p + 1))") 2>/dev/null; then
    port=$p && break
  fi
done
[[ -n $port ]] || skip "no free port pair for slurmctld and slurmd"
export SLURM_CONF=$T/etc/slurm.conf
cat >"$SLURM_CONF" <<EOF
# Written by deploy/slurm-selftest.sh: a throw-away single-node cluster.
ClusterName=capsim-ci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/run/slurmctld.pid
SlurmdPidFile=$T/run/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
MailProg=/bin/true
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Cancel a job whose dependency can never be met (the merge after a failed shard) instead of
# leaving it pending forever.
SchedulerParameters=kill_invalid_depend
# Memory is consumable, as on most real clusters, so the batch script's memory request counts.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmdTimeout=60
MinJobAge=600
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 $node_hw State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
say "node: $host $node_hw"

slurmctld -D -i -f "$SLURM_CONF" </dev/null >"$T/log/slurmctld.out" 2>&1 &
pids+=($!)
up=0
for ((i = 0; i < 60; i++)); do
  kill -0 "${pids[-1]}" 2>/dev/null || break
  if scontrol ping 2>/dev/null | grep -q 'is UP'; then up=1 && break; fi
  sleep 0.25
done
((up)) || skip "slurmctld did not start: $(tail -n 3 "$T/log/slurmctld.out" | tr '\n' ' ')"
say "slurmctld up"

slurmd -D -N "$host" -f "$SLURM_CONF" </dev/null >"$T/log/slurmd.out" 2>&1 &
pids+=($!)
state=
for ((i = 0; i < 120; i++)); do
  kill -0 "${pids[-1]}" 2>/dev/null || break
  state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
  [[ $state == idle ]] && break
  sleep 0.25
done
[[ $state == idle ]] || skip "slurmd did not come up (node state '${state:-none}'; $(sinfo -h -R 2>/dev/null | head -n 1)): $(tail -n 3 "$T/log/slurmd.out" | tr '\n' ' ')"
say "slurmd up, node $host idle ($((SECONDS - start_time)) s so far)"

# ---- 4. the experiment: a small copy of experiments/mmc_servers.json, laid out like the repo
cd "$T/work"
mkdir -p experiments models
cp "$repo/models/mmc.json" models/
cat >experiments/slurm_selftest.json <<'EOF'
{
  "name": "slurm_selftest",
  "description": "A small copy of mmc_servers.json for deploy/slurm-selftest.sh.",
  "model": "../models/mmc.json",
  "parameters": [
    { "path": "stations.server.servers", "name": "servers", "values": [10, 11, 12] },
    { "path": "sources.arrivals.rate", "name": "arrival_rate", "values": [7, 9] }
  ],
  "combine": "cross",
  "replications": 3,
  "seed": 1,
  "duration": "2h",
  "warmup": "10m",
  "metrics": ["stations.server.mean_wait_s", "latency_s.e2e.p99", "cost_usd.per_1k_requests"],
  "charts": [
    { "x": "arrival_rate", "y": "stations.server.mean_wait_s", "lines": "servers", "file": "wait_vs_rate" }
  ]
}
EOF
"$capsim" sweep experiments/slurm_selftest.json --out reference --threads 1 >"$T/log/reference.log" 2>&1 \
  || fail "the unsharded reference sweep failed: $(tail -n 5 "$T/log/reference.log")"

# ---- 5. the job array, a rerun of one shard and the dependent merge, submitted as a user would
# (relative paths, from the folder that holds experiments/; CAPSIM reaches the jobs through
# sbatch's default --export=ALL)
export CAPSIM=$capsim
submit() { # prints the job ID; fails the test if sbatch refuses
  local out
  out=$(sbatch --parsable "$@" 2>&1) || fail "sbatch $* was refused: $out"
  echo "${out%%;*}"
}
jid=$(submit --array=1-$shards "$sbatch_file" experiments/slurm_selftest.json)
job_ids+=("$jid")
# Shard 2 again, the way a failed shard is rerun (N given, task ID = shard number); it rewrites
# shard-2-of-3 after the array is done, and the merge reads what it wrote.
rid=$(submit --array=2 --dependency=afterok:"$jid" "$sbatch_file" experiments/slurm_selftest.json $shards)
job_ids+=("$rid")
mid=$(submit --dependency=afterok:"$jid":"$rid" --mem=1G --job-name=capsim-merge --output=capsim-merge-%j.log \
  --wrap "\"$capsim\" merge output/slurm_selftest/shard-*-of-$shards --out merged")
job_ids+=("$mid")
say "submitted array job $jid (tasks 1-$shards), rerun of shard 2 $rid and merge $mid (afterok)"

# ---- 6. wait, bounded
all=$jid,$rid,$mid
deadline=$((SECONDS + job_timeout))
while true; do
  queue=$(squeue -h -j "$all" -o '%i %j %T %r' 2>&1) || queue="squeue failed: $queue" # retried
  [[ -n $queue ]] || break
  # A job whose dependency failed stays pending (kill_invalid_depend is not immediate).
  if grep -q DependencyNeverSatisfied <<<"$queue"; then
    echo "$queue" >&2
    fail "a job the others depend on failed (DependencyNeverSatisfied)"
  fi
  if ((SECONDS > deadline)); then
    echo "$queue" >&2
    fail "jobs not finished after $job_timeout s"
  fi
  sleep 1
done
say "jobs left the queue after $((SECONDS - deadline + job_timeout)) s"

# Every job must have COMPLETED with exit code 0 (no accounting here, so scontrol, which keeps
# finished jobs for MinJobAge seconds, is the record).
records=$(for j in $jid $rid $mid; do scontrol -o show job "$j" 2>/dev/null || true; done)
n_ok=0
while read -r rec; do
  [[ -n $rec ]] || continue
  field() { if [[ $rec =~ (^|\ )$1=([^ ]*) ]]; then echo "${BASH_REMATCH[2]}"; fi; }
  name=$(field JobName) task=$(field ArrayTaskId) st=$(field JobState) ec=$(field ExitCode)
  id=$(field JobId)
  [[ -n $task ]] && id=$(field ArrayJobId)_$task
  echo "  job $id $name: $st, exit $ec, $(field NumCPUs) CPU, $(field MinMemoryNode) memory"
  [[ $st == COMPLETED && $ec == 0:0 ]] && n_ok=$((n_ok + 1))
done <<<"$records"
((n_ok == shards + 2)) || fail "$n_ok of $((shards + 2)) jobs completed with exit code 0"
grep -q "^capsim shard 2 of $shards (array task 2)" "capsim-${rid}_2.log" \
  || fail "the rerun did not run shard 2 of $shards: $(head -n 1 "capsim-${rid}_2.log")"

# The batch script's defaults must let a 2-core node run two shards at once (neither its CPUs
# nor its memory request may take more than half the node).
node_cpus=0 node_mb=0 task_cpus=1 task_mem=
[[ $node_hw =~ (^|\ )CPUs=([0-9]+) ]] && node_cpus=${BASH_REMATCH[2]}
[[ $node_hw =~ RealMemory=([0-9]+) ]] && node_mb=${BASH_REMATCH[1]}
[[ $records =~ \ NumCPUs=([0-9]+) ]] && task_cpus=${BASH_REMATCH[1]}
[[ $records =~ \ MinMemoryNode=([0-9]+[MGT]) ]] && task_mem=${BASH_REMATCH[1]}
case $task_mem in *M) task_mb=${task_mem%M} ;; *G) task_mb=$((${task_mem%G} * 1024)) ;; *) task_mb=$node_mb ;; esac
if ((node_cpus >= 2 && (2 * task_cpus > node_cpus || 2 * task_mb > node_mb))); then
  fail "each array task holds $task_cpus of the node's $node_cpus CPUs and ${task_mem:-all} of its ${node_mb}M memory: the shards run one at a time"
fi

# ---- 7. the merged outputs must be byte for byte the unsharded sweep
for k in $(seq 1 $shards); do
  [[ -f output/slurm_selftest/shard-$k-of-$shards/sweep.json ]] || fail "shard $k of $shards wrote no sweep.json"
done
[[ -s reference/points.csv && -s reference/sweep.json ]] || fail "the reference sweep wrote no points.csv/sweep.json"
for f in reference/*; do
  name=${f#reference/}
  cmp "$f" "merged/$name" || fail "merged/$name differs from one unsharded sweep"
done
say "merged output of $shards shards = one unsharded sweep, byte for byte: $(cd reference && echo *)"
say "PASSED"
