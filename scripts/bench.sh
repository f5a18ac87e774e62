#!/usr/bin/env bash
# The simulator's speed table of the README: every preset on the paper's
# default at 2 and 5 requests/s, then the flash crowd at 1,000, 10,000 and
# 100,000 hosts, one single-threaded run each. Arguments go to
# `vmswarm bench`:
#
#   scripts/bench.sh                  # the README's table (several minutes)
#   scripts/bench.sh --quick          # paper default (2, 5 req/s) + 1k and 10k hosts
#   scripts/bench.sh --rounds 5       # five rounds in turn, each row's fastest
#   scripts/bench.sh --hosts 1000000 --max-wall-s 600
#
# Prints the table and writes out/bench/bench.csv (under the current directory). Run it on an otherwise
# idle machine: the table shows the load average, which says how far to
# trust the numbers.
set -euo pipefail
# --manifest-path rather than cd, so that a relative --out is the caller's.
exec cargo run --release --quiet --manifest-path "$(dirname "$0")/../Cargo.toml" -- bench "$@"
