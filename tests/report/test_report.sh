#!/bin/sh
# The report tests: one mode per CTest test (see CMakeLists.txt).
#
# usage: test_report.sh MODE FA_TUNE FIXTURE_DB_TOOL CHECK_PNG SRC_DIR WORK_DIR
#   fixture  build WORK/fixture.db from fixture.sql (and an empty WORK/empty.db) with
#            report_fixture_db (no sqlite3 shell needed)
#   run      draw the sm90 report of the fixture into WORK/out/sm90
#   files    the report has exactly the files in expected_files.txt, no temporaries
#   png      every PNG is valid, of the size fa_report.h asks gnuplot for, not trivial
#   svg      every SVG parses as XML with an <svg> root
#   golden   every .dat equals golden/ byte for byte
#   cli      exit codes and messages: usage, bad arch, no gnuplot, no data, --problem, --format
#   hostile  a database (with both families) whose strings (hostile.sql) hold newlines, gnuplot commands, quotes,
#            comment ends, HTML and terminal escapes: report and every script rerun by hand
#            run nothing, the pages show the names escaped, the CLI prints no control bytes
#   samefile an output folder whose files would land on the database (`--db DIR/index.html`,
#            -o the database itself, a symlink in the folder to it) is refused with exit 2
#            before anything is written: the database byte-identical, no sidecar or temporary
#   families fixture.sql + families.sql (a second kernel family, sm90a, on the hd128 problems):
#            one heatmap per family on its own axes, a fa_tune_<family> column and line per
#            family in the speed plots, the winner's family per point, winners of both
#            families; --problem a family never measured: a note instead of its heatmap
#   decode   fixture.sql + decode.sql (splitkv decode problems, copy ceilings): one decode
#            plot per mode, its .dat rows, title, axis labels and copy line; the index entry and
#            its notes (an empty mode, no copy ceiling, a forward-only database)
#   decode_peers  decode_only.sql + decode.sql (decode results, no forward problem): malformed
#            decode peer rows are refused naming the line and leave the database byte-identical;
#            the report exits 0 with the decode plot and an index saying there are no forward
#            results; decode_peers.jsonl (bench/peers.py --decode rows: cudnn, flash, a refused
#            shape, the copy row, a per-shape copy row) imports, and the decode plot draws both peers and the imported
#            copy bandwidth; with forward problems, the forward panels get no decode peer
#   regen    rewrite golden/ from WORK/out/sm90 (after an intended change; review the diff)
# Environment: PYTHON3 (for the SVG check).
set -u
mode=$1 fatune=$2 mkdb=$3 checkpng=$4 src=$5 work=$6
out=$work/out/sm90
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
need_gnuplot() {
    if ! command -v gnuplot >/dev/null 2>&1 && [ -z "${FA_GNUPLOT:-}" ]; then
        echo "gnuplot not installed: skipped (apt-get install gnuplot-nox)" >&2
        exit 77
    fi
}
define() { sed -n "s/^#define $1 \\([0-9]*\\).*/\\1/p" "$src/../../reports/fa_report.h"; }

case $mode in
fixture)
    mkdir -p "$work" || fail "cannot create $work"
    "$mkdb" "$work/fixture.db" "$src/fixture.sql" || fail "cannot build the fixture database"
    "$mkdb" "$work/empty.db" || fail "cannot build an empty database"
    ;;
run)
    need_gnuplot
    rm -rf "$work/out"
    "$fatune" report --arch sm90 --db "$work/fixture.db" -o "$out" >"$work/run.stdout" \
        2>"$work/run.stderr"
    rc=$?
    cat "$work/run.stderr" >&2
    [ $rc -eq 0 ] || fail "fa-tune report exited $rc"
    [ "$(cat "$work/run.stdout")" = "$out/index.html" ] ||
        fail "stdout is '$(cat "$work/run.stdout")', expected the index path"
    grep -q "plots for sm90" "$work/run.stderr" || fail "no summary on stderr"
    if grep -q 'No GEMM ceiling stored' "$out/index.md"; then
        fail "a ceiling is stored, the index says none"
    fi
    ;;
files)
    need_gnuplot
    [ -f "$out/index.html" ] || fail "no report in $out (report.run failed?)"
    (cd "$out" && ls -A) >"$work/files.txt"
    if ! diff -u "$src/expected_files.txt" "$work/files.txt"; then
        fail "the report's files differ from expected_files.txt (see the diff)"
    fi
    # every image, data file and script the pages link to exists
    for page in index.html index.md; do
        for f in $(grep -o '[a-z0-9_]\+\.\(png\|svg\|dat\|gp\)' "$out/$page" | sort -u); do
            [ -f "$out/$f" ] || fail "$page links to missing $f"
        done
    done
    grep -q 'NVIDIA H100 80GB HBM3' "$out/index.html" || fail "no GPU in the footer"
    grep -q 'CUDA driver 12.4' "$out/index.html" || fail "no driver in the footer"
    grep -q 'fa-tune 0.1.0' "$out/index.html" || fail "no fa-tune version in the footer"
    grep -q 'data of 2026-11-21 08:00 UTC' "$out/index.html" || fail "no data date in the footer"
    grep -q '4·B·Hq·Nq·Nk·D' "$out/index.md" || fail "no FLOP convention in index.md"
    grep -q 'A100' "$out/index.html" && fail "sm80 data leaked into the sm90 report"
    grep -q 'fwd_sm80_hd128_bf16_m128n64w4s3' "$out/index.md" || fail "winners table lacks a winner"
    grep -q '^| key | family | variant |' "$out/index.md" || fail "winners table has no family column"
    grep -q '| sm80 | `fwd_sm80_hd128_bf16_m128n64w4s3` |' "$out/index.md" ||
        fail "a winner's row does not name its family"
    grep -q '<th class="l">family</th>' "$out/index.html" || fail "HTML winners: no family column"
    exit 0
    ;;
png)
    need_gnuplot
    set -- "$out"/*.png
    [ -f "$1" ] || fail "no PNG in $out"
    "$checkpng" "$(define FA_REPORT_WIDTH)" "$(define FA_REPORT_HEIGHT)" 8000 "$@" ||
        fail "invalid PNG"
    echo "$# PNGs ok"
    ;;
svg)
    need_gnuplot
    [ -n "${PYTHON3:-}" ] && [ -x "${PYTHON3:-}" ] || {
        echo "python3 not found: skipped" >&2
        exit 77
    }
    set -- "$out"/*.svg
    [ -f "$1" ] || fail "no SVG in $out"
    "$PYTHON3" - "$(define FA_REPORT_WIDTH)" "$(define FA_REPORT_HEIGHT)" "$@" <<'PY' || fail "invalid SVG"
import sys
import xml.etree.ElementTree as ET
w, h = sys.argv[1], sys.argv[2]
bad = 0
for path in sys.argv[3:]:
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as e:
        print(f"{path}: {e}", file=sys.stderr)
        bad = 1
        continue
    if root.tag != "{http://www.w3.org/2000/svg}svg":
        print(f"{path}: root element is {root.tag}, not svg", file=sys.stderr)
        bad = 1
    if root.get("width") != w or root.get("height") != h:
        print(f"{path}: {root.get('width')}x{root.get('height')}, expected {w}x{h}",
              file=sys.stderr)
        bad = 1
    if len(ET.tostring(root)) < 8000:
        print(f"{path}: suspiciously small", file=sys.stderr)
        bad = 1
print(f"{len(sys.argv) - 3} SVGs parsed")
sys.exit(bad)
PY
    ;;
golden)
    need_gnuplot
    n=0
    for g in "$src"/golden/*.dat; do
        name=$(basename "$g")
        [ -f "$out/$name" ] || fail "the report has no $name"
        cmp -s "$g" "$out/$name" || {
            diff -u "$g" "$out/$name" | head -40
            fail "$name differs from golden/$name"
        }
        n=$((n + 1))
    done
    for f in "$out"/*.dat; do
        [ -f "$src/golden/$(basename "$f")" ] || fail "$(basename "$f") has no golden copy"
    done
    echo "$n .dat files equal their golden copies"
    ;;
refusals)
    # Tuning stores a refusal once per class (on its first problem): the heatmap of a problem
    # with none of its class's refusal rows still marks those tiles, the same as when every
    # problem had them (the golden heatmap).
    need_gnuplot
    t=$work/refusals
    rm -rf "$t" && mkdir -p "$t" || fail "cannot create $t"
    cat >"$t/once.sql" <<'SQL'
DELETE FROM measurements WHERE status = 'unsupported'
  AND variant_id IN (SELECT id FROM variants WHERE head_dim = 128 AND causal = 0 AND varlen = 0)
  AND problem_id <> (SELECT id FROM problems WHERE name = 'b32_h16_kv16_q512_k512_d128_bf16');
SQL
    "$mkdb" "$t/r.db" "$src/fixture.sql" "$t/once.sql" || fail "cannot build the database"
    left=$("$fatune" db list --db "$t/r.db" --arch sm90 |
        awk '$2 == "b4_h16_kv16_q4096_k4096_d128_bf16" { print $7 }')
    [ "$left" = 0 ] || fail "'$left' refusals left on the heatmap's problem"
    "$fatune" report --arch sm90 --db "$t/r.db" -o "$t/out" >"$t/o" 2>"$t/e" ||
        fail "report exited $?: $(cat "$t/e")"
    cmp -s "$src/golden/heatmap_sm80.dat" "$t/out/heatmap_sm80.dat" || {
        diff -u "$src/golden/heatmap_sm80.dat" "$t/out/heatmap_sm80.dat" | head -20
        fail "the heatmap differs when refusals are stored once per class"
    }
    grep -q '^3 1 128 128 NaN unsupported ' "$t/out/heatmap_sm80.dat" ||
        fail "the refused 128 x 128 tile is not marked unsupported"
    echo "refusals from another problem of the class mark the heatmap"
    ;;
families)
    need_gnuplot
    t=$work/families
    rm -rf "$t" && mkdir -p "$t" || fail "cannot create $t"
    "$mkdb" "$t/f.db" "$src/fixture.sql" "$src/families.sql" || fail "cannot build the database"
    "$fatune" report --arch sm90 --db "$t/f.db" -o "$t/out" >"$t/o" 2>"$t/e" ||
        fail "report exited $?: $(cat "$t/e")"
    o=$t/out
    # one heatmap per family, each with its files, none mixed
    for fam in sm80 sm90a; do
        for ext in dat gp png svg; do
            [ -f "$o/heatmap_$fam.$ext" ] || fail "no heatmap_$fam.$ext"
        done
        grep -q "^# family $fam: " "$o/heatmap_$fam.dat" || fail "heatmap_$fam.dat names no family"
        grep -q "heatmap_$fam.png" "$o/index.md" || fail "index.md does not show heatmap_$fam"
    done
    [ -e "$o/heatmap.dat" ] && fail "a mixed heatmap.dat was written"
    grep -q 'fwd_sm90a' "$o/heatmap_sm80.dat" && fail "sm90a variants in the sm80 heatmap"
    grep -v '^#' "$o/heatmap_sm90a.dat" | awk '$8 != "-" && $8 !~ /^fwd_sm90a_/ { exit 1 }' ||
        fail "a variant of another family in the sm90a heatmap"
    # sm90a's rows are BLOCK_M 128 and 192 (2 and 3 consumer warpgroups), its columns its own
    [ "$(grep -v '^#' "$o/heatmap_sm90a.dat" | awk '{print $4}' | sort -un | tr '\n' ' ')" = \
        "128 192 " ] || fail "sm90a heatmap rows are not BLOCK_M 128 and 192"
    [ "$(grep -v '^#' "$o/heatmap_sm90a.dat" | awk '{print $3}' | sort -un | tr '\n' ' ')" = \
        "96 128 176 224 " ] || fail "sm90a heatmap columns are not its BLOCK_Ns"
    grep -q '^[0-9]* [0-9]* 224 192 NaN unsupported ' "$o/heatmap_sm90a.dat" ||
        fail "the sm90a tile over budget is not marked unsupported"
    grep -q "^set ylabel 'BLOCK_M = 64 x consumer warpgroups (queries per tile)'" \
        "$o/heatmap_sm90a.gp" || fail "the sm90a heatmap's rows are not labelled by warpgroups"
    # the colour bar's label is short (a list of the other axes ran off the image); the note
    # under the grid names them with the short forms the cells use
    grep -q "^set cblabel 'TFLOP/s (best sm90a variant per tile)'" "$o/heatmap_sm90a.gp" ||
        fail "the sm90a colour bar label"
    grep -q "^set label 98 'a cell: the TFLOP/s of the tile''s best variant and its parameters (s = stages, ov = overlap, pp = pingpong, pe = persistent, pg = PackGQA, x = blocks per multiprocessor)'" \
        "$o/heatmap_sm90a.gp" || fail "the sm90a heatmap's note does not name its other axes"
    grep -q "^set ylabel 'BLOCK_M (queries per tile)'" "$o/heatmap_sm80.gp" ||
        fail "the sm80 heatmap's rows are mislabelled"
    [ "$(grep '^# problem' "$o/heatmap_sm80.dat")" = "$(grep '^# problem' "$o/heatmap_sm90a.dat")" ] ||
        fail "the two heatmaps are not on the same problem"
    # the speed plots: a column and a line per family; the winner's family per point
    d=$o/tflops_hd128_bf16_noncausal.dat
    grep -q '^# seqlen fa_tune eager .* fa_tune_sm80 fa_tune_sm90a problems winner family$' "$d" ||
        fail "no per-family columns in $(basename "$d")"
    # columns: seqlen fa_tune eager 4 peers sm80 sm90a problems winner family
    awk '!/^#/ { best = $8 > $9 ? $8 : $9; if ($2 != best) exit 1 }' "$d" ||
        fail "fa_tune is not the best of its families"
    awk '!/^#/ && $1 == 512 && $12 == "sm80" { a = 1 } !/^#/ && $1 == 16384 && $12 == "sm90a" \
        && $11 ~ /^fwd_sm90a_/ { b = 1 } END { exit !(a && b) }' "$d" ||
        fail "the winner's family is not sm80 at N = 512 and sm90a at 16k"
    for kind in tflops speedup; do
        g=$o/${kind}_hd128_bf16_noncausal.gp
        grep -q "title 'fa-tune, sm80 family only'" "$g" || fail "$kind: no sm80 line"
        grep -q "title 'fa-tune, sm90a family only'" "$g" || fail "$kind: no sm90a line"
    done
    grep -q '^# seqlen fa_tune eager .* fa_tune_sm80 fa_tune_sm90a$' \
        "$o/speedup_hd128_bf16_noncausal.dat" || fail "no per-family speed-up columns"
    # hd64 has sm80 measurements only: the sm90a column is NaN and no sm90a line is drawn
    awk '!/^#/ && $9 != "NaN" { exit 1 }' "$o/tflops_hd64_bf16_noncausal.dat" ||
        fail "an sm90a figure on a panel it never ran"
    grep -q 'sm90a family only' "$o/tflops_hd64_bf16_noncausal.gp" && fail "an empty sm90a line"
    # winners of both families, counted per family
    grep -q '^| bf16 hd128 non-causal, N ≤ 16384 | sm90a | `fwd_sm90a_' "$o/index.md" ||
        fail "no sm90a winner at 16k"
    grep -q '^| bf16 hd128 non-causal, N ≤ 512 | sm80 | `fwd_sm80_' "$o/index.md" ||
        fail "no sm80 winner at 512"
    grep -q '^Winners per kernel family: sm80 [0-9]*, sm90a [0-9]*\.$' "$o/index.md" ||
        fail "index.md does not count the winners per family"
    # --problem that one family never measured: its heatmap is a note, the other is drawn
    p=b32_h32_kv32_q512_k512_d64_bf16
    "$fatune" report --arch sm90 --db "$t/f.db" -o "$t/p" --format png --problem $p >"$t/o" \
        2>"$t/e" || fail "report --problem exited $?: $(cat "$t/e")"
    [ -f "$t/p/heatmap_sm80.png" ] || fail "no sm80 heatmap of $p"
    ls "$t/p"/heatmap_sm90a.* >/dev/null 2>&1 && fail "an sm90a heatmap of a problem it never ran"
    grep -q "Not drawn: sm90a family: no measurement of problem $p" "$t/p/index.html" ||
        fail "index.html does not say why the sm90a heatmap is missing"
    # compile-only (no timings, no peers): one registers grid per family, a family column
    cp "$t/f.db" "$t/c.db"
    "$mkdb" "$t/c.db" --keep -c "DELETE FROM measurements WHERE run_id NOT IN (4, 7);
        DELETE FROM peers; UPDATE runs SET device_id = 2 WHERE id = 7;
        UPDATE measurements SET status = 'compiled', median_ms = NULL, tflops = NULL
        WHERE run_id = 7 AND status = 'ok';" || fail "cannot edit the database"
    "$fatune" report --arch sm90 --db "$t/c.db" -o "$t/c" --format svg >"$t/o" 2>"$t/e" ||
        fail "compile-only report exited $?: $(cat "$t/e")"
    for fam in sm80 sm90a; do
        [ -f "$t/c/registers_$fam.svg" ] || fail "compile-only: no registers_$fam.svg"
        grep -q "^# family $fam: " "$t/c/registers_$fam.dat" || fail "registers_$fam.dat: no family"
    done
    [ -e "$t/c/registers.dat" ] && fail "compile-only: a mixed registers grid"
    # each image under its own heading (the registers grids came before theirs); no TFLOP/s
    # sentence in a footer of a page without timings
    awk '/^## Compile time$/ { h = 1 } /^## Registers/ { r = 1 }
         /\(compile_time\.svg\)$/ && h && !r { c = 1 } /\(registers_sm80\.svg\)$/ && r { g = 1 }
         END { exit !(c && g) }' "$t/c/index.md" ||
        fail "compile-only: an image outside its section: $(grep -n '^##\|svg)$' "$t/c/index.md")"
    if grep -q 'TFLOP/s = ' "$t/c/index.md" "$t/c/index.html"; then
        fail "compile-only: the footer explains TFLOP/s"
    fi
    [ "$(grep -v '^#' "$t/c/registers_sm90a.dat" | awk '{print $4 "x" $3}' | tr '\n' ' ')" = \
        "128x128 128x176 192x96 192x128 " ] || fail "registers_sm90a.dat holds other tiles"
    grep -v '^#' "$t/c/registers_sm80.dat" | awk '$4 > 128 || $3 > 128 { exit 1 }' ||
        fail "an sm90a tile in the sm80 registers grid"
    grep -q '^| sm90a | 192 | 128 | 2 |' "$t/c/index.md" || fail "tiles table lacks its family"
    grep -q "^set ylabel 'BLOCK_M = 64 x consumer warpgroups (queries per tile)'" \
        "$t/c/registers_sm90a.gp" || fail "registers_sm90a.gp: rows not labelled by warpgroups"
    echo "families ok"
    ;;
regen)
    rm -f "$src"/golden/*.dat
    cp "$out"/*.dat "$src/golden/" && (cd "$out" && ls -A) >"$src/expected_files.txt"
    ;;
cli)
    t=$work/cli
    rm -rf "$t"
    mkdir -p "$t"
    run() { # run EXPECTED_RC ARGS...: fa-tune's stdout/stderr in $t/o, $t/e; $envs applies
        want=$1
        shift
        env ${envs:-} "$fatune" "$@" >"$t/o" 2>"$t/e"
        got=$?
        [ $got -eq "$want" ] || {
            cat "$t/e" >&2
            fail "'fa-tune $*' exited $got, expected $want"
        }
    }
    expect_err() { grep -q -- "$1" "$t/e" || { cat "$t/e" >&2; fail "stderr lacks '$1'"; }; }

    run 0 report --help
    grep -q 'usage: fa-tune report --arch ARCH -o DIR' "$t/o" || fail "--help not on stdout"
    [ -s "$t/e" ] && fail "--help wrote to stderr"
    run 2 report
    expect_err "--arch is required"
    run 2 report --arch sm99 -o "$t/x"
    expect_err "unsupported --arch 'sm99'"
    run 2 report --arch sm90
    expect_err "-o DIR is required"
    run 2 report --arch sm90 -o "$t/x" --format gif
    expect_err "unknown image format 'gif'"
    run 2 report --arch sm90 -o "$t/x" --colour red
    expect_err "unknown option '--colour'"
    [ -e "$t/x" ] && fail "a usage error created the output folder"

    # gnuplot missing: a named executable that is not there, and an empty PATH
    envs=FA_GNUPLOT=/nonexistent/gnuplot
    run 1 report --arch sm90 --db "$work/fixture.db" -o "$t/x"
    expect_err "gnuplot not found"
    expect_err "apt-get install gnuplot-nox"
    envs="PATH=/nonexistent FA_GNUPLOT="
    run 1 report --arch sm90 --db "$work/fixture.db" -o "$t/x"
    envs=
    expect_err "gnuplot not found: no 'gnuplot' on PATH"
    expect_err "apt-get install gnuplot-nox"
    [ -e "$t/x" ] && fail "a failed report created the output folder"

    need_gnuplot
    # no data: an arch with nothing stored, an empty database, no database at all
    run 1 report --arch sm86 --db "$work/fixture.db" -o "$t/x"
    expect_err "no measurements for sm86"
    expect_err "run 'fa-tune --arch sm86 --headdim 128'"
    run 1 report --arch sm90 --db "$work/empty.db" -o "$t/x"
    expect_err "run 'fa-tune --arch sm90 --headdim 128'"
    run 1 report --arch sm90 --db "$t/missing.db" -o "$t/x"
    expect_err "missing.db"
    run 1 report --arch sm90 --db "$work/fixture.db" -o "$t/x" --problem b1_nothing
    expect_err "no timed measurements of problem 'b1_nothing'"
    [ -e "$t/x" ] && fail "a failed report created the output folder"

    # --format svg, --problem, a nested folder that does not exist yet, a read-only database
    cp "$work/fixture.db" "$t/ro.db" && chmod 444 "$t/ro.db"
    p=b16_h16_kv16_q1024_k1024_d128_bf16_causal
    run 0 report --arch sm90 --db "$t/ro.db" -o "$t/a/b/c" --format svg --problem $p
    ls "$t/a/b/c"/*.png >/dev/null 2>&1 && fail "--format svg wrote PNGs"
    [ -f "$t/a/b/c/heatmap_sm80.svg" ] || fail "--format svg wrote no heatmap_sm80.svg"
    grep -q "^# problem $p\$" "$t/a/b/c/heatmap_sm80.dat" || fail "--problem not used by the heatmap"
    grep -q "heatmap_sm80.svg" "$t/a/b/c/index.html" || fail "index.html does not show the SVGs"
    ls -A "$t/a/b/c" | grep -q '\.tmp' && fail "temporary files left behind"

    # a panel with nothing ok, no eager, no memory figures: noted on the index, not drawn
    cp "$work/fixture.db" "$t/edge.db"
    "$mkdb" "$t/edge.db" --keep -c "UPDATE measurements SET status = 'mismatch', tflops = NULL,
        eager_median_ms = NULL, eager_peak_extra_bytes = NULL, peak_extra_bytes = NULL
        WHERE problem_id IN (SELECT id FROM problems WHERE head_dim = 64 AND causal = 1);
        DELETE FROM peers WHERE problem_id IN
        (SELECT id FROM problems WHERE head_dim = 64 AND causal = 1);" ||
        fail "cannot edit the fixture"
    p=b32_h32_kv32_q512_k512_d64_bf16_causal
    run 0 report --arch sm90 --db "$t/edge.db" -o "$t/edge" --problem $p
    ls "$t/edge"/*hd64_bf16_causal.* >/dev/null 2>&1 && fail "an empty panel was drawn"
    grep -q 'Not drawn: hd64 bf16 causal: no variant measured ok' "$t/edge/index.html" ||
        fail "index.html does not say why a panel is missing"
    grep -q "^0 0 64 64 NaN mismatch" "$t/edge/heatmap_sm80.dat" || fail "failed cells not marked"
    [ -f "$t/edge/heatmap_sm80.png" ] || fail "no heatmap of an all-failed problem"
    [ -f "$t/edge/convergence.png" ] && fail "a convergence plot without an ok measurement"

    # a second report over the first gives the same bytes
    run 0 report --arch sm90 --db "$work/fixture.db" -o "$t/twice" --format png
    cp -r "$t/twice" "$t/first"
    run 0 report --arch sm90 --db "$work/fixture.db" -o "$t/twice" --format png
    for f in "$t/first"/*.dat "$t/first"/*.gp "$t/first"/index.*; do
        cmp -s "$f" "$t/twice/$(basename "$f")" || fail "$(basename "$f") changed on a rerun"
    done
    # the scripts stand alone: rerun one by hand in the folder
    (cd "$t/twice" && gnuplot tflops_hd128_bf16_causal.gp) || fail "a .gp script does not rerun"
    "$checkpng" "$(define FA_REPORT_WIDTH)" "$(define FA_REPORT_HEIGHT)" 8000 \
        "$t/twice/tflops_hd128_bf16_causal.png" || fail "the rerun script drew no valid PNG"
    echo "cli ok"
    ;;
samefile)
    need_gnuplot
    t=$work/samefile
    rm -rf "$t" && mkdir -p "$t/dir" "$t/links" || fail "cannot create $t"
    cp "$work/fixture.db" "$t/dir/index.html" && cp "$work/fixture.db" "$t/f.db" || fail "copy"
    ln -s ../f.db "$t/links/index.md"
    sum=$(cksum <"$t/dir/index.html") sumf=$(cksum <"$t/f.db")
    for args in "--db $t/dir/index.html -o $t/dir" "--db $t/dir/index.html -o $t/dir/../dir" \
        "--db $t/f.db -o $t/f.db" "--db $t/f.db -o $t/links"; do
        # shellcheck disable=SC2086
        "$fatune" report --arch sm90 $args >"$t/out" 2>"$t/err"
        rc=$?
        [ $rc -eq 2 ] || fail "report $args exited $rc, not 2: $(cat "$t/err")"
        grep -q "refusing to write" "$t/err" || fail "report $args said: $(cat "$t/err")"
        [ "$(cksum <"$t/dir/index.html")" = "$sum" ] || fail "report $args changed the database"
        [ "$(cksum <"$t/f.db")" = "$sumf" ] || fail "report $args changed the database"
        [ -L "$t/links/index.md" ] || fail "report $args replaced the symlink"
        strays=$(find "$t" -name '*-wal' -o -name '*-shm' -o -name '*-journal' -o -name '.*tmp*' \
            -o -name '*.png' -o -name '*.dat')
        [ -z "$strays" ] || fail "report $args left: $strays"
    done
    echo "samefile ok"
    ;;
decode)
    need_gnuplot
    t=$work/decode
    rm -rf "$t" && mkdir -p "$t" || fail "cannot create $t"
    "$mkdb" "$t/d.db" "$src/fixture.sql" "$src/decode.sql" || fail "cannot build the database"
    "$fatune" report --arch sm90 --db "$t/d.db" -o "$t/out" >"$t/o" 2>"$t/e" ||
        fail "report exited $?: $(cat "$t/e")"
    o=$t/out s=decode_hd128_bf16_h32kv8_q1
    for ext in dat gp png svg; do
        [ -f "$o/$s.$ext" ] || fail "no $s.$ext"
    done
    "$checkpng" "$(define FA_REPORT_WIDTH)" "$(define FA_REPORT_HEIGHT)" 8000 "$o/$s.png" ||
        fail "invalid $s.png"
    grep -q '<svg' "$o/$s.svg" || fail "$s.svg is no SVG"
    # one point per problem by batch x cache length: the best of each variant's latest row
    # (k8's 4.5 of run 59 is replaced by its 3.6 of run 60; k8 unsupported at b8)
    [ "$(grep -v '^#' "$o/$s.dat")" = "16384 8 2048 1.2 decode_splitkv_hd128_bf16_m16n64w4s3k0
131072 1 131072 4.1 decode_splitkv_hd128_bf16_m16n64w4s3k8
131072 128 1024 3 decode_splitkv_hd128_bf16_m16n64w4s3k0
262144 64 4096 3.6 decode_splitkv_hd128_bf16_m16n64w4s3k8" ] || fail "$s.dat rows: $(cat "$o/$s.dat")"
    # 1 x 131072 and 128 x 1024 share an x: points only (a line would zig-zag between them)
    grep -q "^plot datafile using 1:(pos(\$4)) with points " "$o/$s.gp" ||
        fail "$s.gp: shapes that share an x are joined by a line"
    grep -q "with linespoints" "$o/$s.gp" && fail "$s.gp: a line over shapes that share an x"
    grep -qx '# copy_tbps 4.2' "$o/$s.dat" || fail "$s.dat: the copy ceiling is not the best one"
    grep -qx '# rows batch seqlen_k fa_tune winner' "$o/$s.dat" || fail "$s.dat: columns"
    grep -q "^title = 'Decode K/V TB/s vs cache rows: sm90, hd128 bf16, heads 32/8, 1 new token'$" \
        "$o/$s.gp" || fail "$s.gp: title"
    grep -qx "set xlabel 'K/V rows read per kv head: batch x cache length'" "$o/$s.gp" ||
        fail "$s.gp: x label"
    grep -qx "set ylabel 'K/V read (TB/s)'" "$o/$s.gp" || fail "$s.gp: y label"
    grep -qx 'copy = 4.2' "$o/$s.gp" || fail "$s.gp: copy value"
    grep -q "copy with lines .*title sprintf('device copy bandwidth (measured): %.2f TB/s', copy)" \
        "$o/$s.gp" || fail "$s.gp: no copy line"
    grep -q "^plot datafile using 1:(pos(\$4)) .*title 'fa-tune (best variant per problem)'" \
        "$o/$s.gp" || fail "$s.gp: no fa-tune line"
    # the decode rows stay out of the forward panels; the paged mode has no ok row: a note
    grep -q 'decode_' "$o"/tflops_*.dat && fail "a decode variant in a forward panel"
    ls "$o" | grep -q '^decode_hd128_bf16_h32kv8_q4_paged64' && fail "files of an empty panel"
    grep -q '^## Decode: K/V TB/s vs cache rows$' "$o/index.md" || fail "index.md: no section"
    grep -q "^!\[Decode K/V TB/s vs cache rows: sm90, hd128 bf16, heads 32/8, 1 new token\]($s.png)" \
        "$o/index.md" || fail "index.md does not show $s"
    grep -q "<img src=\"$s.png\"" "$o/index.html" || fail "index.html does not show $s"
    grep -q '^\*Not drawn: decode hd128 bf16, heads 32/8, 4 new tokens, paged 64: no variant measured ok\.\*$' \
        "$o/index.md" || fail "index.md: no note for the paged mode"
    grep -q 'Peers measured on the same shapes' "$o/index.md" || fail "index.md: peers not explained"
    grep -q 'No device copy bandwidth stored' "$o/index.md" && fail "index.md: copy said missing"
    # without a copy ceiling: no line, and the index says so
    printf "DELETE FROM ceilings WHERE name = 'copy';\n" >"$t/nocopy.sql"
    "$mkdb" "$t/n.db" "$src/fixture.sql" "$src/decode.sql" "$t/nocopy.sql" ||
        fail "cannot build the database without copy"
    "$fatune" report --arch sm90 --db "$t/n.db" -o "$t/n" >"$t/o" 2>"$t/e" ||
        fail "report exited $?: $(cat "$t/e")"
    grep -qx '# copy_tbps NaN' "$t/n/$s.dat" || fail "no copy ceiling: copy_tbps not NaN"
    grep -q 'copy with lines' "$t/n/$s.gp" && fail "no copy ceiling: a copy line drawn"
    [ -f "$t/n/$s.png" ] || fail "no copy ceiling: no $s.png"
    grep -q '^\*No device copy bandwidth stored (no ceiling named copy): the decode plots have no bandwidth line\.\*$' \
        "$t/n/index.md" || fail "index.md: no copy ceiling not said"
    grep -q '<p><em>No device copy bandwidth stored' "$t/n/index.html" ||
        fail "index.html: no copy ceiling not said"
    # a forward-only database: the section says why it is empty
    "$mkdb" "$t/f.db" "$src/fixture.sql" || fail "cannot build the forward-only database"
    "$fatune" report --arch sm90 --db "$t/f.db" -o "$t/f" >"$t/o" 2>"$t/e" ||
        fail "report exited $?: $(cat "$t/e")"
    grep -q '^\*Not drawn: no decode problems measured\.\*$' "$t/f/index.md" ||
        fail "forward-only index: no decode note"
    ls "$t/f" | grep -q '^decode_' && fail "forward-only: decode files"
    echo "decode ok"
    ;;
decode_peers)
    t=$work/decode_peers
    rm -rf "$t" && mkdir -p "$t" || fail "cannot create $t"
    "$mkdb" "$t/d.db" "$src/decode_only.sql" "$src/decode.sql" || fail "cannot build the database"
    # malformed decode rows, each on line 2 after a good one: refused naming the line, the
    # database byte-identical and no sidecar file left
    good=$(sed -n 2p "$src/decode_peers.jsonl")
    row='"peer": "torch_sdpa_cudnn", "op": "decode", "dtype": "bf16", "head_dim": 128, "batch": 8, "heads_q": 32, "heads_kv": 8, "median_ms": 0.1'
    cp "$t/d.db" "$t/before.db" || fail "cannot copy the database"
    i=0
    while IFS='|' read -r fields want; do
        i=$((i + 1))
        printf '%s\n{%s}\n' "$good" "$fields" >"$t/bad$i.jsonl"
        "$fatune" db import-peers --arch sm90 --db "$t/d.db" "$t/bad$i.jsonl" >"$t/o" 2>"$t/e"
        rc=$?
        [ $rc -eq 2 ] || fail "bad$i: import-peers exited $rc, expected 2: $(cat "$t/e")"
        grep -qF "bad$i.jsonl:2: $want" "$t/e" ||
            fail "bad$i: message '$(cat "$t/e")', expected '$want'"
        cmp -s "$t/d.db" "$t/before.db" || fail "bad$i: a refused import changed the database"
        for x in -wal -shm -journal; do
            [ -e "$t/d.db$x" ] && fail "bad$i: a refused import left d.db$x"
        done
    done <<END_OF_CASES
$row, "seqlen_q": 1, "seqlen_k": 2048, "tflops": 9|field 'tbps': expected a number above 0
$row, "seqlen_q": 1, "seqlen_k": 2048, "tbps": -1|field 'tbps': expected a number above 0
$row, "seqlen_q": 17, "seqlen_k": 2048, "tbps": 1|decode seqlen_q 17 is above 16
$row, "seqlen_q": 1, "seqlen_k": 2048, "varlen": 1, "tbps": 1|decode problems are not varlen
"peer": "torch_sdpa_cudnn", "op": "prefill", "head_dim": 128, "batch": 8, "heads_q": 32, "heads_kv": 8, "seqlen_q": 1, "seqlen_k": 2048, "median_ms": 0.1, "tbps": 1|field 'op': expected fwd or decode, got 'prefill'
"peer": "copy", "median_ms": 2, "tflops": 4|field 'tbps': expected a number above 0
END_OF_CASES
    [ $i -eq 6 ] || fail "ran $i malformed cases, expected 6"
    need_gnuplot
    # a database of decode results only: the decode plot, and the index says why no forward one
    "$fatune" report --arch sm90 --db "$t/d.db" -o "$t/a" >"$t/o" 2>"$t/e" ||
        fail "report of a decode-only database exited $?: $(cat "$t/e")"
    s=decode_hd128_bf16_h32kv8_q1
    for ext in dat gp png svg; do
        [ -f "$t/a/$s.$ext" ] || fail "decode-only: no $s.$ext"
    done
    ls "$t/a" | grep -q '^tflops_' && fail "decode-only: a forward panel"
    grep -q '^\*Not drawn: no forward results: the database holds decode results only' \
        "$t/a/index.md" || fail "decode-only: index.md does not say there are no forward results"
    grep -q '<p><em>Not drawn: no forward results' "$t/a/index.html" ||
        fail "decode-only: index.html does not say there are no forward results"
    # 9 decode rows, one refused (unsupported: no time): 8 timed
    grep -q '8 timed measurements (0 forward, 8 decode)' "$t/a/index.md" || fail "decode-only: decode rows not counted"
    # the decode winners are counted where the (forward) winners table would be: the four
    # contiguous seqlen_q-1 keys (the paged seqlen_q-4 problem has no ok row)
    grep -q "^4 decode winners (one per decode key) .* not listed below: 'fa-tune db best --arch sm90'" \
        "$t/a/index.md" || fail "decode-only: the index does not point at the decode winners"
    # with an ok row on the paged seqlen_q-4 problem, that is a key of its own (as in the
    # emitted header and `db best`), though its cache bucket is a seqlen_q-1 key's: 5
    printf "INSERT INTO measurements (uuid, run_id, variant_id, problem_id, arch, status, message, median_ms, tflops, measured_at) VALUES ('dec0de00-0000-4000-8000-0000000000aa', 60, 601, 603, 'sm90', 'ok', '', 0.03, 3.9, '2026-11-21T09:08:00.000Z');\n" >"$t/q4ok.sql"
    "$mkdb" "$t/q.db" "$src/decode_only.sql" "$src/decode.sql" "$t/q4ok.sql" ||
        fail "cannot build the database with a paged winner"
    "$fatune" report --arch sm90 --db "$t/q.db" -o "$t/q" >"$t/o" 2>"$t/e" ||
        fail "report (paged winner) exited $?: $(cat "$t/e")"
    grep -q "^5 decode winners (one per decode key)" "$t/q/index.md" ||
        fail "decode-only: a paged seqlen_q-4 winner not counted as its own key: $(grep 'decode winner' "$t/q/index.md")"
    grep -q 'No winners' "$t/a/index.md" && fail "decode-only: 'No winners' with decode winners"
    # the decode builds are in the compile-time histogram (two compiles, a cache hit left out)
    grep -q 'NVRTC compile time per variant: sm90 (2 compiles, cache hits left out)' \
        "$t/a/index.md" || fail "decode-only: the decode compiles are not in the histogram"
    grep -qx '# copy_tbps 4.2' "$t/a/$s.dat" || fail "decode-only: copy_tbps"
    # the peers' decode rows and copy row
    "$fatune" db import-peers --arch sm90 --db "$t/d.db" "$src/decode_peers.jsonl" >"$t/o" \
        2>"$t/e" || fail "import-peers exited $?: $(cat "$t/e")"
    # peers.py's per-shape copy row (copy_same_bytes, with an op) is counted, not stored: its
    # 5.9 TB/s would otherwise replace the device's copy line below
    grep -q "imported 5 peer rows and 1 ceilings from .* (1 rows skipped: .*; 1 per-shape copy rows not stored" "$t/o" ||
        fail "import-peers: $(cat "$t/o")"
    "$fatune" report --arch sm90 --db "$t/d.db" -o "$t/b" >"$t/o" 2>"$t/e" ||
        fail "report with decode peers exited $?: $(cat "$t/e")"
    d=$t/b/$s.dat g=$t/b/$s.gp
    # peers.py's fa_tune peer (the header in PyTorch's process) gets a column of its own name
    grep -qx '# rows batch seqlen_k fa_tune winner peer_fa_tune torch_sdpa_cudnn torch_sdpa_flash' "$d" ||
        fail "$s.dat: no peer columns: $(grep '^# rows' "$d")"
    # the peers join fa-tune's problems (the same key) on their points
    [ "$(grep -v '^#' "$d")" = "16384 8 2048 1.2 decode_splitkv_hd128_bf16_m16n64w4s3k0 NaN NaN NaN
131072 1 131072 4.1 decode_splitkv_hd128_bf16_m16n64w4s3k8 NaN 3.94758 NaN
131072 128 1024 3 decode_splitkv_hd128_bf16_m16n64w4s3k0 NaN NaN NaN
262144 64 4096 3.6 decode_splitkv_hd128_bf16_m16n64w4s3k8 4.12978 4.29497 2.14748" ] ||
        fail "$s.dat rows: $(grep -v '^#' "$d")"
    grep -q "datafile using 1:(pos(\$6)) .*lc rgb '#e377c2' title 'fa-tune header in PyTorch" "$g" ||
        fail "$s.gp: the fa_tune peer is not labelled as the header in PyTorch's process"
    # the imported copy row (4.29 TB/s, above the fixture's 4.2) is the line
    grep -qx '# copy_tbps 4.29497' "$d" || fail "$s.dat: the imported copy row is not the line"
    grep -qx 'copy = 4.29497' "$g" || fail "$s.gp: copy value"
    grep -q "copy with lines .*title sprintf('device copy bandwidth (measured)" "$g" ||
        fail "$s.gp: no copy line"
    # a peer's colour is its own (by name), whatever else the list holds
    grep -q "datafile using 1:(pos(\$7)) .*lc rgb '#1f77b4' title 'PyTorch SDPA cuDNN'" "$g" ||
        fail "$s.gp: no cuDNN line in its colour"
    grep -q "datafile using 1:(pos(\$8)) .*lc rgb '#ff7f0e' title 'PyTorch SDPA flash (FA2)'" "$g" ||
        fail "$s.gp: no flash line in its colour"
    # a mode only a peer measured gets a panel of its own
    p=decode_hd64_bf16_h16kv16_q4
    [ -f "$t/b/$p.png" ] || fail "no $p.png for the peer-only mode"
    [ "$(grep -v '^#' "$t/b/$p.dat")" = "262144 16 16384 NaN - 3.57914" ] ||
        fail "$p.dat rows: $(grep -v '^#' "$t/b/$p.dat")"
    # with forward problems too: the decode peers stay out of the forward panels
    "$mkdb" "$t/f.db" "$src/fixture.sql" "$src/decode.sql" || fail "cannot build the database"
    "$fatune" report --arch sm90 --db "$t/f.db" -o "$t/c0" >"$t/o" 2>"$t/e" ||
        fail "report (forward database) exited $?: $(cat "$t/e")"
    # (peers.py's fa_tune peer has decode rows only: no column in the forward data files, and
    # the forward plots' columns stay where they were)
    "$fatune" db import-peers --arch sm90 --db "$t/f.db" "$src/decode_peers.jsonl" >"$t/o" \
        2>"$t/e" || fail "import-peers (forward database) exited $?: $(cat "$t/e")"
    "$fatune" report --arch sm90 --db "$t/f.db" -o "$t/c" >"$t/o" 2>"$t/e" ||
        fail "report (forward database, peers imported) exited $?: $(cat "$t/e")"
    [ "$(cd "$t/c" && ls tflops_*)" = "$(cd "$t/c0" && ls tflops_*)" ] ||
        fail "the decode peers changed the forward panels: $(cd "$t/c" && ls tflops_*)"
    for f in "$t"/c/tflops_*.dat "$t"/c/speedup_*.dat "$t"/c/memory_*.dat; do
        cmp -s "$f" "$t/c0/$(basename "$f")" ||
            fail "$(basename "$f") changed when the decode peers were imported"
    done
    # the plots read the same columns (their legends may name the peers' versions now)
    for f in "$t"/c/tflops_*.gp "$t"/c/speedup_*.gp "$t"/c/memory_*.gp; do
        [ "$(grep -o 'pos(\$[0-9]*)' "$f")" = "$(grep -o 'pos(\$[0-9]*)' "$t/c0/${f##*/}")" ] ||
            fail "${f##*/} reads other columns when the decode peers were imported"
    done
    grep -q ' 4.29497 ' "$t/c/$s.dat" || fail "forward database: no peer in $s.dat"
    echo "decode_peers ok"
    ;;
hostile)
    need_gnuplot
    t=$work/hostile
    rm -rf "$t" && mkdir -p "$t" || fail "cannot create $t"
    "$mkdb" "$t/h.db" "$src/fixture.sql" "$src/families.sql" "$src/hostile.sql" ||
        fail "cannot build the database"
    esc=$(printf '\033') bel=$(printf '\007') cr=$(printf '\r')
    pwned() { [ -z "$(find "$t" -name 'PWNED*')" ] || fail "$1 ran a command from the database"; }
    # gnuplot runs in the output folder; the report runs in $t
    (cd "$t" && "$fatune" report --arch sm90 --db h.db -o out >run.stdout 2>run.stderr)
    rc=$?
    pwned "report"
    [ $rc -eq 0 ] || fail "report exited $rc on the hostile database: $(cat "$t/run.stderr")"
    for gp in "$t"/out/*.gp; do
        (cd "$t/out" && gnuplot "$(basename "$gp")" >/dev/null 2>&1) ||
            fail "$(basename "$gp") does not rerun"
    done
    pwned "rerunning a .gp script"
    # the names are in comments and quoted strings: none starts a line of its own
    grep -l '^[[:space:]]*system\|^<script>' "$t"/out/*.gp "$t"/out/*.dat &&
        fail "a name from the database starts a line of a script or data file"
    grep -c 'touch PWNED' "$t"/out/*.gp | grep -q ':0$' &&
        fail "a script lost the name (it must appear escaped, not dropped)"
    grep -q '<script>' "$t/out/index.html" && fail "index.html holds a raw <script>"
    grep -q 'NVIDIA H100 80GB HBM3 x&#39; \(.\)*system(&quot;touch PWNED&quot;)' "$t/out/index.html" ||
        fail "index.html does not show the GPU name escaped"
    grep -q '<script>\|^system' "$t/out/index.md" && fail "index.md holds raw HTML or a split line"
    grep -q 'x\\\x27\|\\<script\\>' "$t/out/index.md" || fail "index.md lost the escaped name"
    # terminal: no control byte from the database reaches stdout or stderr
    for sub in list best runs "show fwd_sm80_hd128_bf16_m128n64w4s2"; do
        # shellcheck disable=SC2086
        "$fatune" db $sub --db "$t/h.db" >"$t/db.out" 2>&1
        if grep -q "$esc\|$bel\|$cr" "$t/db.out"; then fail "db $sub printed a control byte"; fi
        grep -q '^system' "$t/db.out" && fail "db $sub printed a name across lines"
    done
    grep -q "$esc" "$t/run.stderr" && fail "report printed a control byte"
    # an output folder whose name holds a newline and a command: refused before anything
    nl=$(printf 'o\nsystem("touch PWNED")\n_')
    (cd "$t" && "$fatune" report --arch sm90 --db h.db -o "$nl" >/dev/null 2>run2.stderr)
    [ $? -eq 2 ] || fail "an output folder with a newline is not a usage error"
    pwned "an output folder name"
    [ -e "$t/$nl" ] && fail "the output folder with a newline was created"
    printf 'headdim=64 \033]0;x\007\n' >"$t/shapes.txt"
    "$fatune" --arch sm90 --shapes "$t/shapes.txt" --db "$t/s.db" >"$t/shapes.out" 2>&1
    [ $? -eq 2 ] || fail "a bad shapes line is not a usage error"
    grep -q "$esc\|$bel" "$t/shapes.out" && fail "an error message echoed a control byte"
    grep -qF "'\x1b]0;x\x07' is not key=value" "$t/shapes.out" || fail "the bad line is not shown"
    # Numbers no measurement makes (inf, 1e308, negative): read as missing; every script
    # reruns and none holds an "inf" (gnuplot reads it as an undefined variable)
    "$mkdb" "$t/n.db" "$src/fixture.sql" "$src/families.sql" "$src/hostile_numbers.sql" ||
        fail "cannot build the database of hostile numbers"
    (cd "$t" && "$fatune" report --arch sm90 --db n.db -o nout >run3.stdout 2>run3.stderr) ||
        fail "report exited $? on hostile numbers: $(cat "$t/run3.stderr")"
    for gp in "$t"/nout/*.gp; do
        (cd "$t/nout" && gnuplot "$(basename "$gp")" >/dev/null 2>&1) ||
            fail "$(basename "$gp") of hostile numbers does not rerun"
    done
    grep -lw 'inf\|1e+308\|1.2e+308' "$t"/nout/*.gp "$t"/nout/*.dat &&
        fail "a script or data file holds a number no measurement makes"
    # its ceilings are all such numbers: the index says there is none to draw
    grep -q 'No GEMM ceiling stored' "$t/nout/index.md" ||
        fail "index.md does not say the TFLOP/s plots have no ceiling"
    echo "hostile ok"
    ;;
*)
    fail "unknown mode '$mode'"
    ;;
esac
