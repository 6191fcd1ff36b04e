#!/bin/sh
# This file tests `fa-tune db`: exit codes (0 ok, 1 runtime failure, 2 usage), help on stdout,
# data on stdout and diagnostics on stderr, the winners table, export parsed back with
# Python's csv and json modules, merge idempotence through the CLI, read-only files, and a
# missing or bad database.
#
# usage: test_db_cli.sh FA_TUNE DB_FILL [PYTHON3]
set -u
FA_TUNE=$1
DB_FILL=$2
PY=${3:-}
[ -n "$PY" ] && [ -x "$PY" ] || PY=
T=$(mktemp -d "${TMPDIR:-/tmp}/fa-db-cli-XXXXXX")
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect CODE CMD...: run CMD, stdout to $T/out, stderr to $T/err, check the exit code.
expect() {
    want=$1; shift
    "$@" >"$T/out" 2>"$T/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "'$*' exited $got, want $want"
        sed 's/^/  stderr: /' "$T/err" >&2
    fi
}
has() { grep -q -- "$2" "$T/$1" || { fail "$1 of the last command lacks '$2'"; sed 's/^/  /' "$T/$1" >&2; }; }
empty() { [ ! -s "$T/$1" ] || { fail "$1 of the last command is not empty"; sed 's/^/  /' "$T/$1" >&2; }; }

cd "$T" || exit 1
"$DB_FILL" fa-tune.db || { echo "db_fill failed" >&2; exit 1; }
"$DB_FILL" other.db other-hash || exit 1

# Help: stdout, exit 0, for db and each subcommand.
expect 0 "$FA_TUNE" db --help; has out "usage: fa-tune db"; empty err
for sub in list best show export merge runs; do
    expect 0 "$FA_TUNE" db $sub --help; has out "usage: fa-tune db $sub"; empty err
done

# Usage errors: exit 2, message on stderr.
expect 2 "$FA_TUNE" db; has err "usage"
expect 2 "$FA_TUNE" db frobnicate; has err "unknown subcommand 'frobnicate'"; has err "list best show export merge runs"
expect 2 "$FA_TUNE" db lst; has err "unknown subcommand 'lst' (did you mean 'list'?)"
expect 0 "$FA_TUNE" db help best; has out "usage: fa-tune db best"; empty err
expect 0 "$FA_TUNE" help db list; has out "usage: fa-tune db list"; empty err
expect 2 "$FA_TUNE" db help nosuch; has err "unknown subcommand 'nosuch'"
expect 0 "$FA_TUNE" db import-peers --help; has out "the arch of the GPU the peers ran on (required)"
expect 2 "$FA_TUNE" db best --arch sm99; has err "sm80"
expect 2 "$FA_TUNE" db list --bogus; has err "unknown option '--bogus'"
expect 2 "$FA_TUNE" db show; has err "variant name"
expect 2 "$FA_TUNE" db show not_a_variant; has err "not a variant name"
expect 2 "$FA_TUNE" db export --format xlsx; has err "csv, json"
expect 2 "$FA_TUNE" db merge; has err "merge in"
expect 2 "$FA_TUNE" db list --db; has err "needs a value"

# list
expect 0 "$FA_TUNE" db list; empty err
has out "b2_h16_kv16_q2048_k2048_d128_bf16_causal"
grep -q '^sm90 .*q4096.* 8  *5  *0  *1  *0  *1  *1  *0  *0  *8$' out || fail "list row for sm90 q4096 wrong: $(cat out)"
expect 0 "$FA_TUNE" db list --arch sm80; has out "sm80"; grep -q '^sm90' out && fail "list --arch sm80 shows sm90"

# best: v6 (m128n32, stages 3) is the fastest ok variant in both buckets.
expect 0 "$FA_TUNE" db best --arch sm90; empty err
has out "fwd_sm80_hd128_bf16_causal_m128n32w4s3"; has out "TFLOP/s = 4\*B\*Hq"
[ "$(grep -c 'fwd_sm80_hd128_bf16_causal_m128n32w4s3 ' out)" -eq 2 ] || fail "best: want two sm90 winners"
grep -q ' 2048 .* 3.00x .*%' out || fail "best: speedup/margin columns missing: $(cat out)"
expect 0 "$FA_TUNE" db best --arch sm86; has err "no winners for sm86"
# A failed write to stdout (a full disk) is an error, not exit 0 with the table cut short.
if [ -w /dev/full ]; then
    "$FA_TUNE" db best --arch sm90 >/dev/full 2>"$T/err"
    got=$?
    [ "$got" -eq 1 ] || fail "'db best >/dev/full' exited $got, want 1"
    has err "writing to standard output failed: No space left on device"
    "$FA_TUNE" db list >/dev/full 2>"$T/err"
    got=$?
    [ "$got" -eq 1 ] || fail "'db list >/dev/full' exited $got, want 1"
    "$FA_TUNE" --help >/dev/full 2>"$T/err"
    got=$?
    [ "$got" -eq 1 ] || fail "'--help >/dev/full' exited $got, want 1"
fi

# show
expect 0 "$FA_TUNE" db show fwd_sm80_hd128_bf16_causal_m128n32w4s2; has out "mismatch"; has out "max err 0.5"
expect 0 "$FA_TUNE" db show fwd_sm80_hd128_bf16_causal_m64n64w4s2 --arch sm80; has out "sm80"
expect 1 "$FA_TUNE" db show fwd_sm80_hd64_fp16_m64n64w4s2; has err "no measurements of"
# A decode problem's rate is TB/s of K/V read, and says so; the forward rows keep TFLOP/s.
"$DB_FILL" decode.db fill decode || exit 1
expect 0 "$FA_TUNE" db show fwd_sm80_hd128_bf16_causal_m64n64w4s2 --arch sm80 --db decode.db
has out "b2_h32_kv8_q1_k4096_d128_bf16_causal_decode_page64_uniform"; has out " 3.88TB/s "
has out " 150.0 "

# runs
expect 0 "$FA_TUNE" db runs; has out "NVIDIA H100 80GB HBM3"; has out "12.4"; has out "fill"

# export: CSV and JSON that Python reads back, same rows.
expect 0 "$FA_TUNE" db export --format csv -o x.csv; empty out; empty err
expect 0 "$FA_TUNE" db export --format json; cp out x.json
expect 0 "$FA_TUNE" db export; cmp -s out x.csv || fail "export to stdout differs from -o"
if [ -n "$PY" ]; then
    "$PY" - x.csv x.json <<'PYEOF' || fail "python could not read the export back"
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
objs = json.load(open(sys.argv[2]))
assert len(rows) == 17 == len(objs), (len(rows), len(objs))
assert list(rows[0].keys()) == list(objs[0].keys())
for r, o in zip(rows, objs):
    assert r["uuid"] == o["uuid"]
    if o["tflops"] is None:
        assert r["tflops"] == "" and r["status"] != "ok"
    else:
        assert abs(float(r["tflops"]) - o["tflops"]) < 1e-9
assert sum(o["status"] == "mismatch" for o in objs) == 2
assert any('"row"' in o["message"] for o in objs)
PYEOF
    # Text that is not UTF-8 (a database something else wrote): the export stays valid JSON,
    # such bytes read '?', UTF-8 passes through.
    cp fa-tune.db utf.db
    "$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(
"UPDATE measurements SET message = CAST(X'"'"'61FF62C3A9E0808063'"'"' AS TEXT) WHERE id = 1");
c.commit()' utf.db || fail "could not edit utf.db"
    expect 0 "$FA_TUNE" db export --db utf.db --format json -o utf.json
    expect 0 "$FA_TUNE" db export --db utf.db --format csv -o utf.csv
    "$PY" - utf.json utf.csv <<'PYEOF' || fail "the export of non-UTF-8 text is not UTF-8 JSON/CSV"
import csv, json, sys
objs = json.load(open(sys.argv[1], encoding="utf-8"))
rows = list(csv.DictReader(open(sys.argv[2], newline="", encoding="utf-8")))
want = "a?b\u00e9???c"  # E0 80 80: an overlong form, three bad bytes
assert sum(o["message"] == want for o in objs) == 1, [o["message"] for o in objs]
assert sum(r["message"] == want for r in rows) == 1
PYEOF
    # A text cell a spreadsheet would run as a formula keeps a leading ' in CSV (JSON as is);
    # on a terminal no control byte of the database is written raw.
    "$PY" -c 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute(
"UPDATE measurements SET message = \"=HYPERLINK(1)\" || char(27) || \"[2J\" WHERE id = 2");
c.commit()' utf.db || fail "could not edit utf.db"
    expect 0 "$FA_TUNE" db export --db utf.db --format csv -o utf.csv
    grep -q "^.*,'=HYPERLINK(1)$(printf '\033')\[2J," utf.csv || fail "csv: no ' before a formula: $(grep HYPER utf.csv)"
    expect 0 "$FA_TUNE" db export --db utf.db --format json -o utf.json
    grep -q '"=HYPERLINK(1)\\u001b\[2J"' utf.json || fail "json changed a formula: $(grep -o '"=HYPER[^"]*"' utf.json)"
    for fmt in csv json; do
        "$PY" - "$FA_TUNE" "$fmt" <<'PYEOF' || fail "db export --format $fmt wrote a control byte to a terminal"
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "db", "export", "--db", "utf.db", "--format", sys.argv[2]])
out = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status
assert b"HYPERLINK(1)?[2J" in out, out[-400:]
assert b"\x1b" not in out and b"\xc2\x80" not in out, out[-400:]
PYEOF
    done
fi

# merge: counts on stdout, twice adds nothing, the source untouched.
sum_other=$(cksum < other.db)
expect 0 "$FA_TUNE" db merge other.db; has out "added 17 measurements, 1 runs"
expect 0 "$FA_TUNE" db merge other.db; has out "added 0 measurements, 0 runs, 0 devices"
[ "$(cksum < other.db)" = "$sum_other" ] || fail "merge changed its source"
expect 0 "$FA_TUNE" db merge --db new.db other.db fa-tune.db; has out "into 'new.db'"
expect 0 "$FA_TUNE" db list --db new.db
grep -q '^all  .* 34 ' out || fail "merged total wrong: $(tail -1 out)"
expect 1 "$FA_TUNE" db merge missing.db; has err "cannot open 'missing.db': no such file"
# Past `ulimit -f` (a full quota): an error that says so and exit 1, not a silent SIGXFSZ kill.
(ulimit -f 8 && exec "$FA_TUNE" db merge --db capped.db other.db) >"$T/out" 2>"$T/err"
got=$?
[ "$got" -eq 1 ] || fail "a merge past ulimit -f exited $got, want 1"
has err "capped.db"

# Read-only file: list, best, export still work; merge into it fails cleanly.
cp fa-tune.db ro.db && chmod 444 ro.db
sum_ro=$(cksum < ro.db)
expect 0 "$FA_TUNE" db list --db ro.db; has out "sm90"
expect 0 "$FA_TUNE" db best --db ro.db --arch sm90; has out "m128n32w4s3"
expect 0 "$FA_TUNE" db export --db=ro.db --format json
[ "$(cksum < ro.db)" = "$sum_ro" ] || fail "reading a read-only database changed it"
[ -e ro.db-wal ] && [ -s ro.db-wal ] && fail "reading left a -wal"

# Missing and bad databases: exit 1, the file named, a hint for the missing case.
mkdir empty && cd empty || exit 1
expect 1 "$FA_TUNE" db list; has err "cannot open 'fa-tune.db': no such file"; has err "fa-tune --arch"
[ -e fa-tune.db ] && fail "a read command created the database"
cd .. || exit 1
mkdir adir.db
expect 1 "$FA_TUNE" db best --db adir.db; has err "'adir.db': is a directory"
echo "not a database" > text.db
sum_text=$(cksum < text.db)
expect 1 "$FA_TUNE" db list --db text.db; has err "not an SQLite database"
expect 1 "$FA_TUNE" db merge --db text.db other.db; has err "text.db"
[ "$(cksum < text.db)" = "$sum_text" ] || fail "a bad database was modified"

# A bad FA_DB_BUSY_TIMEOUT_MS is refused (exit 2, the variable and value named), not ignored.
for v in abc -1 99999999999 "5 "; do
    FA_DB_BUSY_TIMEOUT_MS="$v" expect 2 "$FA_TUNE" db list
    has err "FA_DB_BUSY_TIMEOUT_MS='$v': expected milliseconds, an integer in \[0, 86400000\]"
done
FA_DB_BUSY_TIMEOUT_MS=250 expect 0 "$FA_TUNE" db list

# import-peers is all or nothing: a bad line after good ones leaves the database (and the
# input) byte for byte as they were, with no run row and no -wal/-shm/-journal left; an
# out-of-range number is named with its file, line and field.
cp fa-tune.db peers.db
P='"dtype": "bf16", "head_dim": 128, "batch": 4, "heads_q": 16, "heads_kv": 16, "seqlen_k": 4096'
{
    echo '{"peer": "gemm_bf16_9", "dtype": "bf16", "median_ms": 1.5, "tflops": 700}'
    echo "{\"peer\": \"flash_attn\", $P, \"seqlen_q\": 4096, \"median_ms\": 1, \"tflops\": 300}"
} > good.jsonl
peers_case() { # peers_case LINE3 WANT...: good lines, then LINE3; exit 2 and every WANT in stderr
    line3=$1; shift
    { cat good.jsonl; printf '%s\n' "$line3"; } > bad.jsonl
    sum_db=$(sha256sum < peers.db); sum_in=$(sha256sum < bad.jsonl)
    expect 2 "$FA_TUNE" db import-peers --db peers.db --arch sm90 bad.jsonl
    for w in "$@"; do has err "$w"; done
    [ "$(sha256sum < peers.db)" = "$sum_db" ] || fail "a failed import-peers changed the database"
    [ "$(sha256sum < bad.jsonl)" = "$sum_in" ] || fail "a failed import-peers changed its input"
    for x in -wal -shm -journal; do [ -e "peers.db$x" ] && fail "a failed import left peers.db$x"; done
}
peers_case "{\"peer\": \"cudnn\", $P, \"seqlen_q\": 4294967424, \"median_ms\": 1, \"tflops\": 1}" \
    "bad.jsonl:3: field 'seqlen_q'" "4294967424" "[1, 16777216]"
peers_case "{\"peer\": \"cudnn\", $P, \"seqlen_q\": 4096, \"median_ms\": 1, \"tflops\": 1, \"peak_extra_bytes\": 1e30}" \
    "bad.jsonl:3: field 'peak_extra_bytes'" "1e+30"
peers_case "{\"peer\": \"cudnn\", $P, \"seqlen_q\": 4096, \"seqlen_q\": 512, \"median_ms\": 1, \"tflops\": 1}" \
    "bad.jsonl:3: field 'seqlen_q' given twice"
peers_case '{"peer": "cudnn", "median_ms": 1,' "bad.jsonl:3: not one JSON object"
runs_before=$("$FA_TUNE" db runs --db peers.db | wc -l)
expect 0 "$FA_TUNE" db import-peers --db peers.db --arch sm90 good.jsonl
has out "imported 1 peer rows and 1 ceilings"
[ "$("$FA_TUNE" db runs --db peers.db | wc -l)" -eq $((runs_before + 1)) ] ||
    fail "a good import-peers did not add one run row"

if [ "$failures" -ne 0 ]; then
    echo "test_db_cli: $failures failure(s); files kept in $T" >&2
    exit 1
fi
chmod -R u+w "$T" && rm -rf "$T"
echo "test_db_cli: all checks passed"
