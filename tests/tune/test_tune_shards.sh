#!/usr/bin/env bash
# `--shard i/N` partitions the work deterministically: N compile-only shards, merged with
# `fa-tune db merge`, hold exactly what one unsharded run holds (CPU test, issue #6).
set -eu
FA=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=(--arch sm80 --headdim 64 --dtype fp16 --causal all --varlen 0 --compile-only -q
      --cache-dir "$tmp/cache")
for v in m64n32w4s1 m64n64w4s2 m64n128w4s1 m128n64w4s2 m128n128w4s1 m128n32w8s3q; do
    args+=(--variant "fwd_sm80_hd64_fp16_$v" --variant "fwd_sm80_hd64_fp16_causal_$v")
done
"$FA" "${args[@]}" --db "$tmp/full.db" >/dev/null
for i in 0 1 2; do
    "$FA" "${args[@]}" --shard "$i/3" --db "$tmp/shard$i.db" >/dev/null
done
cp "$tmp/shard0.db" "$tmp/merged.db"
"$FA" db merge --db "$tmp/merged.db" "$tmp/shard1.db" >/dev/null
"$FA" db merge --db "$tmp/merged.db" "$tmp/shard2.db" >/dev/null
"$FA" db merge --db "$tmp/merged.db" "$tmp/shard2.db" >/dev/null # idempotent
# What was measured, without what differs between runs (uuids, times, run, cache, compile ms).
q="select v.name, p.name, m.arch, m.status, m.registers, m.smem_static, m.spill_stores,
          m.spill_loads from measurements m join variants v on v.id = m.variant_id
          join problems p on p.id = m.problem_id order by 1, 2"
sqlite3 "$tmp/full.db" "$q" >"$tmp/full.txt"
sqlite3 "$tmp/merged.db" "$q" >"$tmp/merged.txt"
rows=$(wc -l <"$tmp/full.txt")
[ "$rows" -eq 12 ] || { echo "FAIL: unsharded run stored $rows rows, want 12"; exit 1; }
for i in 0 1 2; do # every shard did part of the work, none all of it
    n=$(sqlite3 "$tmp/shard$i.db" "select count(*) from measurements")
    [ "$n" -lt 12 ] || { echo "FAIL: shard $i holds all $n rows"; exit 1; }
done
diff "$tmp/full.txt" "$tmp/merged.txt" || { echo "FAIL: merged shards differ from one run"; exit 1; }
echo "shards: ok ($rows rows)"
