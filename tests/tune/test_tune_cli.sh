#!/usr/bin/env bash
# CLI of `fa-tune tune` (CPU): help, usage errors with their exit codes and messages, shapes
# and seqlens files with a bad line naming the line and field, and the compile-only fallback
# without a GPU.
set -u
FA=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect CODE PATTERN -- args...
    local code=$1 pat=$2
    shift 3
    "$FA" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ "$rc" != "$code" ] || ! grep -qE -- "$pat" "$tmp/out" "$tmp/err"; then
        echo "FAIL: fa-tune $* -> rc $rc (want $code), output:"
        cat "$tmp/out" "$tmp/err"
        echo "(wanted /$pat/)"
        fail=1
    fi
}
expect 0 "usage: fa-tune \[tune\]" -- tune --help
expect 2 "sm80, sm86, sm89, sm90, sm90a" -- --arch sm99 --headdim 128
expect 2 "32, 64, 96, 128, 192, 256" -- --arch sm80 --headdim 100
expect 2 "--headdim is required" -- --arch sm80
expect 2 "exhaustive, random or halving" -- --arch sm80 --headdim 128 --strategy best
expect 2 "--budget 'soon'" -- --arch sm80 --headdim 128 --budget soon
expect 2 "--shard '3/2'" -- --arch sm80 --headdim 128 --shard 3/2
expect 2 "--gqa" -- --arch sm80 --headdim 128 --gqa 4,x
expect 2 "unknown option '--frobnicate'" -- --arch sm80 --headdim 128 --frobnicate
expect 2 "--devices '0,x': expected GPU ordinals" -- --arch sm80 --headdim 128 --devices 0,x
expect 2 "bad variant name" -- --arch sm80 --headdim 128 --variant fwd_sm80_hd128_bf16_m128
printf '# my shapes\ndtype=bf16 headdim=128 batch=2 heads=16 seqlen_q=1024\ndtype=bf16 headdim=128 batch=2 heads=x seqlen_q=1024\n' >"$tmp/shapes.txt"
expect 2 "shapes.txt:3: field 'heads'" -- --arch sm80 --shapes "$tmp/shapes.txt"
printf 'batch=2 heads=16 heads_kv=5 seqlen_q=64\n' >"$tmp/gqa.txt"
expect 2 "gqa.txt:1: heads 16 is not a multiple of kv heads 5" -- --arch sm80 --headdim 64 --shapes "$tmp/gqa.txt"
expect 1 "cannot read shapes file" -- --arch sm80 --headdim 64 --shapes "$tmp/missing.txt"
printf '512 1024\n2048 two\n' >"$tmp/lens.txt"
expect 2 "lens.txt:2: 'two' is not a sequence length" -- --arch sm80 --headdim 64 --seqlens-file "$tmp/lens.txt"
expect 1 "cannot read seqlens file" -- --arch sm80 --headdim 64 --seqlens-file "$tmp/missing.txt"
printf '# lengths\n300 700, 900\n' >"$tmp/good_lens.txt"
expect 0 "varlen lengths from .*good_lens.txt: 3 sequences, 300..900 tokens" -- --arch sm80 \
    --headdim 64 --dtype fp16 --causal 0 --varlen 1 --gqa 1 --seqlens 1k --compile-only \
    --seqlens-file "$tmp/good_lens.txt" --variant fwd_sm80_hd64_fp16_varlen_m64n64w4s1 \
    --db "$tmp/lens.db" --cache-dir "$tmp/cache"
expect 2 "--race '1.01': expected a margin" -- --arch sm80 --headdim 64 --race 1.01
expect 2 "--rounds '2': expected an integer in \[3, 1000\]" -- --arch sm80 --headdim 64 --rounds 2
# No GPU here (or --compile-only): the compile-only sweep runs and says so.
expect 0 "timing needs a GPU of arch sm80" -- --arch sm80 --headdim 64 --dtype fp16 --causal 0 \
    --varlen 0 --compile-only --variant fwd_sm80_hd64_fp16_m64n64w4s1 --db "$tmp/t.db" \
    --cache-dir "$tmp/cache"
# ...stores what it compiled, and a rerun resumes (nothing left to compile).
expect 0 "nothing to do, the 1 variant already compiled" -- --arch sm80 --headdim 64 --dtype fp16 --causal 0 --varlen 0 \
    --compile-only --variant fwd_sm80_hd64_fp16_m64n64w4s1 --db "$tmp/t.db" --cache-dir "$tmp/cache"
n=$(sqlite3 "$tmp/t.db" "select count(*) from measurements where status='compiled'")
[ "$n" = 1 ] || { echo "FAIL: want 1 compiled row, got $n"; fail=1; }
# Ctrl-C: the write in flight finishes, exit 130, the database is consistent, and a rerun
# resumes: every variant ends up stored exactly once.
sweep=(--arch sm80 --headdim 32 --dtype fp16 --causal 0 --varlen 0 --compile-only -j 1
       --db "$tmp/int.db" --cache-dir "$tmp/cache-int")
"$FA" "${sweep[@]}" >"$tmp/out" 2>"$tmp/err" &
pid=$!
for _ in $(seq 100); do # wait until something is stored, then interrupt
    sleep 0.2
    n=$(sqlite3 "$tmp/int.db" "select count(*) from measurements" 2>/dev/null || echo 0)
    [ "${n:-0}" -gt 3 ] && break
done
kill -INT $pid
wait $pid
rc=$?
[ $rc = 130 ] || { echo "FAIL: interrupted tune exited $rc, want 130"; cat "$tmp/err"; fail=1; }
[ "$(sqlite3 "$tmp/int.db" 'pragma integrity_check')" = ok ] || { echo "FAIL: integrity"; fail=1; }
[ "$(sqlite3 "$tmp/int.db" "select status from runs")" = interrupted ] ||
    { echo "FAIL: the run is not marked interrupted"; fail=1; }
first=$(sqlite3 "$tmp/int.db" "select count(*) from measurements")
"$FA" "${sweep[@]}" >"$tmp/out" 2>"$tmp/err" || { echo "FAIL: resumed run"; cat "$tmp/err"; fail=1; }
total=$(sqlite3 "$tmp/int.db" "select count(*) from measurements")
distinct=$(sqlite3 "$tmp/int.db" "select count(distinct variant_id) from measurements")
if [ "$first" -ge 168 ] || [ "$total" != 168 ] || [ "$distinct" != 168 ]; then
    echo "FAIL: interrupted at $first rows; after resuming $total rows, $distinct variants (want 168 each)"
    fail=1
fi
exit $fail
