#!/usr/bin/env bash
# Run a vmswarm sweep as a Slurm array job: each array task runs one shard.
#
#   sbatch --array=0-15 scripts/slurm-sweep.sh configs/fig7.toml results/fig7
#
# runs 16 shards (0/16 .. 15/16) into results/fig7/shard-<i>. When all are
# done, join them into exactly the files the unsharded sweep writes:
#
#   vmswarm merge results/fig7/shard-* --out results/fig7
#
# Set --array to 0-(n-1) for n shards; the script reads n from Slurm.
# A shard that is killed (time limit, preemption) resumes where it stopped
# when resubmitted: finished runs are kept in its output directory.
#
#SBATCH --job-name=vmswarm-sweep
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=vmswarm-sweep-%A_%a.log
set -euo pipefail

config=${1:?usage: sbatch --array=0-(n-1) scripts/slurm-sweep.sh CONFIG OUTDIR [extra vmswarm sweep args]}
outdir=${2:?usage: sbatch --array=0-(n-1) scripts/slurm-sweep.sh CONFIG OUTDIR [extra vmswarm sweep args]}
shift 2

index=${SLURM_ARRAY_TASK_ID:?not running as a Slurm array task (use sbatch --array=0-(n-1))}
count=${SLURM_ARRAY_TASK_COUNT:?not running as a Slurm array task (use sbatch --array=0-(n-1))}
# The binary: VMSWARM if set, else one built in this checkout.
vmswarm=${VMSWARM:-$(dirname "$0")/../target/release/vmswarm}
if [ ! -x "$vmswarm" ]; then
  echo "no vmswarm binary at $vmswarm: run 'cargo build --release' first or set VMSWARM" >&2
  exit 1
fi

exec "$vmswarm" sweep "$config" \
  --shard "$index/$count" \
  --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --out "$outdir/shard-$index" \
  --quiet "$@"
