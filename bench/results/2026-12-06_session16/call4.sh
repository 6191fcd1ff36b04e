#!/usr/bin/env bash
# Session 16, call 4 (issue 14): FlashAttention's grid tuned (halving), then head to head with
# the peers both ways in the same call: h2hb (fa-tune bench of each shape's winner, one kernel
# repeated as peers.py times a peer) and h2h (the tuner's interleaved re-timing); then the
# tuner's re-timing of hd256's causal problems alone (6 problems) for the re-timing/first-timing
# ratio. Outputs in one tarball.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build info tune:256:halving tune:128:halving tune:64:halving \
    h2hb:2 h2h:2 compare >"$OUT/call4.log" 2>&1
echo "rc=$?"
grep -E '^(rc|  |fa-tune:)' "$OUT/call4.log" | head -20
FA=build-gpu/fa-tune
vars=$(python3 bench/compare_h2h.py "$OUT/fa-tune.db" --winners | grep '^256 ' | cut -d' ' -f2-)
# shellcheck disable=SC2086 # vars is --variant NAME ...
$FA --arch sm90 --headdim 256 --dtype bf16 --varlen 0 --gqa 1 --causal 1 --race 0 \
    --family-gate 0 --finalists 8 --rounds 5 --force --db "$OUT/hd256c.db" $vars >/dev/null 2>&1
for t in h2hb h2h; do echo "== $t"; cat "$OUT/$t.md"; done
tar -czf /tmp/call4.tgz -C "$OUT" . && mv /tmp/call4.tgz "$OUT/"
find "$OUT" -mindepth 1 ! -name call4.tgz ! -name call4.log ! -name 'h2h*.md' ! -name compare.md -delete
