#!/usr/bin/env bash
# CLI of `fa-tune tune --op decode` (CPU): --help documents the decode options and the TB/s
# convention; every usage error exits 2 with its message and leaves no file behind; a seqlens
# file with a length of 0 is refused by forward problems and reaches decode ones; and a decode
# sweep never enumerates a forward variant (before the decode family it finds none to run).
set -u
FA=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # expect CODE PATTERN -- args...  (run in an empty directory: nothing may appear)
    local code=$1 pat=$2
    shift 3
    mkdir -p "$tmp/cwd"
    (cd "$tmp/cwd" && "$FA" "$@" >"$tmp/out" 2>"$tmp/err")
    local rc=$?
    if [ "$rc" != "$code" ] || ! grep -qE -- "$pat" "$tmp/out" "$tmp/err"; then
        echo "FAIL: fa-tune $* -> rc $rc (want $code), output:"
        cat "$tmp/out" "$tmp/err"
        echo "(wanted /$pat/)"
        fail=1
    fi
    if [ "$code" = 2 ] && [ -n "$(ls -A "$tmp/cwd")" ]; then
        echo "FAIL: fa-tune $* left files behind: $(ls -A "$tmp/cwd")"
        fail=1
    fi
    rm -rf "$tmp/cwd"
}
for pat in "--op OP +fwd \(default\)" "--seqlens-q LIST" "--page-size LIST" "--cache-lens L" \
    "op page_size cache_lens" "TB/s of K/V read"; do
    expect 0 "$pat" -- tune --help
done
d=(--arch sm80 --headdim 128)
expect 2 "--op 'prefill': expected fwd or decode" -- "${d[@]}" --op prefill
expect 2 "--page-size applies to decode problems: add --op decode" -- "${d[@]}" --page-size 64
expect 2 "--seqlens-q applies to decode problems" -- "${d[@]}" --seqlens-q 1
expect 2 "--cache-lens applies to decode problems" -- "${d[@]}" --cache-lens uniform
expect 2 "--seqlens-q '1,17': '17' is not an integer in \[1, 16\]" -- \
    "${d[@]}" --op decode --seqlens-q 1,17
expect 2 "--page-size 8: expected 0 \(contiguous\) or 16..256 rows" -- "${d[@]}" --op decode \
    --page-size 0,8
expect 2 "--page-size '300': '300' is not an integer in \[0, 256\]" -- "${d[@]}" --op decode --page-size 300
expect 2 "--page-size '64,': '' is not an integer" -- "${d[@]}" --op decode --page-size 64,
expect 2 "--cache-lens 'normal': expected fixed, uniform or all" -- "${d[@]}" --op decode \
    --cache-lens normal
expect 2 "--varlen 1: decode problems are not varlen" -- "${d[@]}" --op decode --varlen all
expect 2 "--hidden applies to the forward grid" -- "${d[@]}" --op decode --hidden 4096
expect 2 "--heads-kv needs --heads with --op decode" -- "${d[@]}" --op decode --heads-kv 8
expect 2 "--heads-kv 5 does not divide the 32 query heads" -- "${d[@]}" --op decode --heads 32 \
    --heads-kv 5
printf 'op=decode batch=4 heads=32 heads_kv=8 seqlen_q=1 seqlen_k=4096\n' >"$tmp/dec.txt"
expect 2 "--op decode builds the decode grid: a shapes file names each line's op" -- "${d[@]}" \
    --op decode --shapes "$tmp/dec.txt"
printf 'op=decode batch=4 heads=32 heads_kv=8 seqlen_q=1 seqlen_k=4096 page_size=24\nop=decode batch=4 heads=32 seqlen_q=1 seqlen_k=4096 page_size=8\n' >"$tmp/bad.txt"
expect 2 "bad.txt:2: page size 8 is not 0 \(contiguous\) or in \[16, 256\]" -- "${d[@]}" \
    --shapes "$tmp/bad.txt"
printf '0 700 1500\n' >"$tmp/zero.txt"
expect 2 "--seqlens-file '.*zero.txt' holds a length of 0: only decode cache lengths may be 0" \
    -- "${d[@]}" --seqlens-file "$tmp/zero.txt"
printf 'batch=4 heads=32 seqlen_q=1024 varlen=1\n' >"$tmp/varlen.txt"
expect 2 "--seqlens-file '.*zero.txt': varlen length distribution holds length 0" -- "${d[@]}" \
    --shapes "$tmp/varlen.txt" --seqlens-file "$tmp/zero.txt"

# A decode sweep enumerates decode variants only (one shard of one class keeps it short once
# the decode family exists; before it, no family serves the op and the sweep says so).
"$FA" --op decode --arch sm80 --headdim 128 --compile-only --seqlens 1k --seqlens-q 1 \
    --page-size 64 --gqa 4 --shard 0/64 --seqlens-file "$tmp/zero.txt" --db "$tmp/dec.db" \
    --cache-dir "$tmp/cache" >"$tmp/out" 2>"$tmp/err"
rc=$?
if grep -q "fwd_" "$tmp/out" "$tmp/err" || ! grep -qE "cache lengths from .*zero.txt" "$tmp/err" ||
    ! grep -qE "decode" "$tmp/out" "$tmp/err"; then
    echo "FAIL: the decode sweep (rc $rc) touched forward variants or lost the cache lengths:"
    cat "$tmp/out" "$tmp/err"
    fail=1
fi
[ "$fail" = 0 ] && echo "decode cli: ok"
exit "$fail"
