#!/usr/bin/env bash
# Session 16, call 3: the decode shapes (issue 16) through the product with the peers and the
# device copy; then call 2's head-to-head again on call 2's tuning database (carried in as
# s16_grid.db: call 2's .md files did not come back), both protocols; outputs in one tarball.
set -uo pipefail
cd "$(dirname "$0")/../../.."
OUT=${OUT:-out}
[ -f s16_grid.db ] && cp s16_grid.db "$OUT/fa-tune.db"
bash bench/gpu_run.sh build decode h2h:2 h2h:2:100 >"$OUT/call3.log" 2>&1
echo "rc=$?"
cat "$OUT/decode.md"
for t in h2h h2h_gap100; do echo "== $t"; cat "$OUT/$t.md"; done
tar -czf "$OUT/call3.tgz" -C "$OUT" --exclude=call3.tgz . && ls "$OUT" | wc -l
find "$OUT" -mindepth 1 ! -name call3.tgz ! -name call3.log ! -name decode.md ! -name 'h2h*.md' -delete
