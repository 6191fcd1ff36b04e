#!/bin/sh
# This file implements the CPU test of bench/compare_h2h.py (gpu_run.sh's h2h stage): the real
# v2 database fixture is the tuning run; three round databases scale its timings by 1.1, 1.5 and
# 0.5, and three peers files give cuDNN 1.0x, 0.8x and 3.0x the fixture's best (FA2 half of
# cuDNN). Medians per shape: fa-tune 1.1x, cuDNN 1.0x, so every ratio is 1.100, the per-round
# range 0.167 (0.5 / 3.0) to 1.875 (1.5 / 0.8), and fa-tune / FA2 2.20. A mean instead of a
# median, or rounds paired out of order, gives other numbers. The h2hb stage's rounds (`fa-tune
# bench --json` lines after "HD CAUSAL N", one per shape of --shapes) give the same table.
# usage: test_compare_h2h.sh <repo root>
set -u
ROOT=$1
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fa-tune-h2h-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
fail=0
bad() {
    echo "FAIL: $*" >&2
    fail=1
}
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
python3 - "$ROOT/tests/db/fixtures/v2_real.sql" "$TMP" <<'PY' || exit 1
import json, sqlite3, sys
sql, tmp = open(sys.argv[1]).read(), sys.argv[2]
def db(path, factor):
    con = sqlite3.connect(path)
    con.executescript(sql)
    con.execute("update measurements set tflops = tflops * ?", (factor,))
    con.commit()
    return con
tune = db(f"{tmp}/tune.db", 1.0)
for r, f in ((1, 1.1), (2, 1.5), (3, 0.5)):
    db(f"{tmp}/r{r}.db", f)
rows = tune.execute("""select p.head_dim, p.causal, p.seqlen_q, p.batch, p.heads_q,
                              max(m.tflops) from measurements m join problems p on p.id = m.problem_id
                       where m.status = 'ok' and p.varlen = 0 and p.heads_q = p.heads_kv
                             and p.seqlen_q = p.seqlen_k and p.dtype = 'bf16'
                       group by p.id""").fetchall()
assert rows, "the fixture has FA-grid problems"
for r, f in ((1, 1.0), (2, 0.8), (3, 3.0)):
    with open(f"{tmp}/p{r}.jsonl", "w") as out:
        out.write(json.dumps({"peer": "gemm_bf16_8192", "tflops": 700.0}) + "\n")
        for hd, causal, n, b, h, best in rows:
            for peer, g in (("torch_sdpa_cudnn", 1.0), ("torch_sdpa_flash", 0.5)):
                out.write(json.dumps({"peer": peer, "head_dim": hd, "causal": causal,
                                      "varlen": 0, "batch": b, "heads_q": h, "heads_kv": h,
                                      "seqlen_q": n, "seqlen_k": n,
                                      "tflops": best * f * g}) + "\n")
print(len(rows))
PY
H2H="$ROOT/bench/compare_h2h.py"
python3 "$H2H" "$TMP/tune.db" --winners >"$TMP/w" || bad "--winners failed"
grep -Eq '^64 (--variant fwd_sm80_[^ ]+ )*--variant fwd_sm80_hd64_bf16_m128n128w4s3q( |$)' "$TMP/w" ||
    bad "--winners: the hd64 line names the N=512 winner: $(cat "$TMP/w")"
[ "$(grep -o -- '--variant' "$TMP/w" | wc -l)" = 3 ] ||
    bad "--winners: the 4 problems' 3 distinct winners, each once: $(cat "$TMP/w")"
python3 "$H2H" "$TMP/tune.db" --rounds "$TMP/r1.db" "$TMP/r2.db" "$TMP/r3.db" \
    --peers "$TMP/p1.jsonl" "$TMP/p2.jsonl" "$TMP/p3.jsonl" >"$TMP/out" 2>"$TMP/err" ||
    bad "compare_h2h.py failed: $(cat "$TMP/err")"
cat "$TMP/out"
grep -q '^| 64 | 0 | 512 | fwd_sm80_hd64_bf16_m128n128w4s3q | ' "$TMP/out" || bad "the N=512 row"
rows=$(grep -c '^| [0-9]' "$TMP/out")
[ "$rows" -ge 2 ] || bad "expected a row per FA-grid problem, got $rows"
[ "$(grep -c '| \*\*1\.100\*\* | 0\.167-1\.875 | 2\.20 |$' "$TMP/out")" = "$rows" ] ||
    bad "every row: ratio of the medians 1.100, per-round range 0.167-1.875, FA2 2.20"
grep -q "^3 rounds; fa-tune / cuDNN (medians): geomean 1.100, min 1.100, shapes >= 0.9: $rows/$rows; fa-tune / FA2 geomean 2.200$" \
    "$TMP/out" || bad "summary line"
# Clocks: phase "fa-tune 1" holds the samples at 1.0-1.5 s (1980, 1700, 1980 MHz: lowest 1700,
# median 1980), "peers 1" those at 2.0-2.5 (the [N/A] line skipped: 1500, 1600); "empty" none.
# One sample carries nvidia-smi's own timestamp (UTC) instead of epoch seconds: 1970/01/01
# 00:00:01.250 is 1.25.
printf '1.0 fa-tune 1\n2.0 peers 1\n3.0 empty\n4.0 end\n' >"$TMP/ph"
printf '%s\n' "0.5,1000,100,40" "1.0,1980,500,60" "1970/01/01 00:00:01.250,1700,650,66" \
    "1.5,1980,600,61" "2.0,1500,690,70" "2.1,[N/A],[N/A],[N/A]" "2.5,1600,700,71" \
    "4.5,900,90,50" >"$TMP/clk"
python3 "$H2H" "$TMP/tune.db" --rounds "$TMP/r1.db" --peers "$TMP/p1.jsonl" \
    --clocks "$TMP/clk" --phases "$TMP/ph" >"$TMP/out2" 2>"$TMP/err" ||
    bad "compare_h2h.py --clocks failed: $(cat "$TMP/err")"
grep -q '^| fa-tune 1 | 3 | 1700 | 1980 | 600 | 66 |$' "$TMP/out2" || bad "fa-tune phase clocks"
grep -q '^| peers 1 | 2 | 1500 | 1550 | 695 | 71 |$' "$TMP/out2" || bad "peers phase clocks"
grep -q '^| empty | 0 | - | - | - | - |$' "$TMP/out2" || bad "a phase without samples"
python3 "$H2H" "$TMP/tune.db" --rounds "$TMP/r1.db" --peers >/dev/null 2>&1 &&
    bad "a round without its peers file must be refused"
# h2hb: --shapes names each shape's winner ("HD CAUSAL N VARIANT"); bench rounds are those
# prefixes followed by `fa-tune bench --json` lines at 1.1, 1.5 and 0.5x the tuning run's best,
# plus lines the reader must skip (an eager line, a mismatch at 100x, a shape whose bench
# printed nothing), so the table is the databases' one.
python3 "$H2H" "$TMP/tune.db" --shapes >"$TMP/s" || bad "--shapes failed"
grep -q '^64 0 512 fwd_sm80_hd64_bf16_m128n128w4s3q$' "$TMP/s" || bad "--shapes: $(cat "$TMP/s")"
[ "$(wc -l <"$TMP/s")" = "$rows" ] || bad "--shapes: a line per FA-grid problem: $(cat "$TMP/s")"
python3 - "$TMP" <<'PY' || bad "writing the bench rounds"
import json, sqlite3, sys
tmp = sys.argv[1]
con = sqlite3.connect(f"{tmp}/tune.db")
for r, f in ((1, 1.1), (2, 1.5), (3, 0.5)):
    with open(f"{tmp}/b{r}.txt", "w") as out:
        for line in open(f"{tmp}/s"):
            hd, causal, n, v = line.split()
            best = con.execute("""select max(m.tflops) from measurements m
                join problems p on p.id = m.problem_id join variants w on w.id = m.variant_id
                where w.name = ? and p.head_dim = ? and p.causal = ? and p.seqlen_q = ?
                and p.seqlen_k = p.seqlen_q and p.heads_q = p.heads_kv and p.varlen = 0
                and m.status = 'ok'""", (v, hd, causal, n)).fetchone()[0]
            # the timing first: a later line the reader did not skip would replace it
            out.write(f"{hd} {causal} {n} " + json.dumps({"method": v, "status": "ok",
                                                          "tflops": best * f}) + "\n")
            out.write(f"{hd} {causal} {n} " + json.dumps({"method": "eager", "status": "ok",
                                                          "tflops": 1.0}) + "\n")
            out.write(f"{hd} {causal} {n} " + json.dumps({"method": v, "status": "mismatch",
                                                          "tflops": 100 * best}) + "\n")
        out.write("64 0 512 \n")
PY
python3 "$H2H" "$TMP/tune.db" --rounds "$TMP/b1.txt" "$TMP/b2.txt" "$TMP/b3.txt" \
    --peers "$TMP/p1.jsonl" "$TMP/p2.jsonl" "$TMP/p3.jsonl" >"$TMP/out3" 2>"$TMP/err" ||
    bad "compare_h2h.py on bench rounds failed: $(cat "$TMP/err")"
[ "$(grep -c '| \*\*1\.100\*\* | 0\.167-1\.875 | 2\.20 |$' "$TMP/out3")" = "$rows" ] ||
    bad "bench rounds: every row 1.100, 0.167-1.875, FA2 2.20: $(cat "$TMP/out3")"
[ "$fail" -eq 0 ] && echo "test_compare_h2h: ok" >&2
exit "$fail"
