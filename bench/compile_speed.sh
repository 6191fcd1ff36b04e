#!/usr/bin/env bash
# compile_speed.sh -- CPU-seconds per compiled variant of a cold compile-only sweep, the old
# path (one NVRTC program per variant: FA_COMPILE_BATCH=1) beside the new one (several
# variants per program: FA_COMPILE_BATCH=N, default 8), in the same run, interleaved.
# With -o OLD_BINARY the old path is instead another build of fa-tune (a release) at the same
# FA_COMPILE_BATCH as the new one: two builds compared, the rest as above.
#
#   bench/compile_speed.sh [-b FA_TUNE_BINARY] [-o OLD_BINARY] [-r ROUNDS] [-n BATCH]
#                          [-- SWEEP ARGS...]
#
# Default sweep: --arch sm80 --headdim 64 (the sm80 family's default space). Each run gets an
# empty cache directory; CPU time is user + sys of the whole process (/usr/bin/time), divided
# by the variants NVRTC compiled (ok + compile_error of the summary line). On a shared machine
# CPU time still moves with the load (caches, SMT siblings): ROUNDS > 1 alternates the paths
# and the table shows every round and the median ratio.
set -euo pipefail

bin=./build/fa-tune
oldbin=
rounds=1
batch=8
while [[ $# -gt 0 ]]; do
    case "$1" in
    -b) bin=$2; shift 2 ;;
    -o) oldbin=$2; shift 2 ;;
    -r) rounds=$2; shift 2 ;;
    -n) batch=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "usage: $0 [-b BIN] [-o OLD_BIN] [-r ROUNDS] [-n BATCH] [-- SWEEP ARGS]" >&2; exit 2 ;;
    esac
done
sweep=("$@")
[[ ${#sweep[@]} -gt 0 ]] || sweep=(--arch sm80 --headdim 64)
[[ -x "$bin" ]] || { echo "compile_speed: no fa-tune binary at '$bin'" >&2; exit 2; }
[[ -z "$oldbin" || -x "$oldbin" ]] || { echo "compile_speed: no fa-tune binary at '$oldbin'" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "compile_speed: needs /usr/bin/time (GNU time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# run LABEL BATCH BINARY: one cold sweep; prints "label cpu compiled wall"
run() {
    local label=$1 b=$2 exe=$3 cache="$work/cache-$1-$RANDOM"
    FA_COMPILE_BATCH=$b /usr/bin/time -f '%U %S %e' -o "$work/time" \
        "$exe" compile "${sweep[@]}" --cache-dir "$cache" --format csv >"$work/out.csv" 2>"$work/err"
    local u s e
    read -r u s e <"$work/time"
    # "N of N variants for ARCH: A ok, B compile_error, C unsupported; D cache hits; ..."
    local line ok ce
    line=$(grep -E ' ok, [0-9]+ compile_error' "$work/err" | tail -n1)
    ok=$(sed -E 's/.*: ([0-9]+) ok,.*/\1/' <<<"$line")
    ce=$(sed -E 's/.* ([0-9]+) compile_error.*/\1/' <<<"$line")
    local hits
    hits=$(sed -E 's/.*; ([0-9]+) cache hits.*/\1/' <<<"$line")
    [[ "$hits" == 0 ]] || { echo "compile_speed: the $label run was not cold ($hits hits)" >&2; exit 1; }
    cut -d, -f1-8 "$work/out.csv" | sort >"$work/res-$label"
    awk -v l="$label" -v u="$u" -v s="$s" -v e="$e" -v n=$((ok + ce)) \
        'BEGIN { printf "%s %.2f %d %.1f\n", l, u + s, n, e }'
    rm -rf "$cache"
}

if [[ -n "$oldbin" ]]; then
    echo "# fa-tune compile ${sweep[*]}: cold cache, old = $oldbin vs new = $bin, FA_COMPILE_BATCH=$batch"
else
    echo "# fa-tune compile ${sweep[*]}: cold cache, old path (FA_COMPILE_BATCH=1) vs new (FA_COMPILE_BATCH=$batch)"
fi
echo "# $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
printf '| round | path | compiled | user+sys CPU s | CPU s / variant | wall s |\n'
printf '|---|---|---|---|---|---|\n'
ratios=()
for ((r = 1; r <= rounds; r++)); do
    # Alternate which path goes first, so a load trend does not favour one of them.
    if ((r % 2)); then order=(old new); else order=(new old); fi
    declare -A per
    for p in "${order[@]}"; do
        b=$batch exe=$bin
        if [[ $p == old && -n "$oldbin" ]]; then exe=$oldbin; elif [[ $p == old ]]; then b=1; fi
        read -r label cpu n wall < <(run "$p" "$b" "$exe")
        per[$p]=$(awk -v c="$cpu" -v n="$n" 'BEGIN { printf "%.3f", n ? c / n : 0 }')
        printf '| %d | %s | %d | %.1f | %s | %.1f |\n' "$r" "$p" "$n" "$cpu" "${per[$p]}" "$wall"
    done
    if ! cmp -s "$work/res-old" "$work/res-new"; then
        echo "compile_speed: round $r: registers/smem/stack/spills differ between old and new" >&2
        diff "$work/res-old" "$work/res-new" >&2 || true
        exit 1
    fi
    ratios+=("$(awk -v o="${per[old]}" -v n="${per[new]}" 'BEGIN { printf "%.3f", o / n }')")
done
med=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo
echo "old/new CPU-s per variant, per round: ${ratios[*]}; median ${med}x"
echo "resources (registers, smem, stack, spills) identical between old and new in every round"
