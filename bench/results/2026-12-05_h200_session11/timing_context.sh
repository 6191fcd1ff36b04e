#!/usr/bin/env bash
# One short-causal kernel timed five ways in one call, to find why fa-tune's timings of the same
# variant differ by up to 12% between a tuning run and a re-timing minutes later (call 3):
# fa-tune bench (batches of repetitions, L2 flushed / not), and the tuner's interleaved re-timing
# of the variant alone and in a group of four (first timing, then the group's rounds).
# Run from the repo root after `bash bench/gpu_run.sh build`; prints one line per timing.
set -u
FA=${FA:-build-gpu/fa-tune}
OUT=${OUT:-/tmp}
V=fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe
G="--variant $V --variant fwd_sm90a_hd256_bf16_causal_m128n64s2pe"
G="$G --variant fwd_sm90a_hd256_bf16_causal_m128n80s2ovpp --variant fwd_sm90a_hd256_bf16_causal_m128n80s2ovpepg"
shape="--batch 16 --heads 8 --seqlen-q 1024 --headdim 256 --causal --no-eager"
rows() { # the database's timings of $V on the problem: id, TFLOP/s, repetitions
    python3 - "$1" "$V" <<'PY'
import sqlite3, sys
con = sqlite3.connect(sys.argv[1])
for i, tf, reps in con.execute("""select m.id, m.tflops, m.reps from measurements m
        join variants v on v.id = m.variant_id join problems p on p.id = m.problem_id
        where v.name = ? and m.status = 'ok' and p.batch = 16 order by m.id""", (sys.argv[2],)):
    print(f"  row {i}: {tf:.1f} TFLOP/s, {reps} repetitions")
PY
}
for round in 1 2; do
    echo "== round $round"
    for flush in "" --no-flush; do
        echo "bench ${flush:-(L2 flushed)}, three processes:"
        for _ in 1 2 3; do
            # shellcheck disable=SC2086 # shape and flush are lists of words
            $FA bench --variant "$V" $shape $flush --json 2>/dev/null | head -1 | python3 -c \
                'import json,sys; d=json.loads(sys.stdin.read()); print("  %.1f TFLOP/s" % d["tflops"])'
        done
    done
    for g in alone group; do
        vars="--variant $V"
        [ $g = group ] && vars=$G
        rm -f "$OUT/tc_$g.db"
        # shellcheck disable=SC2086
        $FA --arch sm90 --headdim 256 --dtype bf16 --varlen 0 --gqa 1 --causal 1 --seqlens 1k \
            --race 0 --finalists 8 --rounds 5 --force --db "$OUT/tc_$g.db" $vars >/dev/null 2>&1
        echo "tuner, $g (first timing, then the interleaved re-timing):"
        rows "$OUT/tc_$g.db"
    done
done
