#!/usr/bin/env bash
# bench/h2h_alternate.sh -- FlashAttention's grid head to head, shape by shape: for each shape of
# a tuning database (bench/compare_h2h.py --shapes: its winner per shape), `fa-tune bench` of the
# winner and bench/peers.py --serve's SDPA cuDNN and flash on the same shape, one right after
# the other (fa-tune first in odd rounds, the peers first in even ones), PyTorch loaded once per
# round. Why: a run's long heavy kernels leave every later kernel ~10% slower for the rest of the
# run (session 17, H200: the tuner's re-timings after hd256 8k-16k kernels), so protocols that
# time all of fa-tune and then all of the peers compare two GPU states; here both sides of a
# shape share one. gpu_run.sh's h2hs stage runs it after a tune stage.
#
#   bash bench/h2h_alternate.sh FA_TUNE DB ROUNDS OUTDIR
#
# Writes OUTDIR/h2hs_R.txt (bench lines, prefixed "HD CAUSAL N" as compare_h2h.py reads them),
# OUTDIR/h2hs_peers_R.jsonl (peers.py rows) and OUTDIR/h2hs.md (compare_h2h.py's table).
set -uo pipefail
[ $# -eq 4 ] || { echo "usage: h2h_alternate.sh FA_TUNE DB ROUNDS OUTDIR" >&2; exit 2; }
FA=$1 DB=$2 ROUNDS=$3 OUT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
shapes=$(python3 "$HERE/compare_h2h.py" "$DB" --shapes) || exit 1 # "HD CAUSAL N VARIANT"
[ -n "$shapes" ] || { echo "h2h_alternate: no FlashAttention-grid winners in $DB" >&2; exit 1; }
mkdir -p "$OUT"

# fa_side HD CAUSAL N VARIANT TXT LOG: one `fa-tune bench` line, prefixed by the shape
fa_side() {
    bash "$HERE/h2h_bench_shape.sh" "$FA" "$@"
}

# peers_side HD CAUSAL N: the server times the shape; 1 when it has stopped answering
peers_side() {
    [ -n "${PEERS_PID:-}" ] || return 1
    echo "$1 $2 $3" >&"${PEERS[1]}"
    local reply
    read -r reply <&"${PEERS[0]}" || return 1
    [ "$reply" = "done $1 $2 $3" ] || echo "peers.py: $reply" >&2
}

txts=() pjs=()
for r in $(seq "$ROUNDS"); do
    txt=$OUT/h2hs_$r.txt pj=$OUT/h2hs_peers_$r.jsonl log=$OUT/h2hs_$r.log
    : >"$txt"
    coproc PEERS {
        PYTHONUNBUFFERED=1 exec python3 "$HERE/peers.py" --serve \
            --peers torch_sdpa_flash,torch_sdpa_cudnn -o "$pj" 2>"$OUT/h2hs_peers_$r.log"
    }
    while read -r hd causal n v; do
        if [ $((r % 2)) = 1 ]; then
            fa_side "$hd" "$causal" "$n" "$v" "$txt" "$log"
            peers_side "$hd" "$causal" "$n" || break
        else
            peers_side "$hd" "$causal" "$n" || break
            fa_side "$hd" "$causal" "$n" "$v" "$txt" "$log"
        fi
    done <<<"$shapes"
    if [ -n "${PEERS_PID:-}" ]; then
        fd=${PEERS[1]}
        exec {fd}>&-
        wait "$PEERS_PID"
    else
        echo "h2h_alternate: peers.py stopped in round $r: $(tail -3 "$OUT/h2hs_peers_$r.log")" >&2
    fi
    txts+=("$txt") pjs+=("$pj")
    echo "round $r done ($(date -u +%H:%M:%S))"
done
python3 "$HERE/compare_h2h.py" "$DB" --rounds "${txts[@]}" --peers "${pjs[@]}" | tee "$OUT/h2hs.md"
