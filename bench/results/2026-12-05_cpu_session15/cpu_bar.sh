#!/usr/bin/env bash
# cpu_bar.sh OLD_FA_TUNE NEW_FA_TUNE NAMES_FILE ROUNDS -- issue 18's CPU bar on one fixed set
# of variants: CPU-seconds (user + sys of the process) per compiled variant of a cold
# `fa-tune compile --arch sm80`, the release the issue was filed against (2d1cb20) and this
# build, alternated ROUNDS times, each run with an empty cache. NAMES_FILE: one variant name a
# line (here the 252 variants 2d1cb20 compiles for --arch sm80 --headdim 64, so both builds
# compile the same kernels: today's space at hd64 is four times larger).
set -euo pipefail
old=$1 new=$2 names=$3 rounds=${4:-3}
mapfile -t vs <"$names"
args=()
for v in "${vs[@]}"; do args+=(--variant "$v"); done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() { # run LABEL BINARY: prints LABEL, CPU-s per compiled variant, wall
    rm -rf "$work/cache"
    /usr/bin/time -f "%U %S %e" -o "$work/t" "$2" compile --arch sm80 "${args[@]}" \
        --cache-dir "$work/cache" >"$work/out" 2>&1
    local ok
    ok=$(grep -oE '[0-9]+ ok, [0-9]+ compile_error' "$work/out" | awk '{print $1 + $3}')
    read -r u s e <"$work/t"
    python3 -c "print('%-4s %3d compiled, CPU %.1f s, %.3f CPU-s/variant, wall %.1f s' % \
        ('$1', $ok, $u + $s, ($u + $s) / $ok, $e))"
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
    if ((r % 2)); then run old "$old"; run new "$new"; else run new "$new"; run old "$old"; fi
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
