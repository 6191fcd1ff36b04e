#!/usr/bin/env bash
# For the next session, after call_next.sh (one call, ~6 min): FlashAttention's grid tuned
# (halving), then the head to head three ways in the same call: h2hs (new in session 17: fa-tune
# and the peers alternate shape by shape), h2hb and the tuning run's own finals (compare);
# session 17's protocols.py tables them. Outputs in one tarball.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
bash bench/gpu_run.sh build info tune:256:halving tune:128:halving tune:64:halving \
    h2hs:2 h2hb:2 compare >"$OUT/call.log" 2>&1
echo "rc=$?"
python3 bench/results/2026-12-06_session17/protocols.py "$OUT" h2hs | tee "$OUT/protocols.md" | tail -4
tar -czf /tmp/call.tgz -C "$OUT" . && mv /tmp/call.tgz "$OUT/"
find "$OUT" -mindepth 1 ! -name call.tgz ! -name 'h2h*.md' ! -name compare.md ! -name protocols.md -delete
