#!/usr/bin/env bash
# Instructions a block transfer, as valgrind's callgrind counts them, for the
# bench's own scenarios: `vmswarm bench` runs under callgrind, which counts
# each call of the simulation (`vmswarm::sim::simulate`, the part whose wall
# time the bench reports) apart. Unlike the bench's wall times, which follow
# the machine's load and memory latency (docs/speed.md, "The machine's
# memory"), a count is the same to within a millionth on every run of one
# binary, so two builds compare on one run each.
#
#   scripts/icount.sh             # every preset on the paper's default at 2
#                                 # and 5 req/s, the flash crowd at 1k and 10k
#                                 # hosts (about 5 minutes)
#   scripts/icount.sh --quick     # cross-equ at 2 and 5 req/s, 1k-host crowd
#   scripts/icount.sh --bin PATH  # count another build of vmswarm
#   scripts/icount.sh --policy cross-opt --quick
#                                 # one preset (repeatable), with the
#                                 # bench's own --policy
#
# Counts cover the simulation alone, not building the scenario or writing
# files. Needs valgrind (Debian: `apt-get install valgrind`). Prints a
# table; writes only under a temporary directory, removed at exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
bin=""
policies=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1 ;;
        --bin) bin=${2:?--bin needs a path}; shift ;;
        --policy) policies+=(--policy "${2:?--policy needs a name}"); shift ;;
        *) echo "icount.sh: unknown argument '$1' (allowed: --quick, --bin PATH, --policy NAME)" >&2; exit 2 ;;
    esac
    shift
done
if ! command -v valgrind >/dev/null; then
    echo "icount.sh: valgrind is not installed (Debian: apt-get install valgrind)" >&2
    exit 2
fi
if [[ -z $bin ]]; then
    cargo build --release --quiet --manifest-path "$root/Cargo.toml"
    bin="${CARGO_TARGET_DIR:-$root/target}/release/vmswarm"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [[ $quick == 1 ]]; then
    scope=(--hosts 1000)
    [[ ${#policies[@]} -gt 0 ]] || policies=(--policy cross-equ)
else
    scope=(--hosts 1000,10000)
fi
scope+=("${policies[@]}")
# One round, no memory probe, no time budget (under callgrind a run takes
# some 50 times as long, which the budget would count against the crowd).
# `--dump-after` writes the counts of each simulation to a file of its own
# (cg.out.1, cg.out.2, ... in the order of bench.csv's rows) and zeroes
# them; the file written at exit then holds the rest, which is nothing.
if ! valgrind --tool=callgrind --toggle-collect='vmswarm::sim::simulate' \
    --dump-after='vmswarm::sim::simulate' --callgrind-out-file="$work/cg.out" \
    "$bin" bench "${scope[@]}" --rounds 1 --no-memory-probe --max-wall-s inf \
    --quiet --out "$work/bench" 2>"$work/log"; then
    echo "icount.sh: vmswarm bench failed under callgrind:" >&2
    cat "$work/log" >&2
    exit 1
fi

if [[ ! -s $work/bench/bench.csv ]]; then
    echo "icount.sh: $bin wrote no bench.csv (is it vmswarm?)" >&2
    exit 1
fi
# The bench's rows (scenario, policy, hosts, block transfers, status),
# numbered in order.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i; next }
    { print NR - 1, $c["scenario"], $c["policy"], $c["hosts"], $c["block_transfers"], $c["status"] }' \
    "$work/bench/bench.csv" >"$work/rows"
rows=$(wc -l <"$work/rows")
dumps=$(find "$work" -maxdepth 1 -name 'cg.out.*' | wc -l)
if [[ $rows == 0 || $rows != "$dumps" ]]; then
    echo "icount.sh: bench.csv has $rows rows but callgrind counted $dumps simulations" >&2
    cat "$work/log" >&2
    exit 1
fi

printf '%-14s %-16s %9s %12s %16s %12s\n' scenario policy hosts transfers instructions "instr/block"
while read -r n scenario policy hosts blocks status; do
    instr=$(sed -n 's/^summary: \([0-9]*\)$/\1/p' "$work/cg.out.$n")
    [[ $status == done && -n $blocks ]] || { echo "icount.sh: the bench's run $n ($scenario $policy) did not finish: $status" >&2; exit 1; }
    # A build without a function `vmswarm::sim::simulate` (fat LTO inlines
    # it) has no dumps at all, which the check above reports.
    [[ -n $instr && $instr != 0 ]] || { echo "icount.sh: no count for $scenario $policy in cg.out.$n" >&2; exit 1; }
    awk -v s="$scenario" -v p="$policy" -v h="$hosts" -v b="$blocks" -v i="$instr" \
        'BEGIN { printf "%-14s %-16s %9s %12s %16s %12.0f\n", s, p, h, b, i, i / b }'
done <"$work/rows"
