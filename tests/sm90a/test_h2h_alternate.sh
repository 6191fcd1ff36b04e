#!/bin/sh
# This file implements the CPU test of bench/h2h_alternate.sh (gpu_run.sh's h2hs stage; its
# fa-tune lines come from bench/h2h_bench_shape.sh, as the h2hb stage's do) and of
# bench/peers.py --serve: two rounds over the shapes of the real v2 database fixture, with a fake
# `fa-tune` (300 TFLOP/s for every shape) and PyTorch faked by tests/peers/fake_torch (SDPA at
# 400 TFLOP/s). Asserted: the two sides alternate shape by shape (when fa-tune times shape k of
# round 1, the peers file holds the rows of shapes 0..k-1; of round 2, of shapes 0..k: the peers
# go first in even rounds), every shape is timed by both sides in both rounds, and the table
# gives fa-tune / cuDNN 0.750 on every row. peers.py --serve answers a line that is not a shape
# with an error and goes on.
# usage: test_h2h_alternate.sh <repo root>
set -u
ROOT=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-h2hs-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() {
    echo "FAIL: $*" >&2
    fail=1
}
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
command -v bash >/dev/null || { echo "skipped: no bash"; exit 77; }
python3 - "$ROOT/tests/db/fixtures/v2_real.sql" "$TMP/tune.db" <<'PY' || exit 1
import sqlite3, sys
sqlite3.connect(sys.argv[2]).executescript(open(sys.argv[1]).read())
PY
python3 "$ROOT/bench/compare_h2h.py" "$TMP/tune.db" --shapes >"$TMP/shapes" || bad "--shapes failed"
nshapes=$(wc -l <"$TMP/shapes")
[ "$nshapes" -ge 2 ] || bad "the fixture gives at least two FA-grid shapes, got $nshapes"
# The fake fa-tune: logs "round shape rows" (rows: the SDPA rows the current round's peers file
# holds when it is called) and prints one bench --json line at 300 TFLOP/s.
cat >"$TMP/fa-tune" <<'FAKE'
#!/bin/sh
v= n= hd= causal=0
while [ $# -gt 0 ]; do
    case $1 in
    --variant) v=$2; shift ;;
    --seqlen-q) n=$2; shift ;;
    --heads) hd=$((2048 / $2)); shift ;;
    --causal) causal=1 ;;
    esac
    shift
done
# the current round's peers file: the highest-numbered one (none yet: round 1 before peers.py
# has opened its file)
pj=$(ls "$FAKE_OUT"/h2hs_peers_*.jsonl 2>/dev/null | tail -1)
rows=0 round=1.jsonl
[ -n "$pj" ] && rows=$(grep -c '"head_dim"' "$pj") round=${pj##*_}
echo "$round $hd $causal $n $rows" >>"$FAKE_OUT/order"
echo "{\"method\": \"$v\", \"status\": \"ok\", \"tflops\": 300.0}"
FAKE
chmod +x "$TMP/fa-tune"
FAKE_OUT=$TMP/out PYTHONPATH=$ROOT/tests/peers/fake_torch \
    bash "$ROOT/bench/h2h_alternate.sh" "$TMP/fa-tune" "$TMP/tune.db" 2 "$TMP/out" \
    >"$TMP/log" 2>&1 || bad "h2h_alternate.sh failed: $(tail -5 "$TMP/log")"
cat "$TMP/log"
# order: round 1 (fa-tune first) sees 2k SDPA rows at shape k, round 2 (peers first) 2(k + 1)
python3 - "$TMP/out/order" "$TMP/shapes" <<'PY' || bad "the sides did not alternate: $(cat "$TMP/out/order")"
import sys
order = [l.split() for l in open(sys.argv[1])]
shapes = [l.split()[:3] for l in open(sys.argv[2])]
want = [[f"{r}.jsonl"] + s + [str(2 * k + 2 * (r - 1))] for r in (1, 2) for k, s in enumerate(shapes)]
assert order == want, (order, want)
PY
for r in 1 2; do
    [ "$(grep -c '"head_dim"' "$TMP/out/h2hs_peers_$r.jsonl")" = $((2 * nshapes)) ] ||
        bad "round $r: a cuDNN and a flash row per shape"
    [ "$(grep -c '"status": "ok"' "$TMP/out/h2hs_$r.txt")" = "$nshapes" ] ||
        bad "round $r: a bench line per shape"
done
[ "$(grep -c '| \*\*0\.750\*\* | 0\.750-0\.750 | 0\.75 |$' "$TMP/out/h2hs.md")" = "$nshapes" ] ||
    bad "every row: fa-tune / cuDNN 0.750 in both rounds: $(cat "$TMP/out/h2hs.md")"
grep -q "^2 rounds; fa-tune / cuDNN (medians): geomean 0.750" "$TMP/out/h2hs.md" || bad "summary line"
# --serve: a bad line is answered with an error, the next shape still timed; --dry-run needs no
# PyTorch
printf '64 1 512\nnot a shape\n128 0 1024\n' |
    python3 "$ROOT/bench/peers.py" --serve --dry-run --peers torch_sdpa_cudnn -o "$TMP/dry.jsonl" \
        >"$TMP/answers" 2>&1 || bad "peers.py --serve --dry-run failed: $(cat "$TMP/answers")"
if ! { [ "$(sed -n 1p "$TMP/answers")" = "done 64 1 512" ] &&
    sed -n 2p "$TMP/answers" | grep -q "^error: not a shape" &&
    [ "$(sed -n 3p "$TMP/answers")" = "done 128 0 1024" ]; }; then
    bad "--serve answers: $(cat "$TMP/answers")"
fi
[ "$(wc -l <"$TMP/dry.jsonl")" = 2 ] || bad "--serve --dry-run: a row per shape and peer"
python3 "$ROOT/bench/peers.py" --serve </dev/null >/dev/null 2>&1 && bad "--serve without -o must be refused"
[ $fail = 0 ] && echo "h2h_alternate: all checks passed"
exit $fail
