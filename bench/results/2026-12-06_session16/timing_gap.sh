#!/usr/bin/env bash
# Session 11's open question (a kernel's time depends on how it is timed by 5-13%, the peers'
# by 2-3%), with the protocol difference this session adds a knob for: bench/peers.py idles the
# GPU (~100 us, torch.cuda._sleep) before each call; fa-tune timed flush, kernel, flush, kernel
# back to back. Three kernels of FlashAttention's grid where the gap was largest (hd256 causal
# 1k, hd64 causal 512, hd128 non-causal 8k), each timed by `fa-tune bench` (three processes
# each) with the L2 flush, the flush + --gap-us 100, and no flush; then the tuner's interleaved
# re-timing of hd256 causal 1k's m128n64s2ovpe alone, then in a group of four tiles (without
# and with the gap): alone, the same kernel runs round after round; in the group, four kernels'
# code takes turns in the multiprocessors' instruction caches, which the L2 flush does not
# empty, while the peers' and bench's repetitions rerun one kernel.
# Run from the repo root after `bash bench/gpu_run.sh build`; prints one line per timing.
set -u
FA=${FA:-build-gpu/fa-tune}
OUT=${OUT:-/tmp}
tf() { # one bench process: its TFLOP/s
    "$FA" bench "$@" --no-eager --json 2>/dev/null | head -1 | python3 -c \
        'import json,sys; print("%.1f" % json.loads(sys.stdin.read())["tflops"])' 2>/dev/null ||
        echo failed
}
while read -r v shape; do
    [ -n "$v" ] || continue
    for proto in "" "--gap-us 100" "--no-flush"; do
        # shellcheck disable=SC2086 # shape and proto are lists of words
        echo "$v ${proto:-(flush)}: $(tf --variant "$v" $shape $proto) $(tf --variant "$v" $shape $proto) $(tf --variant "$v" $shape $proto)"
    done
done <<'LIST'
fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe --batch 16 --heads 8 --seqlen-q 1024 --causal
fwd_sm90a_hd64_bf16_causal_m128n128s2ovpe --batch 32 --heads 32 --seqlen-q 512 --causal
fwd_sm90a_hd128_bf16_m192n128s2pe --batch 2 --heads 16 --seqlen-q 8192
LIST
G="--variant fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe --variant fwd_sm90a_hd256_bf16_causal_m128n64s2pe"
G="$G --variant fwd_sm90a_hd256_bf16_causal_m128n80s2ovpp --variant fwd_sm90a_hd256_bf16_causal_m128n80s2ovpepg"
for round in 1 2; do
    for run in "alone 0" "group 0" "group 100"; do
        read -r set gap <<<"$run"
        vars=$G
        [ "$set" = alone ] && vars="--variant fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe"
        rm -f "$OUT/tg.db"
        # shellcheck disable=SC2086 # vars is --variant NAME ...
        "$FA" --arch sm90 --headdim 256 --dtype bf16 --varlen 0 --gqa 1 --causal 1 --seqlens 1k \
            --race 0 --family-gate 0 --finalists 8 --rounds 5 --force --gap-us "$gap" \
            --db "$OUT/tg.db" $vars >/dev/null 2>&1
        echo "round $round, tuner, $set, hd256 causal 1k, --gap-us $gap: $(python3 -c "
import sqlite3
c = sqlite3.connect('$OUT/tg.db')
print('; '.join('%s %.1f (%d)' % (n[28:], t, r) for n, t, r in c.execute(
    'select v.name, m.tflops, m.reps from measurements m join variants v on v.id = m.variant_id '
    'where m.status = \'ok\' order by m.id')))")"
    done
done
