#!/usr/bin/env bash
# Session 17, call 2 (issue 14): does halving miss a faster tile on the short causal shapes where
# fa-tune is furthest behind cuDNN (call 1's ncu: the same DRAM bytes, 11% more instructions)?
# FlashAttention's grid, causal, N = 512 / 1k / 2k, head dims 64 / 128 / 256: exhaustive (every
# legal tile, the family gate off) and halving (the tuner's default) into two databases, then
# both winners per shape re-timed side by side (30 interleaved rounds), as bench/gpu_run.sh's
# recheck stage does. Then placement.sh (does a kernel's speed depend on its physical pages?).
# Outputs in one tarball.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build >/dev/null 2>&1 || { tail -20 "$OUT/build.log"; exit 1; }
FA=build-gpu/fa-tune
G="--arch sm90 --dtype bf16 --varlen 0 --gqa 1 --causal 1 --seqlens 512,1k,2k"
for hd in 64 128 256; do
    for s in exhaustive halving; do
        t0=$SECONDS
        # shellcheck disable=SC2086
        $FA $G --headdim $hd --strategy $s --family-gate 0 --db "$OUT/$s.db" >"$OUT/${s}_hd$hd.txt" 2>&1
        echo "hd$hd $s rc=$? $((SECONDS - t0)) s"
    done
done
vars=$(python3 bench/compare_strategies.py "$OUT/exhaustive.db" "$OUT/halving.db" --winners)
for hd in 64 128 256; do
    # shellcheck disable=SC2086
    $FA $G --headdim $hd --race 0 --family-gate 0 --rounds 30 --finalists 8 --force \
        --db "$OUT/recheck.db" $(tr ' ' '\n' <<<"$vars" | grep -B1 "_hd${hd}_" | grep -v '^--$' | tr '\n' ' ') \
        >"$OUT/recheck_hd$hd.txt" 2>&1
    echo "recheck hd$hd rc=$?"
done
python3 bench/compare_strategies.py "$OUT/exhaustive.db" "$OUT/halving.db" --retimed "$OUT/recheck.db" \
    | tee "$OUT/strategies.md"
# the best five tiles per shape in the exhaustive run
python3 - "$OUT/exhaustive.db" <<'PY' | tee "$OUT/top5.txt"
import sqlite3, sys
n = {}
for hd, sq, v, tf in sqlite3.connect(sys.argv[1]).execute(
        """select p.head_dim, p.seqlen_q, v.name, m.tflops from measurements m
           join variants v on v.id = m.variant_id join problems p on p.id = m.problem_id
           where m.status = 'ok' order by p.head_dim, p.seqlen_q, m.tflops desc"""):
    n[hd, sq] = n.get((hd, sq), 0) + 1
    if n[hd, sq] <= 5:
        print(hd, sq, v, "%.1f" % tf)
PY
bash bench/results/2026-12-06_session17/placement.sh 2>&1 | tee "$OUT/placement.txt"
tar -czf /tmp/call2.tgz -C "$OUT" . && mv /tmp/call2.tgz "$OUT/"
find "$OUT" -mindepth 1 ! -name call2.tgz ! -name strategies.md ! -name top5.txt ! -name placement.txt -delete
