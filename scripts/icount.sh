#!/usr/bin/env bash
# Instructions a block transfer, as valgrind's callgrind counts them: the
# bench's scenarios, one single-threaded `vmswarm run` each. Unlike the wall
# times of `vmswarm bench`, which follow the machine's load and memory
# latency (docs/speed.md, "The machine's memory"), a count is the same to
# within a millionth on every run of one binary (only the temporary paths
# differ), so two builds compare on one run each.
#
#   scripts/icount.sh             # every preset on the paper's default at 2
#                                 # and 5 req/s, the flash crowd at 1k and 10k
#                                 # hosts (about 5 minutes)
#   scripts/icount.sh --quick     # cross-equ at 2 and 5 req/s, 1k-host crowd
#   scripts/icount.sh --bin PATH  # count another build of vmswarm
#
# A count covers the simulation alone (`vmswarm::sim::simulate`, whose
# wall time the bench reports), not reading the config or writing the
# run's files (cross-opt's wide ticks.csv alone costs some 5% more). Needs
# valgrind (Debian: `apt-get install valgrind`). Prints a table;
# writes only under a temporary directory, removed at exit.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
quick=0
bin=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --quick) quick=1 ;;
        --bin) bin=${2:?--bin needs a path}; shift ;;
        *) echo "icount.sh: unknown argument '$1' (allowed: --quick, --bin PATH)" >&2; exit 2 ;;
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

# A copy of a bundled config with `key = old` set to `key = new`; fails if
# the line is not there, so that a changed config cannot pass unnoticed.
derive() { # src dst key old new
    grep -q "^$3 = $4\( \|\$\)" "$1" || { echo "icount.sh: no '$3 = $4' in $1" >&2; exit 1; }
    sed "s/^$3 = $4\( \|\$\)/$3 = $5\1/" "$1" >"$2"
    grep -q "^$3 = $5\( \|\$\)" "$2" || { echo "icount.sh: could not set '$3 = $5' in $2" >&2; exit 1; }
}

# The column named $2 of the one data row of summary.csv $1.
column() {
    awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
        NR == 2 { if (c) print $c }' "$1"
}

printf '%-14s %-16s %9s %12s %16s %12s\n' scenario policy hosts transfers instructions "instr/block"
count() { # scenario policy config hosts (- for the paper's runs)
    local out="$work/$1-$2-$4"
    if ! valgrind --tool=callgrind --toggle-collect='vmswarm::sim::simulate' \
        --callgrind-out-file="$out.cg" \
        "$bin" run "$3" --policy "$2" --threads 1 --quiet --out "$out" 2>"$out.log"; then
        echo "icount.sh: the run of $1 $2 failed:" >&2
        cat "$out.log" >&2
        exit 1
    fi
    local instr blocks
    instr=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out.log")
    blocks=$(column "$out/summary.csv" block_transfers)
    [[ -n $instr && -n $blocks ]] || { echo "icount.sh: no count for $1 $2 (see below)" >&2; cat "$out.log" >&2; exit 1; }
    # Zero: the build has no function `vmswarm::sim::simulate` to count in.
    [[ $instr != 0 ]] || { echo "icount.sh: $bin ran nothing in vmswarm::sim::simulate" >&2; exit 1; }
    awk -v s="$1" -v p="$2" -v h="$4" -v b="$blocks" -v i="$instr" \
        'BEGIN { printf "%-14s %-16s %9s %12s %16s %12.0f\n", s, p, h, b, i, i / b }'
}

paper="$root/configs/paper-default.toml"
derive "$paper" "$work/paper-at-5rps.toml" rate_per_s 2.0 5.0
crowd="$root/configs/flash-crowd.toml"
for hosts in 1000 10000; do
    derive "$crowd" "$work/crowd.tmp" burst_count 900 $((hosts * 9 / 10))
    derive "$work/crowd.tmp" "$work/crowd-$hosts.toml" initial_seeders 100 $((hosts / 10))
done

if [[ $quick == 1 ]]; then
    presets=(cross-equ)
    sizes=(1000)
else
    presets=(iso cross-equ cross-prop cross-opt cross-opt-exact)
    sizes=(1000 10000)
fi
for policy in "${presets[@]}"; do
    count paper-default "$policy" "$paper" -
done
for policy in "${presets[@]}"; do
    count paper-at-5rps "$policy" "$work/paper-at-5rps.toml" -
done
for hosts in "${sizes[@]}"; do
    count flash-crowd cross-equ "$work/crowd-$hosts.toml" "$hosts"
done
