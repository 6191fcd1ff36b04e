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
expect 0 "usage: fa-tune \[tune\]" -- help tune
expect 0 "usage: fa-tune compile" -- help compile
expect 2 "unknown command 'nosuch'" -- help nosuch
expect 2 "unknown command 'complie' \(did you mean 'compile'\?\)" -- complie
expect 2 "unknown option '--headim': did you mean '--headdim'\?" -- --arch sm80 --headim 128
expect 2 "sm80, sm86, sm89, sm90, sm90a" -- --arch sm99 --headdim 128
expect 2 "32, 64, 96, 128, 192, 256" -- --arch sm80 --headdim 100
expect 2 "--headdim is required" -- --arch sm80
expect 2 "exhaustive, random or halving" -- --arch sm80 --headdim 128 --strategy best
expect 2 "--budget 'soon'" -- --arch sm80 --headdim 128 --budget soon
expect 2 "--shard '3/2'" -- --arch sm80 --headdim 128 --shard 3/2
expect 2 "--gqa" -- --arch sm80 --headdim 128 --gqa 4,x
expect 2 "unknown option '--frobnicate'" -- --arch sm80 --headdim 128 --frobnicate
expect 2 "--devices '0,x': expected GPU ordinals" -- --arch sm80 --headdim 128 --devices 0,x
expect 2 "--variant 'fwd_sm80_hd128_bf16_m128n64w4s2' given twice" -- --arch sm80 --headdim 128 \
    --variant fwd_sm80_hd128_bf16_m128n64w4s2 --variant fwd_sm80_hd128_bf16_m128n64w4s2
expect 2 "supported archs are sm80, sm86, sm89, sm90, sm90a, native" -- --arch sm99 --headdim 128
expect 2 "unsupported --arch 'native': supported archs are sm80, sm86, sm89, sm90, sm90a$" -- db list --arch native
expect 2 "bad variant name" -- --arch sm80 --headdim 128 --variant fwd_sm80_hd128_bf16_m128
expect 2 "unknown --family 'sm70': families are sm80, sm90a, splitkv" -- --arch sm90 --headdim 128 --family sm70
expect 2 "--family sm80 contradicts --variant 'fwd_sm90a_hd128_bf16_m128n128s2'" -- --arch sm90 \
    --headdim 128 --family sm80 --variant fwd_sm90a_hd128_bf16_m128n128s2
expect 2 "kernel family sm90a does not run on sm80" -- --arch sm80 --headdim 128 --family sm90a \
    --compile-only --db "$tmp/fam.db" --cache-dir "$tmp/cache"
[ ! -e "$tmp/fam.db" ] || { echo "FAIL: a refused --family created its database"; fail=1; }
expect 2 "--compile-only compiles for a named arch: give --arch" -- --headdim 128 --compile-only \
    --db "$tmp/fam.db" --cache-dir "$tmp/cache"
[ ! -e "$tmp/fam.db" ] || { echo "FAIL: a refused --compile-only created its database"; fail=1; }
expect 2 "kernel family sm80 does not serve the decode op \(problem 1 of [0-9]+\): give --family splitkv$" \
    -- --arch sm80 --headdim 128 --op decode --family sm80 --compile-only --db "$tmp/fam.db" \
    --cache-dir "$tmp/cache"
[ ! -e "$tmp/fam.db" ] || { echo "FAIL: a refused --family created its database"; fail=1; }
expect 2 "kernel family splitkv does not serve the fwd op .*: give --family sm80 or sm90a$" -- --arch sm90 --headdim 128 \
    --family splitkv --compile-only --db "$tmp/fam.db" --cache-dir "$tmp/cache"
[ ! -e "$tmp/fam.db" ] || { echo "FAIL: a refused --family created its database"; fail=1; }
printf '# my shapes\ndtype=bf16 headdim=128 batch=2 heads=16 seqlen_q=1024\ndtype=bf16 headdim=128 batch=2 heads=x seqlen_q=1024\n' >"$tmp/shapes.txt"
expect 2 "shapes.txt:3: field 'heads'" -- --arch sm80 --shapes "$tmp/shapes.txt"
printf 'batch=2 heads=16 heads_kv=5 seqlen_q=64\n' >"$tmp/gqa.txt"
expect 2 "gqa.txt:1: heads 16 is not a multiple of kv heads 5" -- --arch sm80 --headdim 64 --shapes "$tmp/gqa.txt"
expect 1 "cannot read shapes file" -- --arch sm80 --headdim 64 --shapes "$tmp/missing.txt"
# A shapes file replaces the grid: the grid's options are refused, not silently unused.
printf 'headdim=64 batch=1 heads=4 seqlen_q=128\n' >"$tmp/one.txt"
for opt in "--causal 1" "--varlen all" "--gqa 4" "--seqlens 8k" "--tokens 4096" "--hidden 1024" \
    "--heads 8" "--heads-kv 2"; do
    # shellcheck disable=SC2086 # an option and its value
    expect 2 "${opt%% *} shapes the default grid, which --shapes replaces: write it on the file's lines" \
        -- --arch sm80 --compile-only --db "$tmp/grid.db" --cache-dir "$tmp/cache" \
        --shapes "$tmp/one.txt" $opt
done
# A variant of the other op names the op, not a mode that reads the same on both sides.
nowhere=(--compile-only --db "$tmp/grid.db" --cache-dir "$tmp/cache")
expect 2 "is a decode variant, and none of the 144 problems is a decode one: add --op decode" -- \
    --arch sm80 --headdim 128 "${nowhere[@]}" --variant decode_splitkv_hd128_bf16_m16n64w4s3k0
expect 2 "is a fwd variant, and none of the [0-9]+ problems is a fwd one: drop --op decode" -- \
    --arch sm80 --headdim 128 "${nowhere[@]}" --op decode --variant fwd_sm80_hd128_bf16_m128n64w4s2
[ -e "$tmp/grid.db" ] && { echo "FAIL: a refused command wrote its database"; fail=1; }
printf '512 1024\n2048 two\n' >"$tmp/lens.txt"
expect 2 "lens.txt:2: 'two' is not a sequence length" -- --arch sm80 --headdim 64 --seqlens-file "$tmp/lens.txt"
expect 1 "cannot read seqlens file" -- --arch sm80 --headdim 64 --seqlens-file "$tmp/missing.txt"
printf '# lengths\n300 700, 900\n' >"$tmp/good_lens.txt"
expect 0 "varlen lengths from .*good_lens.txt: 3 sequences, 300..900 tokens" -- --arch sm80 \
    --headdim 64 --dtype fp16 --causal 0 --varlen 1 --gqa 1 --seqlens 1k --compile-only \
    --seqlens-file "$tmp/good_lens.txt" --variant fwd_sm80_hd64_fp16_varlen_m64n64w4s1 \
    --db "$tmp/lens.db" --cache-dir "$tmp/cache"
expect 2 "--race '1.01': expected a margin" -- --arch sm80 --headdim 64 --race 1.01
# halving's exploration (issue 18): a part of the space, and only with halving
expect 2 "--explore '0': expected a part of the space from 0.01 to 1" -- --arch sm80 \
    --headdim 64 --strategy halving --explore 0
expect 2 "--explore '1.5': expected a part" -- --arch sm80 --headdim 64 --strategy halving \
    --explore 1.5
expect 2 "--explore applies to --strategy halving only" -- --arch sm80 --headdim 64 --explore 0.5
expect 2 "--family-gate '0.5': expected a factor from 1 to 100" -- --arch sm90 --headdim 64 \
    --family-gate 0.5
expect 2 "--family-gate 'x': expected a factor" -- --arch sm90 --headdim 64 --family-gate x
# the stage gate (issue 18): a factor, exhaustive only
expect 2 "--stage-gate '0.5': expected a factor from 1 to 100" -- --arch sm90 --headdim 64 \
    --stage-gate 0.5
expect 2 "--stage-gate applies to --strategy exhaustive only" -- --arch sm90 --headdim 64 \
    --strategy halving --stage-gate 1.2
expect 2 "--gap-us 'nan': expected a number" -- --arch sm90 --headdim 64 \
    --gap-us nan
expect 2 "--family-gate applies to --strategy exhaustive and halving" -- --arch sm90 \
    --headdim 64 --strategy random --budget 5 --family-gate 2
expect 2 "--rounds '2': expected an integer in \[3, 1000\]" -- --arch sm80 --headdim 64 --rounds 2
# Bad input (issue 17): every number is checked whole and against its range, and the message
# names the option, the value and the range; files are read whole-line, never changed.
expect_fixed() { # expect_fixed CODE TEXT... -- args...: exit CODE and every TEXT in the output
    local code=$1 want=()
    shift
    while [ "$1" != -- ]; do want+=("$1"); shift; done
    shift
    "$FA" "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? w
    [ "$rc" = "$code" ] || { echo "FAIL: fa-tune $* -> rc $rc (want $code)"; cat "$tmp/err"; fail=1; }
    for w in "${want[@]}"; do
        grep -qF -- "$w" "$tmp/out" "$tmp/err" ||
            { echo "FAIL: fa-tune $* lacks '$w':"; cat "$tmp/out" "$tmp/err"; fail=1; }
    done
    if grep -q $'\x1b' "$tmp/err"; then echo "FAIL: fa-tune $* echoed a raw control byte"; fail=1; fi
}
base=(--arch sm80 --headdim 64 --compile-only --db "$tmp/bad.db" --cache-dir "$tmp/cache")
expect_fixed 2 "--headdim '4294967360'" "32, 64, 96" -- --arch sm80 --headdim 4294967360
expect_fixed 2 "--seqlens '9007199254740993k'" "[1, 16777216]" -- "${base[@]}" --seqlens 9007199254740993k
expect_fixed 2 "--seqlens '512,,1k'" -- "${base[@]}" --seqlens 512,,1k
expect_fixed 2 "'1k,'" "ends in ','" -- "${base[@]}" --seqlens 1k,
for b in nan inf -inf 1e30 1e30s 0 -5 1.5 0x10 " 10" 10x; do
    expect_fixed 2 "--budget '$b': expected a count of timings in [1, 1000000000]" -- "${base[@]}" --budget "$b"
done
expect_fixed 2 "--tokens 100 is less than seqlen 512" -- "${base[@]}" --seqlens 512 --tokens 100
expect_fixed 2 "--tokens '99999999999999999999': expected an integer in [1, 67108864]" -- "${base[@]}" --tokens 99999999999999999999
expect_fixed 2 "--hidden 1 is less than --headdim 64" -- "${base[@]}" --hidden 1
expect_fixed 2 "--heads-kv 5 does not divide the 16 query heads" -- "${base[@]}" --heads 16 --heads-kv 5
# --heads-kv fixes the gqa ratio: it replaces the default gqa axis (1,4,8; 32 / 16 = 2 is not in
# it), and a --gqa naming other ratios is refused instead of losing them
expect_fixed 2 "--heads-kv 8 fixes the gqa ratio at 4 (32 query heads / 8), but --gqa asks for others: drop --gqa or give --gqa 4" \
    -- "${base[@]}" --heads 32 --heads-kv 8 --gqa 1
expect_fixed 2 "drop --gqa or give --gqa 4" -- "${base[@]}" --heads 32 --heads-kv 8 --gqa 1,4
ok=(--arch sm80 --headdim 64 --compile-only --db "$tmp/kv.db" --cache-dir "$tmp/cache" --dtype bf16
    --causal 0 --varlen 0 --seqlens 512 --variant fwd_sm80_hd64_bf16_m64n64w4s1)
expect 0 "compiled" -- "${ok[@]}" --heads 32 --heads-kv 16
expect 0 "compiled" -- "${ok[@]}" --heads 32 --heads-kv 8 --gqa 4
expect_fixed 2 "--seed '4294967297': expected an integer in [0, 2147483647]" -- "${base[@]}" --seed 4294967297
expect_fixed 2 "--finalists '18446744073709551617'" "[0, 16]" -- "${base[@]}" --finalists 18446744073709551617
expect_fixed 2 "--rounds '+10'" -- "${base[@]}" --rounds +10
expect_fixed 2 "--jobs ' 4'" -- "${base[@]}" -j " 4"
expect_fixed 2 "--race 'nan'" "1.05 to 100" -- "${base[@]}" --race nan
expect_fixed 2 "--race '1e999'" -- "${base[@]}" --race 1e999
expect_fixed 2 "--shard '99999999999999999999/3'" "0 <= I < N <= 65536" -- "${base[@]}" --shard 99999999999999999999/3
expect_fixed 2 "--shard '1/4294967298'" -- "${base[@]}" --shard 1/4294967298
expect_fixed 2 "--devices '4294967296'" "[0, 63]" -- "${base[@]}" --devices 4294967296
expect_fixed 2 "--cache-dir ''" -- --arch sm80 --headdim 64 --compile-only --db "$tmp/bad.db" --cache-dir ""
expect_fixed 2 "--variant 'fwd_sm80_hd128_bf16_m128n64w4s2'" "fits none" "head dim 64" -- "${base[@]}" \
    --variant fwd_sm80_hd128_bf16_m128n64w4s2
expect_fixed 2 "fits none" "fp16" -- "${base[@]}" --dtype fp16 --variant fwd_sm80_hd64_bf16_m64n64w4s1
expect_fixed 2 "fits none" "non-causal" -- "${base[@]}" --causal 0 --variant fwd_sm80_hd64_bf16_causal_m64n64w4s1
expect_fixed 2 "did you mean 'fwd_sm80_hd64_bf16_m64n64w4s1'" -- "${base[@]}" --variant fwd_sm80_hd064_bf16_m64n64w4s1
FA_PROFILE=abc expect_fixed 2 "FA_PROFILE='abc': expected an integer in [0, 1]" -- "${base[@]}"
FA_VERBOSE=yes expect_fixed 2 "FA_VERBOSE='yes'" -- "${base[@]}"
FA_NO_PDL=2 expect_fixed 2 "FA_NO_PDL='2': expected an integer in [0, 1]" -- "${base[@]}"
FA_EAGER_PAD=yes expect_fixed 2 "FA_EAGER_PAD='yes': expected an integer in [0, 1]" -- "${base[@]}"
FA_DB_BUSY_TIMEOUT_MS=abc expect_fixed 2 "FA_DB_BUSY_TIMEOUT_MS='abc'" "[0, 86400000]" -- \
    "${base[@]}" --variant fwd_sm80_hd64_bf16_m64n64w4s1 --dtype bf16 --causal 0 --varlen 0
[ -e "$tmp/bad.db" ] && { echo "FAIL: a refused command created its database"; fail=1; }

# file_case CODE FILE TEXT... -- args: as expect_fixed, and FILE's bytes are unchanged.
file_case() {
    local f=$2 before
    before=$(sha256sum <"$f")
    expect_fixed "$1" "${@:3}"
    [ "$(sha256sum <"$f")" = "$before" ] || { echo "FAIL: $f changed"; fail=1; }
}
shapes=(--arch sm80 --headdim 64 --compile-only --db "$tmp/bad.db" --cache-dir "$tmp/cache" --shapes)
printf 'batch=2 headdim=64 heads=16 headdim=128 seqlen_q=1024\n' >"$tmp/dup.txt"
file_case 2 "$tmp/dup.txt" "dup.txt:1: field 'headdim' given twice (again as '128')" -- "${shapes[@]}" "$tmp/dup.txt"
printf 'batch=4294967298 heads=16 seqlen_q=1024\n' >"$tmp/big.txt"
file_case 2 "$tmp/big.txt" "big.txt:1: field 'batch': expected an integer in [1, 1048576], got '4294967298'" -- "${shapes[@]}" "$tmp/big.txt"
# A line over 1023 bytes is one line: its last field counts, the next line keeps its number.
{ printf 'batch=2 heads=16'; printf ' %.0s' $(seq 1100); printf 'seqlen_q=1024\nbatch=2 heads=x seqlen_q=64\n'; } >"$tmp/long.txt"
file_case 2 "$tmp/long.txt" "long.txt:2: field 'heads'" -- "${shapes[@]}" "$tmp/long.txt"
printf 'batch=2 heads=16\0 seqlen_q=1024\n' >"$tmp/nul.txt"
file_case 2 "$tmp/nul.txt" "nul.txt:1: the line holds a NUL byte" -- "${shapes[@]}" "$tmp/nul.txt"
printf 'batch=2 heads=\033[2J seqlen_q=1024\n' >"$tmp/esc.txt"
file_case 2 "$tmp/esc.txt" "esc.txt:1: field 'heads'" "got '\\x1b[2J'" -- "${shapes[@]}" "$tmp/esc.txt"
lens=(--arch sm80 --headdim 64 --compile-only --db "$tmp/bad.db" --cache-dir "$tmp/cache" --seqlens-file)
printf '512 99999999999999999999\n' >"$tmp/lbig.txt"
file_case 2 "$tmp/lbig.txt" "lbig.txt:1: '99999999999999999999' is not a sequence length" -- "${lens[@]}" "$tmp/lbig.txt"
printf '512\n1024 2\x008\n' >"$tmp/lnul.txt"
file_case 2 "$tmp/lnul.txt" "lnul.txt:2: the line holds a NUL byte" -- "${lens[@]}" "$tmp/lnul.txt"
[ -e "$tmp/bad.db" ] && { echo "FAIL: a refused command created its database"; fail=1; }
# 1000 lengths on one line of 6000 bytes are 1000 lengths (a 4 KB buffer made 1001).
for i in $(seq 1000); do printf '12345,'; done >"$tmp/one_line.txt"; echo >>"$tmp/one_line.txt"
file_case 0 "$tmp/one_line.txt" "one_line.txt: 1000 sequences, 12345..12345 tokens" -- --arch sm80 \
    --headdim 64 --dtype fp16 --causal 0 --varlen 1 --gqa 1 --seqlens 1k --compile-only \
    --seqlens-file "$tmp/one_line.txt" --variant fwd_sm80_hd64_fp16_varlen_m64n64w4s1 \
    --db "$tmp/lens.db" --cache-dir "$tmp/cache"
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
