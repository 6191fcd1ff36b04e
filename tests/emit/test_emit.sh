#!/bin/sh
# test_emit.sh -- the `fa-tune emit` tests that drive the CLI and the compilers (ctest runs
# one subcommand per test; see CMakeLists.txt for the arguments). Every test works in its
# own directory under WORK and exits 0 pass, 1 fail, 77 skipped (a tool is missing).
#
#   golden [SQL GOLDEN]
#               fixture.sql (or SQL: mixed.sql, winners of the sm80 and sm90a families;
#               decode.sql, decode winners beside forward ones; decode.sql,decode_only.sql,
#               decode winners alone: several fixtures, comma-separated, in order) ->
#               header, byte for byte against golden/fixture.h.golden (or golden/GOLDEN), and
#               the same bytes again with the archs in another order and on stdout
#               (FA_UPDATE_GOLDEN=1 rewrites the golden file instead); no line of
#               reports/emit_src/ meant for that folder only reaches it; `db best` lists
#               one decode winner per decode entry of the header, the same variants
#   compile     the header compiles with cc -std=c99 -Wall -Wextra -Werror (and -pedantic),
#               with c++ and with nvcc; five headers with different prefixes (one of mixed.sql,
#               with sm90a winners and fa_plan_sm90a.h; one of decode.sql, with decode winners
#               and fa_plan_splitkv.h; one of decode winners alone) and the real fa_params.h,
#               sm90a/fa_plan_sm90a.h and decode/fa_plan_splitkv.h share one translation unit; the decode header also
#               compiles alone in a folder of its own (-pedantic), and nvcc instantiates its
#               decode instance lists (DEC_ATTN_FOR_EACH_DECODE_VARIANT / _COMBINE)
#   errors      empty database, unknown arch, missing database, missing --arch, bad prefix,
#               an arch with no winners among several, an unwritable -o: the documented exit
#               codes and messages, and nothing written or left behind
#   embed [SQL NCUBINS]
#               --embed-cubin from embed.sql (or SQL, with NCUBINS cubins: embed_mixed.sql
#               holds sm90a winners too, decode.sql decode winners, decode.sql,decode_only.sql
#               decode winners alone): compiles as C99 against cuda.h, links with the
#               driver stub, is byte-identical when the cubins are compiled again, and carries
#               no marker or clang-format line of reports/emit_src/
#   build_embedded, build_aot [SQL SM90A]
#               configure and build examples/embedded and examples/aot (the latter against
#               `cmake --install` of this build; from embed.sql, or SQL, with -DFA_AOT_SM90A=SM90A:
#               ON builds embed_mixed.sql's sm90a instances for sm_90a)
#   fake BIN DIR CC RC [SMS [PATTERN...]]
#               run the embedded example against the fake driver in DIR (fake_cuda.c) as a
#               device of compute capability CC (and SMS multiprocessors); it must exit RC
#               and, exiting 0, print a line matching each PATTERN (grep -E)
#   run BIN [PATTERN...]
#               run an example binary; 77 (skipped) without a GPU or without libcuda; exiting
#               0, it must print a line matching each PATTERN (grep -E): the cases that ran
set -u

what=$1
shift
SRC=$(cd "$(dirname "$0")" && pwd) # tests/emit
ROOT=$(cd "$SRC/../.." && pwd)

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# make_db SQL DB: a database with fa-tune's schema, filled from SQL.
make_db() {
    rm -f "$2" "$2-wal" "$2-shm"
    "$MKDB" "$2" "$1" || fail "emit_mkdb $2 $1"
}

# make_fixtures_db LIST DB: the same from fixtures/, LIST naming one or several of its files,
# comma-separated, loaded in that order (decode.sql,decode_only.sql).
make_fixtures_db() {
    rm -f "$2" "$2-wal" "$2-shm"
    # shellcheck disable=SC2046 # one word per fixture path
    "$MKDB" "$2" $(echo "$1" | tr ',' '\n' | sed "s|^|$SRC/fixtures/|") ||
        fail "emit_mkdb $2 $1"
}

# expect_lines OUT PATTERN...: OUT (a program's output) has a line matching each PATTERN.
expect_lines() {
    out=$1
    shift
    for pat in "$@"; do
        grep -Eq -- "$pat" "$out" || fail "no line of the output matches '$pat'"
    done
}

case $what in
golden)
    FA_TUNE=$1 MKDB=$2 WORK=$3 SQL=${4:-fixture.sql} GOLDEN=${5:-fixture.h.golden}
    rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
    make_fixtures_db "$SQL" "$WORK/fixture.db"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/fixture.db" -o "$WORK/a.h" ||
        fail "emit exited $?"
    if [ "${FA_UPDATE_GOLDEN:-0}" = 1 ]; then
        cp "$WORK/a.h" "$SRC/golden/$GOLDEN" && echo "golden file rewritten"
        exit 0
    fi
    if ! cmp -s "$WORK/a.h" "$SRC/golden/$GOLDEN"; then
        diff -u "$SRC/golden/$GOLDEN" "$WORK/a.h" | head -60 >&2
        fail "the emitted header differs from tests/emit/golden/$GOLDEN; if the" \
            "change is intended, rewrite it: FA_UPDATE_GOLDEN=1 ctest -R emit.golden"
    fi
    if grep -Eq 'fa-tune emit: (begin|end|if |endif|family launchers)|clang-format (off|on)' \
        "$WORK/a.h"; then
        fail "a line meant for reports/emit_src/ only reached the header"
    fi
    "$FA_TUNE" emit --arch sm80 --arch sm90 --arch sm80 --db "$WORK/fixture.db" \
        -o "$WORK/b.h" || fail "second emit"
    cmp "$WORK/a.h" "$WORK/b.h" || fail "emitting again (archs reordered) changed the bytes"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/fixture.db" -o - >"$WORK/c.h" \
        2>/dev/null || fail "emit -o -"
    cmp "$WORK/a.h" "$WORK/c.h" || fail "emit to stdout differs"
    # `db best` shows the decode winners the header carries: one row per decode entry, in the
    # same order (arch, dtype, head dim, causal, gqa, seqlen_q bucket, paged, cache bucket),
    # each naming the entry's variant -- not one per cache bucket, as the winners view keys them
    "$FA_TUNE" db best --db "$WORK/fixture.db" >"$WORK/best.txt" 2>&1 || fail "db best"
    sed -n '/static const [a-z_]*decode_entry entries\[\] = {/,/^    };/s/.*"\(decode_[a-z0-9_]*\)".*/\1/p' \
        "$WORK/a.h" >"$WORK/entries.txt"
    awk '/^sm[0-9]+ .* decode_/ { print $9 }' "$WORK/best.txt" >"$WORK/best_decode.txt"
    cmp -s "$WORK/entries.txt" "$WORK/best_decode.txt" ||
        fail "db best's decode winners ($(tr '\n' ' ' <"$WORK/best_decode.txt")) are not the" \
            "header's decode entries ($(tr '\n' ' ' <"$WORK/entries.txt"))"
    grep -q "GENERATED FILE -- DO NOT EDIT. Generator: fa-tune emit" "$WORK/a.h" ||
        fail "no do-not-edit banner"
    if grep -Eq '20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]|/tmp|'"$WORK" "$WORK/a.h"; then
        fail "the header carries a date or a path"
    fi
    echo "golden: byte-identical, twice"
    ;;

compile)
    FA_TUNE=$1 MKDB=$2 WORK=$3 CC=$4 CXX=$5 NVCC=$6
    rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
    make_db "$SRC/fixtures/fixture.sql" "$WORK/fixture.db"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/fixture.db" -o "$WORK/fa_dispatch.h" \
        2>/dev/null || fail "emit"
    "$FA_TUNE" emit --arch sm90 --db "$WORK/fixture.db" --prefix other_attn \
        -o "$WORK/other.h" 2>/dev/null || fail "emit --prefix"
    make_db "$SRC/fixtures/mixed.sql" "$WORK/mixed.db"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/mixed.db" --prefix mixed_attn \
        -o "$WORK/mixed.h" 2>/dev/null || fail "emit mixed.sql"
    make_db "$SRC/fixtures/decode.sql" "$WORK/decode.db"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/decode.db" --prefix dec_attn \
        -o "$WORK/decode.h" 2>/dev/null || fail "emit decode.sql"
    make_fixtures_db decode.sql,decode_only.sql "$WORK/decode_only.db"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/decode_only.db" --prefix dec_only \
        -o "$WORK/decode_only.h" 2>/dev/null || fail "emit decode.sql,decode_only.sql"
    cat >"$WORK/use.c" <<'EOF'
#include "fa_dispatch.h"
#include "other.h"
#include "mixed.h"
#include "decode.h"
#include "decode_only.h"
#include "fa_params.h" /* the real files after the headers' copies: one definition */
#include "sm90a/fa_plan_sm90a.h"
#include "decode/fa_plan_splitkv.h"
int use(int cc);
int use(int cc)
{
    fa_dispatch_choice a = fa_dispatch_lookup(cc, FA_DISPATCH_BF16, 128, 0, 0, 1, 4096);
    other_attn_choice b = other_attn_lookup(cc, OTHER_ATTN_FP16, 64, 1, 0, 1, 512);
    mixed_attn_choice c = mixed_attn_lookup(cc, MIXED_ATTN_BF16, 128, 1, 0, 1, 4096);
    dec_attn_decode_choice d = dec_attn_lookup_decode(cc, DEC_ATTN_BF16, 128, 0, 4, 1, 4096, 0);
    dec_only_decode_choice e = dec_only_lookup_decode(cc, DEC_ONLY_BF16, 128, 0, 4, 4, 4096, 64);
    dec_only_choice f = dec_only_lookup(cc, DEC_ONLY_BF16, 128, 0, 0, 1, 4096);
    fa_fwd_params p;
    dec_attn_params_bshd(&p, 0, 0, 0, 0, 0, 2, 32, 8, 1, 4096, 128, 0.08f);
    return a.block_m + b.block_m + c.block_m + (c.family == MIXED_ATTN_FAMILY_SM90A) +
           d.block_m + (int)dec_attn_decode_plan_scratch(&d, &p, 132) + e.splits + f.kernel +
           DEC_ONLY_NUM_ENTRIES + dec_only_entries(0)[0].kernel + dec_only_kernels(0)[0].head_dim +
           (int)sizeof(fa_fwd_params) + FA_SM80_SMEM_BYTES(64, 64, 64, 1) +
           (int)fa_plan_sm90a_threads(3) + (int)fa_plan_splitkv_threads(4);
}
EOF
    printf '#include "fa_dispatch.h"\n' >"$WORK/only.c"
    printf '#include "mixed.h"\n' >"$WORK/only_mixed.c"
    printf '#include "decode.h"\n' >"$WORK/only_decode.c"
    inc="-I$WORK -I$ROOT/templates"
    "$CC" -std=c99 -Wall -Wextra -Werror -c "$WORK/only.c" -o "$WORK/only.o" ||
        fail "$CC -std=c99 -Wall -Wextra -Werror (header alone)"
    "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -I"$WORK" -c "$WORK/only_mixed.c" \
        -o "$WORK/only_mixed.o" || fail "$CC -std=c99 -pedantic (mixed header alone)"
    # The decode header alone in a folder of its own: it needs no fa-tune file beside it.
    mkdir -p "$WORK/alone" && cp "$WORK/decode.h" "$WORK/only_decode.c" "$WORK/alone/" ||
        fail "copy the decode header"
    "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -c "$WORK/alone/only_decode.c" \
        -o "$WORK/only_decode.o" || fail "$CC -std=c99 -pedantic (decode header alone)"
    # shellcheck disable=SC2086
    "$CC" -std=c99 -Wall -Wextra -Werror -pedantic $inc -c "$WORK/use.c" -o "$WORK/c99.o" ||
        fail "$CC -std=c99 -pedantic"
    # shellcheck disable=SC2086
    "$CC" -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror $inc \
        -c "$WORK/use.c" -o "$WORK/c11.o" || fail "$CC -std=c11 -Wshadow -Wconversion"
    if [ -n "$CXX" ]; then
        # shellcheck disable=SC2086
        "$CXX" -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic $inc -c "$WORK/use.c" \
            -o "$WORK/cxx.o" || fail "$CXX -std=c++11"
    else
        echo "no C++ compiler: C++ check skipped"
    fi
    if [ -n "$NVCC" ]; then
        cp "$WORK/use.c" "$WORK/use.cu"
        # shellcheck disable=SC2086
        "$NVCC" -std=c++17 -Werror all-warnings $inc -c "$WORK/use.cu" -o "$WORK/cu.o" ||
            fail "nvcc"
        # The decode header's instance lists instantiate the decode templates as documented:
        # each split kernel and the combine kernel once, under the names the launcher loads.
        cat >"$WORK/decode_inst.cu" <<'EOF'
#include "decode.h"
#include "decode/fa_decode_splitkv.cuh"
#define INSTANTIATE_DECODE(T, D, M, N, W, S, C) template __global__ void \
    fa_decode_splitkv<T, D, M, N, W, S, C != 0>(const __grid_constant__ fa_decode_args);
#define INSTANTIATE_COMBINE(T, D) template __global__ void \
    fa_decode_combine<T, D>(const __grid_constant__ fa_decode_args);
DEC_ATTN_FOR_EACH_DECODE_VARIANT(INSTANTIATE_DECODE)
DEC_ATTN_FOR_EACH_DECODE_COMBINE(INSTANTIATE_COMBINE)
EOF
        # shellcheck disable=SC2086
        "$NVCC" -std=c++17 -arch=sm_80 -Werror all-warnings $inc -c "$WORK/decode_inst.cu" \
            -o "$WORK/decode_inst.o" || fail "nvcc: the decode instances of decode.h"
        for sym in _Z17fa_decode_splitkvI13__nv_bfloat16Li128ELi16ELi64ELi4ELi3ELb0EEv14fa_decode_args \
            _Z17fa_decode_splitkvI13__nv_bfloat16Li128ELi16ELi64ELi4ELi2ELb1EEv14fa_decode_args \
            _Z17fa_decode_combineI13__nv_bfloat16Li128EEv14fa_decode_args; do
            grep -aq "$sym" "$WORK/decode_inst.o" || fail "nvcc: no instance $sym"
        done
    else
        echo "no nvcc: CUDA check skipped"
    fi
    echo "compile: C99, C11, C++ and nvcc, five headers (one with decode winners, one with" \
        "decode winners alone) in one file"
    ;;

hostile)
    # A database whose GPU names, versions and hashes hold newlines, "*/", "/*", "??/",
    # quotes, backslashes, HTML and terminal escapes (tests/report/hostile.sql): the header
    # compiles warning-free as C99 and C11 and still shows the names, escaped, in its banner.
    FA_TUNE=$1 MKDB=$2 WORK=$3 CC=$4
    rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
    "$MKDB" "$WORK/h.db" "$SRC/fixtures/fixture.sql" "$SRC/../report/hostile.sql" ||
        fail "emit_mkdb hostile"
    "$FA_TUNE" emit --arch sm90 --db "$WORK/h.db" -o "$WORK/h.h" || fail "emit exited $?"
    for std in c99 c11; do
        "$CC" -std=$std -Wall -Wextra -pedantic -Werror -fsyntax-only -x c "$WORK/h.h" ||
            fail "the header from a hostile database does not compile as $std"
    done
    grep -q "GPUs: NVIDIA H100 80GB HBM3 x' .*system(\"touch PWNED\") \* / / \* ? ?/" "$WORK/h.h" ||
        fail "the GPU name is missing from the banner or not escaped as expected"
    grep -q 'fa-tune 0.1.0 \* / x #error pwned' "$WORK/h.h" || fail "the version is not escaped"
    grep -q "$(printf '\033')" "$WORK/h.h" && fail "a control byte reached the header"
    echo "hostile ok"
    ;;
errors)
    FA_TUNE=$1 MKDB=$2 WORK=$3
    rm -rf "$WORK" && mkdir -p "$WORK/out" || exit 1
    "$MKDB" "$WORK/empty.db" || fail "emit_mkdb"
    make_db "$SRC/fixtures/fixture.sql" "$WORK/fixture.db"
    sums=$(cksum "$WORK/empty.db" "$WORK/fixture.db")
    # expect CODE PATTERN ARGS...: exit code and a stderr line matching PATTERN
    expect() {
        code=$1 pattern=$2
        shift 2
        "$FA_TUNE" emit "$@" >"$WORK/stdout" 2>"$WORK/stderr"
        rc=$?
        [ $rc -eq "$code" ] || { cat "$WORK/stderr" >&2; fail "emit $* exited $rc, not $code"; }
        grep -q -e "$pattern" "$WORK/stderr" ||
            { cat "$WORK/stderr" >&2; fail "emit $*: no '$pattern' on stderr"; }
        [ ! -s "$WORK/stdout" ] || fail "emit $* wrote to stdout"
    }
    expect 1 "no winners for sm90 in .*run 'fa-tune --arch sm90 --headdim 128 --db " \
        --arch sm90 --db "$WORK/empty.db" -o "$WORK/out/a.h"
    expect 2 "unknown --arch 'sm75': supported archs are sm80, sm86, sm89, sm90, sm90a" \
        --arch sm75 --db "$WORK/fixture.db" -o "$WORK/out/a.h"
    expect 2 "--arch is required" --db "$WORK/fixture.db" -o "$WORK/out/a.h"
    expect 2 "bad --prefix '1x'" --arch sm90 --prefix 1x --db "$WORK/fixture.db" \
        -o "$WORK/out/a.h"
    expect 2 "unknown option '--bogus'" --arch sm90 --bogus
    expect 1 "no results database '$WORK/missing.db'.*fa-tune --arch sm90 --headdim 128" \
        --arch sm90 --db "$WORK/missing.db" -o "$WORK/out/a.h"
    expect 1 "no winners for sm86" --arch sm90 --arch sm86 --db "$WORK/fixture.db" \
        -o "$WORK/out/a.h"
    [ -z "$(ls -A "$WORK/out")" ] || fail "a failed emit left files: $(ls -A "$WORK/out")"
    # An existing header survives a failed emit untouched.
    echo "keep me" >"$WORK/out/keep.h"
    expect 1 "no winners for sm90" --arch sm90 --db "$WORK/empty.db" -o "$WORK/out/keep.h"
    [ "$(cat "$WORK/out/keep.h")" = "keep me" ] || fail "a failed emit changed an existing file"
    [ "$(ls -A "$WORK/out")" = "keep.h" ] || fail "temporary files left: $(ls -A "$WORK/out")"
    # An output directory that does not exist: an I/O error, nothing created.
    expect 1 "cannot write '$WORK/nodir/a.h'" --arch sm90 --db "$WORK/fixture.db" \
        -o "$WORK/nodir/a.h"
    [ ! -e "$WORK/nodir" ] || fail "emit created a directory"
    # Rows fa-tune would not write (edited by hand or by another tool): a key whose mode is
    # not its kernel's, or a TFLOP/s figure that would print as "inf", is refused and no header
    # is written (it would route problems to the wrong kernel, or not compile).
    for edit in "UPDATE problems SET dtype = 'xx' WHERE id = 1|winner fwd_sm80_hd128_bf16_.* does not fit its problems (fp16, head dim 128" \
        "UPDATE problems SET head_dim = 100 WHERE id = 1|does not fit its problems (bf16, head dim 100" \
        "UPDATE measurements SET tflops = 1e999 WHERE id = 1|has TFLOP/s inf" \
        "UPDATE problems SET gqa = 0 WHERE id = 5|has gqa 0 and bucket" \
        "UPDATE problems SET gqa = -2147483648 WHERE id = 5|has gqa -2147483648 and bucket"; do
        { cat "$SRC/fixtures/fixture.sql" && echo "${edit%%|*};"; } >"$WORK/edited.sql"
        make_db "$WORK/edited.sql" "$WORK/edited.db"
        expect 1 "'$WORK/edited.db' (sm90): .*${edit#*|}.*no header was written" --arch sm90 \
            --db "$WORK/edited.db" -o "$WORK/out/edited.h"
    done
    # Winners that all belong to families this fa-tune does not know: said so, not "run a tune".
    { cat "$SRC/fixtures/fixture.sql" && echo "UPDATE variants SET name = 'fwd_zz' || substr(name, 8);"; } \
        >"$WORK/edited.sql"
    make_db "$WORK/edited.sql" "$WORK/edited.db"
    expect 1 "no winner for sm90 in '$WORK/edited.db' that a header can launch: 6 winning kernels of families this fa-tune does not emit ((unknown))" \
        --arch sm90 --db "$WORK/edited.db" -o "$WORK/out/edited.h"
    [ "$(ls -A "$WORK/out")" = "keep.h" ] || fail "a refused emit left files: $(ls -A "$WORK/out")"
    "$FA_TUNE" emit --help | grep -q "usage: fa-tune emit" || fail "emit --help"
    # The databases are opened read-only: never written.
    [ "$(cksum "$WORK/empty.db" "$WORK/fixture.db")" = "$sums" ] || fail "emit changed a database"
    echo "errors: exit codes, messages, nothing written"
    ;;

embed)
    FA_TUNE=$1 MKDB=$2 WORK=$3 CC=$4 CUDA_INC=$5 CUDA_STUBS=$6 OUT=$7 SQL=${8:-embed.sql}
    NCUBINS=${9:-4}
    rm -rf "$WORK" && mkdir -p "$WORK" "$(dirname "$OUT")" || exit 1
    make_fixtures_db "$SQL" "$WORK/embed.db"
    "$FA_TUNE" emit --arch sm90 --arch sm80 --embed-cubin --db "$WORK/embed.db" \
        --cache-dir "$WORK/cache1" -o "$WORK/a.h" || fail "emit --embed-cubin exited $?"
    "$FA_TUNE" emit --arch sm80 --arch sm90 --embed-cubin --db "$WORK/embed.db" \
        --cache-dir "$WORK/cache2" -o "$WORK/b.h" 2>/dev/null || fail "second emit"
    cmp "$WORK/a.h" "$WORK/b.h" || fail "cubins compiled again changed the header's bytes"
    grep -q '#define FA_DISPATCH_HAVE_CUBINS 1' "$WORK/a.h" || fail "no cubins"
    # The launcher comes from reports/emit_src/: its marker and clang-format lines stay there.
    if grep -Eq 'clang-format (off|on)|fa-tune emit: (begin|end|if |endif|family launchers)' \
        "$WORK/a.h"; then
        fail "a line meant for reports/emit_src/ only reached the header"
    fi
    [ "$(grep -c 'static const unsigned char cubin_' "$WORK/a.h")" = "$NCUBINS" ] ||
        fail "expected $NCUBINS cubins (the winners of each arch)"
    cat >"$WORK/use.c" <<'EOF'
#include "a.h"
int main(void)
{
    fa_dispatch_module m;
    CUresult r = cuInit(0);
    if (r == CUDA_SUCCESS)
        r = fa_dispatch_load(&m, 0);
    fa_dispatch_unload(&m);
    return r == CUDA_SUCCESS ? 0 : 1;
}
EOF
    if [ -n "$CUDA_STUBS" ]; then
        "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -I"$WORK" -I"$CUDA_INC" "$WORK/use.c" \
            -o "$WORK/use" -L"$CUDA_STUBS" -lcuda || fail "C99 build against cuda.h and the stub"
    else
        echo "no libcuda stub found: compile only"
        "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -I"$WORK" -I"$CUDA_INC" -c \
            "$WORK/use.c" -o "$WORK/use.o" || fail "C99 compile against cuda.h"
    fi
    cp "$WORK/a.h" "$OUT" || exit 1
    echo "embed: $NCUBINS cubins, reproducible, C99 over the Driver API"
    ;;

build_embedded)
    CMAKE=$1 HEADER=$2 BUILD=$3
    [ -f "$HEADER" ] || fail "no header $HEADER (emit.embed makes it)"
    rm -rf "$BUILD"
    "$CMAKE" -S "$ROOT/examples/embedded" -B "$BUILD" -DFA_DISPATCH_HEADER="$HEADER" \
        -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="-Werror" >"$BUILD.log" 2>&1 ||
        { cat "$BUILD.log" >&2; fail "configure examples/embedded"; }
    "$CMAKE" --build "$BUILD" >>"$BUILD.log" 2>&1 ||
        { cat "$BUILD.log" >&2; fail "build examples/embedded"; }
    echo "examples/embedded built: $BUILD/fa_embedded_example"
    ;;

build_aot)
    CMAKE=$1 FA_TUNE=$2 MKDB=$3 PROJECT_BUILD=$4 WORK=$5 NVCC=$6 SQL=${7:-embed.sql}
    SM90A=${8:-OFF}
    if [ "$SM90A" = ON ]; then want="90a"; else want="80;90"; fi
    [ -n "$NVCC" ] || { echo "no nvcc: skipped"; exit 77; }
    rm -rf "$WORK" && mkdir -p "$WORK" || exit 1
    "$CMAKE" --install "$PROJECT_BUILD" --prefix "$WORK/prefix" >"$WORK/install.log" 2>&1 ||
        { cat "$WORK/install.log" >&2; fail "cmake --install"; }
    [ -x "$WORK/prefix/bin/fa-tune" ] || fail "no installed fa-tune"
    make_fixtures_db "$SQL" "$WORK/embed.db"
    # The installed fa-tune writes the header, as a consumer's build would run it. (Where the
    # toolkit's libraries are not on the loader's path the installed binary, which carries
    # no RUNPATH, cannot start: say so and use the build tree's.)
    "$WORK/prefix/bin/fa-tune" emit --arch sm90 --arch sm80 --db "$WORK/embed.db" \
        -o "$WORK/fa_dispatch.h"
    rc=$?
    if [ $rc -eq 127 ]; then
        echo "warning: the installed fa-tune cannot start here (libnvrtc not on the loader's" \
            "path); emitting with the build tree's" >&2
        "$FA_TUNE" emit --arch sm90 --arch sm80 --db "$WORK/embed.db" -o "$WORK/fa_dispatch.h"
        rc=$?
    fi
    [ $rc -eq 0 ] || fail "fa-tune emit exited $rc"
    "$CMAKE" -S "$ROOT/examples/aot" -B "$WORK/build" -DCMAKE_PREFIX_PATH="$WORK/prefix" \
        -DFA_DISPATCH_HEADER="$WORK/fa_dispatch.h" -DCMAKE_CUDA_COMPILER="$NVCC" \
        -DCMAKE_BUILD_TYPE=Release -DFA_AOT_SM90A="$SM90A" >"$WORK/build.log" 2>&1 ||
        { cat "$WORK/build.log" >&2; fail "configure examples/aot"; }
    grep -q "CUDA archs: $want\$" "$WORK/build.log" || fail "CUDA archs are not $want"
    "$CMAKE" --build "$WORK/build" >>"$WORK/build.log" 2>&1 ||
        { cat "$WORK/build.log" >&2; fail "build examples/aot"; }
    echo "examples/aot built: $WORK/build/fa_aot_example"
    ;;

fake)
    BIN=$1 DIR=$2 CC=$3 WANT=$4 SMS=${5:-132}
    shift 4
    [ $# -gt 0 ] && shift
    [ -x "$BIN" ] || fail "$BIN not built (its build test must pass first)"
    [ -e "$DIR/libcuda.so.1" ] || fail "no fake driver in $DIR"
    OUT=$(mktemp) || exit 1
    trap 'rm -f "$OUT"' EXIT
    LD_LIBRARY_PATH="$DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" FA_FAKE_CC=$CC FA_FAKE_SMS=$SMS \
        "$BIN" >"$OUT" 2>&1
    rc=$?
    cat "$OUT"
    [ $rc -eq "$WANT" ] || fail "the embedded example on the fake driver (cc $CC) exited $rc," \
        "expected $WANT"
    [ $rc -eq 0 ] && expect_lines "$OUT" "$@"
    echo "fake driver, cc $CC: exit $rc as expected"
    ;;

run)
    BIN=$1
    shift
    [ -x "$BIN" ] || fail "$BIN not built (its build test must pass first)"
    OUT=$(mktemp) || exit 1
    trap 'rm -f "$OUT"' EXIT
    "$BIN" >"$OUT" 2>&1
    rc=$?
    cat "$OUT"
    # 127: the loader found no libcuda.so.1 -- a machine without the driver: skipped.
    [ $rc -eq 127 ] && { echo "no CUDA driver: skipped"; exit 77; }
    [ $rc -eq 0 ] && expect_lines "$OUT" "$@"
    exit $rc
    ;;

*)
    fail "unknown test '$what'"
    ;;
esac
exit 0
