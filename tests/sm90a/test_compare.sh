#!/bin/sh
# This file implements the CPU test of bench/compare.py with two kernel families: a copy of
# the real v2 database fixture (sm80 measurements, hd64) plus one sm90a variant measured faster
# on one problem and slower on another, and peers for both. The table must name the winner's
# family, give each family's best TFLOP/s, the winner's registers and shared memory, and count
# the wins per family; the cuDNN summary line gives the geomean. The fixture's numbers are real; the sm90a rows are test data.
# usage: test_compare.sh <repo root>
set -u
ROOT=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-compare-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() {
    echo "FAIL: $*" >&2
    fail=1
}
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
DB=$TMP/t.db
python3 - "$ROOT/tests/db/fixtures/v2_real.sql" "$DB" <<'PY' || exit 1
import sqlite3, sys
con = sqlite3.connect(sys.argv[2])
con.executescript(open(sys.argv[1]).read())
def best(pid):
    return con.execute("select max(tflops) from measurements where problem_id = ? and "
                       "status = 'ok'", (pid,)).fetchone()[0]
# problems 1 (hd64 N=512) and 2 (N=1024), non-causal bf16
con.execute("create temp table v as select * from variants where id = 1")
con.execute("update v set id = (select max(id) + 1 from main.variants), "
            "name = 'fwd_sm90a_hd64_bf16_m192n128s2ovpe'")
con.execute("insert into main.variants select * from v")
vid = con.execute("select max(id) from variants").fetchone()[0]
for pid, factor in ((1, 0.5), (2, 2.0)):
    base = best(pid)  # the sm80 best: the peers are measured against it
    tf = base * factor
    con.execute("create temp table m%d as select * from measurements where problem_id = %d "
                "and status = 'ok' limit 1" % (pid, pid))
    con.execute("update m%d set id = (select max(id) + 1 from main.measurements), "
                "uuid = 'sm90a-test-%d', variant_id = ?, tflops = ?" % (pid, pid), (vid, tf))
    con.execute("insert into main.measurements select * from m%d" % pid)
    run = con.execute("select run_id from measurements where problem_id = ?", (pid,)).fetchone()[0]
    for peer, f in (("torch_sdpa_flash", 0.8), ("torch_sdpa_cudnn", 1.0)):
        con.execute("insert into peers (run_id, problem_id, peer, version, median_ms, tflops, "
                    "measured_at) values (?, ?, ?, 'test', 1.0, ?, 'now')",
                    (run, pid, peer, base * f))
con.commit()
PY
python3 "$ROOT/bench/compare.py" "$DB" >"$TMP/out" 2>"$TMP/err" || bad "compare.py failed: $(cat "$TMP/err")"
cat "$TMP/out"
grep -q '^| hdim | causal | N | fa-tune winner | family | fa-tune TFLOP/s | sm80 | sm90a |' "$TMP/out" ||
    bad "header lacks the family columns"
grep -q '^| 64 | 0 | 1024 | fwd_sm90a_hd64_bf16_m192n128s2ovpe | sm90a |' "$TMP/out" ||
    bad "the sm90a winner of N=1024 is not named with its family"
grep -Eq '^\| 64 \| 0 \| 512 \| fwd_sm80_[^|]* \| sm80 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+ \|' "$TMP/out" ||
    bad "N=512 should be an sm80 win with both families' numbers"
grep -q '^| 64 | 1 | 512 | fwd_sm80_[^|]* | sm80 | [0-9.]* | [0-9.]* | - |' "$TMP/out" ||
    bad "a problem without sm90a measurements shows '-' in its column"
grep -q '| % of GEMM | vs eager | regs | smem KiB |$' "$TMP/out" ||
    bad "header lacks the winner's registers and shared memory"
# the fixture's N=512 winner: 255 registers and 112 KiB of shared memory (Q 16 KiB + 3 stages
# of 16 KiB K and V tiles at hd64) -- the winner's figures, not another variant's
grep -Eq '^\| 64 \| 0 \| 512 \| fwd_sm80_hd64_bf16_m128n128w4s3q \|.* \| 255 \| 112\.0 \|$' "$TMP/out" ||
    bad "the N=512 winner's registers and shared memory"
grep -q '^winners by family: sm80 3/4, sm90a 1/4$' "$TMP/out" || bad "wins per family"
grep -q '^fa-tune / cuDNN: min 1.00, max 2.00, geomean 1.41, shapes >= 0.9: 2/2$' "$TMP/out" ||
    bad "cuDNN summary"
[ "$fail" -eq 0 ] && echo "test_compare: ok" >&2
exit "$fail"
