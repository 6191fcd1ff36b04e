#!/bin/sh
# This file runs the test-only family "testtwo" through every stage that needs no GPU, with
# fa-tune-testtwo (fa-tune with testtwo registered through the registry line):
#   - compile-only sweep (`compile`): the space lists both families on sm89 (sm90 would add
#     the sm90a family, whose kernels this stub template set lacks), testtwo's 12 variants
#     per mode with its own legality reasons, both kernels of each variant compiled into one
#     cubin; --arch sm90a lists neither (only the sm90a family needs sm_90a);
#   - tune's compile-only path stores testtwo's variants as (family, op, params);
#   - the database: list, show, export (family/op/params columns), merge into another file;
#     and winners from (hand-inserted) timings of both families on an sm90 device;
#   - db best names the testtwo winner; emit writes a header that names the family it cannot
#     launch yet and keeps the sm80 winners, and leaves out an sm90a PackGQA winner (named
#     "sm90a pack_gqa"); report draws the arch, heatmap included;
#   - the installed fa-tune (no testtwo) refuses its names and never lists it.
#
# usage: test_family.sh FA_TUNE_TESTTWO FA_TUNE SQLITE3 SOURCE_DIR
set -u
FA=$1
FA_PLAIN=$2
SQLITE3=$3
SRC=$4
T=$(mktemp -d "${TMPDIR:-/tmp}/fa-family-XXXXXX")
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cd "$T" || exit 1

# Templates: the sm80 stub (fast to compile), fa_params.h and testtwo's.
mkdir tpl
cp "$SRC"/tests/compile/data/* "$SRC"/templates/fa_params.h \
   "$SRC"/tests/family/templates/fa_fwd_testtwo.cuh tpl/
export FA_TUNE_TEMPLATES=$T/tpl FA_TUNE_CACHE_DIR=$T/cache

# -- compile-only sweep ---------------------------------------------------------------------
"$FA" compile --arch sm89 --headdim 64 --causal 0 -j 2 >sweep.txt 2>sweep.err ||
    fail "compile sweep failed: $(tail -3 sweep.err)"
[ "$(grep -c '^fwd_testtwo_hd64_bf16_t' sweep.txt)" = 12 ] || fail "not 12 testtwo variants"
[ "$(grep -c '^fwd_sm80_hd64_bf16_m' sweep.txt)" = 168 ] || fail "not 168 sm80 variants"
grep -q '^fwd_testtwo_hd64_bf16_t64k2l64 .* ok ' sweep.txt || fail "t64k2l64 not compiled ok"
grep -q '^fwd_testtwo_hd64_bf16_t128k4l256 .*unsupported.*tile 128 x 4 splits exceeds 256' \
    sweep.txt || fail "testtwo's legality reason missing"
grep -q '^fwd_testtwo_hd64_bf16_t128k1l64 .*unsupported.*64 lanes cannot cover' sweep.txt ||
    fail "testtwo's lanes rule missing"
grep -q '^180 of 180 variants for sm89' sweep.txt || fail "summary: $(grep 'variants for' sweep.txt)"
# --arch sm90a: only the sm90a family, at hd256 where 24 of its 3168 configurations are legal;
# those compile from a stub sm90a template that stops at once with #error
mkdir -p tpl/sm90a
echo '#error "stub: sm90a kernels are not compiled by this test"' >tpl/sm90a/fa_fwd_sm90a.cuh
"$FA" compile --arch sm90a --headdim 256 --causal 0 --varlen 1 >spec.txt 2>spec.err
rc=$?
rm -r tpl/sm90a
grep -q 'testtwo\|fwd_sm80' spec.txt && fail "--arch sm90a listed a family that does not need sm_90a"
[ $rc = 0 ] && grep -q '^3168 of 3168 variants for sm90a: 0 ok, 24 compile_error, 3144 unsupported' spec.txt ||
    fail "--arch sm90a: rc $rc, $(tail -3 spec.txt) $(cat spec.err)"
# Both kernels in the one cubin: the split and the combine symbols were found (the compile
# engine fails the variant otherwise); a single variant by name works too.
"$FA" compile --arch sm86 --variant fwd_testtwo_hd64_fp16_causal_t64k4l128 >one.txt 2>&1 ||
    fail "compile --variant of testtwo failed: $(cat one.txt)"
grep -q 'fwd_testtwo_hd64_fp16_causal_t64k4l128 .* ok ' one.txt || fail "single testtwo variant"

# -- tune's compile-only path into a database -----------------------------------------------
"$FA" tune --arch sm89 --headdim 64 --dtype bf16 --causal 0 --varlen 0 --gqa 1 --seqlens 512 \
    --compile-only --db t.db >tune.txt 2>tune.err || fail "compile-only tune failed: $(tail -3 tune.err)"
got=$("$SQLITE3" t.db "SELECT family, op, params FROM variants WHERE name = 'fwd_testtwo_hd64_bf16_t64k2l64'")
[ "$got" = "testtwo|fwd|tile=64 splits=2 lanes=64" ] || fail "stored variant: '$got'"
[ "$("$SQLITE3" t.db "SELECT COUNT(*) FROM variants WHERE family = 'testtwo'")" = 12 ] ||
    fail "not 12 testtwo variants stored"
"$FA" db list --db t.db >list.txt 2>&1 || fail "db list failed"
"$FA" db show --db t.db fwd_testtwo_hd64_bf16_t64k2l64 >show.txt 2>&1 ||
    "$FA" db show --db t.db --variant fwd_testtwo_hd64_bf16_t64k2l64 >show.txt 2>&1 ||
    fail "db show failed: $(cat show.txt)"
grep -q compiled show.txt || fail "db show lacks the compiled row: $(cat show.txt)"

# -- timings of both families (hand-made numbers), winners ---------------------------------
"$SQLITE3" t.db <<'SQL' || fail "cannot insert the timings"
INSERT INTO devices (name, arch, cc, sm_count, clock_khz, mem_clock_khz, memory_bytes, l2_bytes,
                     driver_version, cuda_version, nvrtc_version)
  VALUES ('NVIDIA H200', 'sm90', 90, 132, 1980000, 3201000, 150109880320, 62914560, 13000, 13000, 13000);
INSERT INTO runs (uuid, device_id, fa_tune_version, source_hash, command_line, started_at,
                  ended_at, status, host)
  VALUES ('77777777-0000-4000-8000-000000000007', (SELECT id FROM devices WHERE name = 'NVIDIA H200'),
          '0.1.0', 'x', 'fa-tune (test)', '2026-12-01T00:00:00.000Z', '2026-12-01T00:10:00.000Z', 'ok', 'h');
-- the compile-only sweep stored one problem (bucket 1024); a second one, bucket 2048
INSERT INTO problems (name, op, dtype, head_dim, causal, varlen, batch, heads_q, heads_kv, gqa,
                      seqlen_q, seqlen_k, bucket, layout, softmax_scale, seed)
  SELECT 'b1_h32_kv32_q2048_k2048_d64_bf16', op, dtype, head_dim, causal, varlen, 1, heads_q,
         heads_kv, gqa, 2048, 2048, 2048, layout, softmax_scale, seed
  FROM problems LIMIT 1;
-- bucket 1024: testtwo beats sm80; bucket 2048: only sm80 timed, so sm80 wins there
INSERT INTO measurements (uuid, run_id, variant_id, problem_id, arch, status, median_ms, tflops,
                          eager_median_ms, registers, smem_static, measured_at)
  SELECT 'm-' || v.name || '-' || p.name,
         (SELECT id FROM runs WHERE uuid = '77777777-0000-4000-8000-000000000007'),
         v.id, p.id, 'sm90', 'ok',
         CASE v.family WHEN 'testtwo' THEN 0.1 ELSE 0.2 END,
         CASE v.family WHEN 'testtwo' THEN 300.0 ELSE 150.0 END,
         0.5, 64, 0, '2026-12-01T00:05:00.000Z'
  FROM variants v, problems p
  WHERE (v.name = 'fwd_testtwo_hd64_bf16_t64k2l64' AND p.bucket = 1024)
     OR v.name = 'fwd_sm80_hd64_bf16_m128n128w4s2q';
SQL
"$FA" db best --arch sm90 --db t.db >best.txt 2>&1 || fail "db best failed: $(cat best.txt)"
grep -q 'fwd_testtwo_hd64_bf16_t64k2l64 .*300.0.*fwd_sm80_hd64_bf16_m128n128w4s2q' best.txt ||
    fail "testtwo should win over sm80: $(cat best.txt)"

# -- export and merge ------------------------------------------------------------------------
"$FA" db export --db t.db --format csv -o t.csv 2>/dev/null || fail "export csv failed"
grep -q ',testtwo,fwd,tile=64 splits=2 lanes=64,' t.csv || fail "csv lacks testtwo params"
"$FA" db export --db t.db --format json -o t.json 2>/dev/null || fail "export json failed"
grep -q '"family":[[:space:]]*"testtwo"' t.json || fail "json lacks the family"
"$FA" db merge --db m.db t.db >/dev/null 2>&1 || fail "merge failed"
[ "$("$SQLITE3" m.db "SELECT COUNT(*) FROM variants WHERE family = 'testtwo' AND params LIKE 'tile=%'")" = 12 ] ||
    fail "merge lost testtwo variants"
"$FA" db best --arch sm90 --db m.db >best2.txt 2>&1
cmp -s best.txt best2.txt || fail "merged winners differ"

# -- emit and report -------------------------------------------------------------------------
"$FA" emit --arch sm90 --db t.db -o fa_dispatch.h >emit.txt 2>&1 || fail "emit failed: $(cat emit.txt)"
# testtwo wins bucket 1024 but the header cannot launch it: its runner-up (sm80) is the entry
grep -q 'Runners-up: 1 keys whose fastest variant this header cannot launch yet (testtwo) use' \
    fa_dispatch.h || fail "the header does not name the family whose runner-up it took"
grep -q 'Left out' fa_dispatch.h && fail "the header left a key out though its runner-up runs"
grep -q '"fwd_sm80_hd64_bf16_m128n128w4s2q"' fa_dispatch.h || fail "the header lost the sm80 winner"
cc -std=c99 -fsyntax-only -I"$SRC/templates" -x c fa_dispatch.h 2>cc.err || fail "header does not compile: $(head -3 cc.err)"
# add_sm90a_timing DB NAME PACK_GQA MS TFLOPS: an sm90a hd64 bf16 tile (128x128, 2 stages,
# overlap) timed on the bucket-1024 problems of DB.
add_sm90a_timing() {
    "$SQLITE3" "$1" <<SQL || fail "cannot insert the timing of $2"
INSERT INTO variants (name, family, op, dtype, head_dim, causal, varlen, params, threads, smem_dynamic)
  VALUES ('$2', 'sm90a', 'fwd', 'bf16', 64, 0, 0,
          'block_m=128 block_n=128 stages=2 overlap=1 pingpong=0 persistent=0 pack_gqa=$3', 384, 83200);
INSERT INTO measurements (uuid, run_id, variant_id, problem_id, arch, status, median_ms, tflops,
                          eager_median_ms, registers, smem_static, measured_at)
  SELECT 'm-$2', (SELECT id FROM runs WHERE uuid = '77777777-0000-4000-8000-000000000007'),
         v.id, p.id, 'sm90', 'ok', $4, $5, 0.5, 168, 0, '2026-12-01T00:06:00.000Z'
  FROM variants v, problems p
  WHERE v.name = '$2' AND p.bucket = 1024;
SQL
}
# An sm90a PackGQA winner (bucket 1024, beating testtwo there) is the key's entry: the header
# launches it, with the same tiles without PackGQA (no winner) as its fallback kernel for
# problems whose query heads per KV head do not fit its tile; bucket 2048 keeps its sm80 winner.
cp t.db pg.db
add_sm90a_timing pg.db fwd_sm90a_hd64_bf16_m128n128s2ovpg 1 0.05 600.0
"$FA" emit --arch sm90 --db pg.db -o pg.h >emit_pg.txt 2>&1 || fail "emit (PackGQA winner) failed: $(cat emit_pg.txt)"
grep -Eq 'Left out|Runners-up' pg.h && fail "the header replaced the PackGQA winner: $(grep -E 'Left out|Runners-up' pg.h)"
grep -A2 '"fwd_sm90a_hd64_bf16_m128n128s2ovpg"' pg.h | grep -q 'FA_DISPATCH_FAMILY_SM90A, 1, 0, 0, 1' ||
    fail "the header lacks the PackGQA winner's row"
grep -A3 '"fwd_sm90a_hd64_bf16_m128n128s2ov"' pg.h | grep -q 'FA_DISPATCH_FAMILY_SM90A, 1, 0, 0, 0, 1, -1}' ||
    fail "the header lacks the PackGQA kernel's fallback kernel"
grep -q 'X##_SM90A_PACK_GQA(__nv_bfloat16, 64, 128, 128, 2, 1, 0, 0, 0, 0)' pg.h ||
    fail "the instance list lacks the PackGQA instance"
grep -q '"fwd_sm80_hd64_bf16_m128n128w4s2q"' pg.h || fail "the PackGQA header lost the sm80 winner"
cc -std=c99 -fsyntax-only -I"$SRC/templates" -x c pg.h 2>cc.err || fail "pg.h does not compile: $(head -3 cc.err)"
# A plain sm90a tile second to the PackGQA one there (500 vs 600 TFLOP/s, ahead of testtwo's
# 300) changes nothing: the PackGQA winner stays the entry, and the plain tile (its fallback)
# is one kernel, not two.
cp pg.db pg2.db
add_sm90a_timing pg2.db fwd_sm90a_hd64_bf16_m128n128s2ov 0 0.06 500.0
"$FA" emit --arch sm90 --db pg2.db -o pg2.h >emit_pg2.txt 2>&1 || fail "emit (runner-up) failed: $(cat emit_pg2.txt)"
grep -Eq 'Left out|Runners-up' pg2.h && fail "pg2.h replaced the PackGQA winner"
grep -q '"fwd_sm90a_hd64_bf16_m128n128s2ovpg"' pg2.h || fail "pg2.h lacks the PackGQA winner"
[ "$(grep -c '"fwd_sm90a_hd64_bf16_m128n128s2ov",' pg2.h)" = 1 ] || fail "pg2.h lists the fallback twice"
cc -std=c99 -fsyntax-only -I"$SRC/templates" -x c pg2.h 2>cc.err || fail "pg2.h does not compile: $(head -3 cc.err)"
# A two-blocks-a-multiprocessor winner (ctas 2, the kernel fa_fwd_sm90a_x2): its rows carry
# ctas 2 and its instance is listed as X_SM90A_X2, which the header documents.
cp t.db x2.db
add_sm90a_timing x2.db fwd_sm90a_hd64_bf16_m128n64s2x2 0 0.04 700.0
"$FA" emit --arch sm90 --db x2.db -o x2.h >emit_x2.txt 2>&1 || fail "emit (ctas 2 winner) failed: $(cat emit_x2.txt)"
grep -A2 '"fwd_sm90a_hd64_bf16_m128n64s2x2"' x2.h | grep -q 'FA_DISPATCH_FAMILY_SM90A, 0, 0, 0, 0, 2' ||
    fail "the header's rows of the ctas 2 winner do not say ctas 2"
grep -q 'X##_SM90A_X2(__nv_bfloat16, 64, 128, 64, 2, 0, 0, 0, 0, 0)' x2.h ||
    fail "the instance list lacks the X_SM90A_X2 instance"
grep -q 'X_SM90A_X2 and X_SM90A_PACK_GQA_X2 with' x2.h ||
    fail "the header does not document X_SM90A_X2"
grep -q 'X_SM90A_X2' pg.h && fail "a header without ctas 2 winners documents X_SM90A_X2"
cc -std=c99 -fsyntax-only -I"$SRC/templates" -x c x2.h 2>cc.err || fail "x2.h does not compile: $(head -3 cc.err)"
if command -v gnuplot >/dev/null 2>&1; then
    "$FA" report --arch sm90 --db t.db -o rep >rep.txt 2>&1 || fail "report failed: $(tail -3 rep.txt)"
    [ -f rep/index.md ] || fail "report wrote no index.md"
    grep -q 'fwd_testtwo_hd64_bf16_t64k2l64' rep/index.md || fail "report lacks the testtwo winner"
    # a heatmap per family: sm80's single all-ok cell (gnuplot 5.4 crashed on its boxed
    # labels with no point) and testtwo's own TILE x splits grid, never one mixed grid
    [ -f rep/heatmap_sm80.png ] && [ -f rep/heatmap_testtwo.png ] && [ ! -e rep/heatmap.dat ] ||
        fail "report did not draw one heatmap per family"
    grep -q 'fwd_sm80' rep/heatmap_testtwo.dat && fail "sm80 variants in the testtwo heatmap"
fi

# -- the installed tool knows no testtwo -----------------------------------------------------
"$FA_PLAIN" compile --arch sm90 --variant fwd_testtwo_hd64_bf16_t64k2l64 >plain.txt 2>&1
[ $? = 2 ] && grep -q "no kernel family 'testtwo'" plain.txt || fail "fa-tune accepted a testtwo name: $(cat plain.txt)"

rm -rf "$T"
[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "family testtwo through compile, tune --compile-only, db, emit, report: ok"
