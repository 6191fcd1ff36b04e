#!/usr/bin/env bash
# Session 17 (issue 14): does a kernel's speed depend on which physical pages its buffers got?
# Call 1 (call6.sh on the H200) found the tuner's interleaved re-timing of the same kernels on the
# same problem 10-14% slower in a 12-problem run than in a 6-problem run, with the first timings
# alike; the two differ in device-memory history (a check times on its own fresh buffers, a
# re-timing on the problem's shared inputs). Here one `fa-tune bench` process per timing (same
# program, same virtual allocation sequence) runs while another process holds HOG GiB of device
# memory, so the driver hands the bench's buffers different physical pages. Prints one line per
# (kernel, hog) with three processes' TFLOP/s. Run from the repo root after a build.
set -u
FA=${FA:-build-gpu/fa-tune}
tf() { # one bench process: its TFLOP/s
    "$FA" bench "$@" --no-eager --json 2>/dev/null | head -1 | python3 -c \
        'import json,sys; print("%.1f" % json.loads(sys.stdin.read())["tflops"])' 2>/dev/null ||
        echo failed
}
hog_start() { # hold $1 GiB of device memory (touched) until killed; waits until it is held
    rm -f /tmp/hog.ready
    python3 -c "
import torch, time, pathlib
x = torch.ones(int($1 * 2**30) // 2 + 1, dtype=torch.bfloat16, device='cuda')
torch.cuda.synchronize(); pathlib.Path('/tmp/hog.ready').touch(); time.sleep(600)" &
    HOG=$!
    for _ in $(seq 100); do [ -f /tmp/hog.ready ] && return; sleep 0.2; done
}
for gib in 0 1 3 7 13 29; do
    [ "$gib" -gt 0 ] && hog_start "$gib"
    while read -r v shape; do
        [ -n "$v" ] || continue
        # shellcheck disable=SC2086 # shape is a list of words
        echo "hog ${gib} GiB $v: $(tf --variant "$v" $shape) $(tf --variant "$v" $shape) $(tf --variant "$v" $shape)"
    done <<'LIST'
fwd_sm90a_hd256_bf16_causal_m128n64s2ovpe --batch 16 --heads 8 --seqlen-q 1024 --causal
fwd_sm90a_hd256_bf16_causal_m128n80s2ovpp --batch 2 --heads 8 --seqlen-q 8192 --causal
fwd_sm90a_hd64_bf16_causal_m128n128s2ovpe --batch 32 --heads 32 --seqlen-q 512 --causal
fwd_sm90a_hd128_bf16_m192n128s2pe --batch 2 --heads 16 --seqlen-q 8192
LIST
    [ "$gib" -gt 0 ] && { kill "$HOG"; wait "$HOG" 2>/dev/null; }
done
