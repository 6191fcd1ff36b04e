#!/usr/bin/env bash
# A result a user can use without a GPU (CPU): a small compile-only tune (two classes, a
# spilling variant, one the legality model rejects) and what the tools say about it.
#   counts   the sweep's summary line and `db list` give the same compiled, spill and
#            unsupported numbers; a spilling variant is "compiled", no row is "other"; the
#            progress counter runs 1..N over the whole run; a rerun says it has nothing to do
#   best     `db best` names what is missing and the command that times the results
#   report   `report` draws the compile-only figures (fake gnuplot: the files, not pixels) and
#            its index says no timings exist and which command makes them
# usage: test_nogpu.sh FA_TUNE
set -u
FA=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}
db=$tmp/co.db
run=(--arch sm80 --headdim 64 --dtype bf16 --causal all --varlen 0 --gqa 1 --seqlens 1k
     --compile-only -j 2 --db "$db" --cache-dir "$tmp/cache"
     --variant fwd_sm80_hd64_bf16_m64n32w4s1 --variant fwd_sm80_hd64_bf16_causal_m64n32w4s1
     --variant fwd_sm80_hd64_bf16_m128n128w4s2q --variant fwd_sm80_hd64_bf16_m64n32w8s1)

# ---- counts ----
"$FA" "${run[@]}" >"$tmp/out" 2>"$tmp/err" || { bad "compile-only tune failed"; cat "$tmp/err"; }
line=$(grep '^compile-only sweep for sm80' "$tmp/out")
echo "summary: $line"
num() { sed -n "s/.*[ (]\\([0-9]*\\) $1.*/\\1/p" <<<"$line"; }
s_total=$(sed -n 's/.*: \([0-9]*\) variants,.*/\1/p' <<<"$line")
s_compiled=$(num compiled)
s_spill=$(num 'spill')
s_unsupported=$(num unsupported)
[ "$s_total/$s_compiled/$s_spill/$s_unsupported" = 4/3/1/1 ] ||
    bad "summary says total/compiled/spill/unsupported $s_total/$s_compiled/$s_spill/$s_unsupported, want 4/3/1/1"
"$FA" db list --db "$db" >"$tmp/list" 2>&1 || bad "db list failed"
cat "$tmp/list"
hdr=$(head -1 "$tmp/list")
col() { # the value of column $1 on the 'all' line
    local i
    i=$(tr -s ' ' '\n' <<<"$hdr" | grep -nx "$1" | cut -d: -f1)
    [ -n "$i" ] || { echo "no column $1"; return; }
    # the 'all' line has no problem name: one field fewer
    awk -v i="$((i - 1))" '$1 == "all" { print $i }' "$tmp/list"
}
[ "$(col compiled)" = "$s_compiled" ] || bad "db list compiled $(col compiled) != summary $s_compiled"
[ "$(col spill)" = "$s_spill" ] || bad "db list spill $(col spill) != summary $s_spill"
[ "$(col unsupported)" = "$s_unsupported" ] ||
    bad "db list unsupported $(col unsupported) != summary $s_unsupported"
[ "$(col other)" = 0 ] || bad "db list shows $(col other) rows as other"
[ "$(col total)" = "$s_total" ] || bad "db list total $(col total) != summary $s_total"
# one counter over the whole run (two classes): [1/4] .. [4/4], never a second [1/..]
counters=$(grep -o '^\[[0-9]*/[0-9]*\]' "$tmp/err" | tr '\n' ' ')
[ "$counters" = "[1/4] [2/4] [3/4] [4/4] " ] || bad "progress counters '$counters'"
grep -q 'm128n128w4s2q .*compiled (spills: ineligible)' "$tmp/err" ||
    bad "the spilling variant is not shown as compiled and ineligible"
# a rerun has nothing to do and says so, with the real count
"$FA" "${run[@]}" >"$tmp/out2" 2>"$tmp/err2" || bad "rerun failed"
grep -q 'nothing to do, all 4 variants already compiled' "$tmp/out2" ||
    { bad "rerun does not say it had nothing to do"; cat "$tmp/out2"; }

# ---- best ----
"$FA" db best --db "$db" >"$tmp/bout" 2>"$tmp/berr"
rc=$?
[ $rc = 0 ] || bad "db best exited $rc"
[ -s "$tmp/bout" ] && bad "db best printed a table: $(cat "$tmp/bout")"
grep -q 'only compile-only results' "$tmp/berr" || bad "db best does not say what is missing"
grep -qx "  fa-tune --arch sm80 --headdim 64 --db $db" "$tmp/berr" ||
    { bad "db best does not give the command that times them"; cat "$tmp/berr"; }
# An arch column holding a terminal escape (a database someone else wrote): no raw escape on
# the terminal, and no command built from it.
if command -v python3 >/dev/null; then
    cp "$db" "$tmp/esc.db"
    python3 -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(
"UPDATE measurements SET arch = arch || char(27) || \"[2J\""); c.commit()' "$tmp/esc.db"
    "$FA" db best --db "$tmp/esc.db" >/dev/null 2>"$tmp/eerr"
    grep -q "$(printf '\033')" "$tmp/eerr" && bad "db best printed a raw escape: $(cat -v "$tmp/eerr")"
    grep -q "fa-tune --arch" "$tmp/eerr" && bad "db best made a command of an unknown arch"
    grep -q 'only compile-only results' "$tmp/eerr" || bad "db best on esc.db: $(cat -v "$tmp/eerr")"
fi

# ---- report ----
# A fake gnuplot that writes the images it is asked for: this checks the files and pages, the
# drawing itself is report.png's job where gnuplot is installed.
cat >"$tmp/gnuplot" <<'GP'
#!/bin/sh
# -e "cd 'DIR'; out = 'STEM'" SCRIPT
dir=$(printf '%s' "$2" | sed -n "s/^cd '\(.*\)'; out = '.*'\$/\1/p")
out=$(printf '%s' "$2" | sed -n "s/.*; out = '\(.*\)'\$/\1/p")
cd "$dir" && [ -n "$out" ] && [ -f "$3" ] || exit 1
: >"$out.png" && : >"$out.svg"
GP
chmod +x "$tmp/gnuplot"
FA_GNUPLOT=$tmp/gnuplot "$FA" report --arch sm80 --db "$db" -o "$tmp/rep" >"$tmp/rout" 2>"$tmp/rerr"
rc=$?
[ $rc = 0 ] || { bad "report on a compile-only database exited $rc"; cat "$tmp/rerr"; }
grep -q 'compile-only results, no timings yet' "$tmp/rerr" || bad "report summary: $(cat "$tmp/rerr")"
files=$(cd "$tmp/rep" 2>/dev/null && ls -A | tr '\n' ' ')
want="compile_time.dat compile_time.gp compile_time.png compile_time.svg index.html index.md registers_sm80.dat registers_sm80.gp registers_sm80.png registers_sm80.svg "
[ "$files" = "$want" ] || bad "report files '$files', want '$want'"
for page in index.html index.md; do
    grep -q 'No timings yet' "$tmp/rep/$page" || bad "$page does not say there are no timings"
    grep -q "fa-tune --arch sm80 --headdim 64 --db $db" "$tmp/rep/$page" ||
        bad "$page lacks the command that times the results"
    grep -q 'fwd_sm80_hd64_bf16_m128n128w4s2q' "$tmp/rep/$page" || bad "$page lacks the spills table"
done
# registers per tile: the two m64n32 variants (non-causal, causal) share a tile; the spilling
# m128n128 is alone in its own, marked spilling; the legality-rejected one is not drawn
data=$(grep -v '^#' "$tmp/rep/registers_sm80.dat" | awk '{ print $3, $4, $5, $10 }' | tr '\n' ';')
[ "$data" = "32 64 2 0;128 128 1 1;" ] || bad "registers_sm80.dat tiles '$data'"
n=$(sed -n 's/^# compiles \([0-9]*\) .*/\1/p' "$tmp/rep/compile_time.dat")
[ "$n" = 3 ] || bad "compile_time.dat counts '$n' compiles, want 3"

exit $fail
