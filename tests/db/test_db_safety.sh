#!/bin/sh
# This file tests that no command loses or changes data it was not asked to change:
#   - an output (-o) that is the database -- same path, another spelling, a symlink, its -wal
#     or -shm -- is refused with exit 2 before anything is written (db export, emit);
#   - -o follows a symlink (the link stays, its target is replaced), refuses a dangling one and
#     a read-only file (exit 1, never chmod), and a failed export leaves the old file;
#   - a refused db merge (a newer, a non-database or a missing source) leaves target and source
#     byte-identical, in their journal mode;
#   - a refused read-only open (newer schema, not a database) leaves no -wal/-shm beside it.
# Every case compares checksums of the input files before and after and looks for sidecar
# (-wal, -shm, -journal) and temporary files.
#
# usage: test_db_safety.sh FA_TUNE DB_FILL SQLITE3
set -u
FA_TUNE=$1
DB_FILL=$2
SQLITE3=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/fa-db-safety-XXXXXX")
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cd "$T" || exit 1
"$DB_FILL" fa-tune.db || { echo "db_fill failed" >&2; exit 1; }
"$SQLITE3" fa-tune.db 'PRAGMA journal_mode=DELETE' >/dev/null # a closed database: no sidecars
mkdir sub
ln -s fa-tune.db link.db

# sums FILE...: checksums (a missing file reads as "missing")
sums() { for f in "$@"; do if [ -e "$f" ]; then cksum <"$f"; else echo missing; fi; done; }
# no_strays: nothing beside the inputs that a command may have left
no_strays() {
    for f in *-wal *-shm *-journal .*.tmp* *.tmp.* sub/*; do
        [ -e "$f" ] && fail "$1: left '$f' behind"
    done
    return 0
}
# refused CODE PATTERN CMD...: exit CODE, PATTERN on stderr, the database unchanged, no strays
refused() {
    code=$1 pattern=$2
    shift 2
    before=$(sums fa-tune.db)
    "$@" >out 2>err
    rc=$?
    [ $rc -eq "$code" ] || fail "'$*' exited $rc, want $code: $(cat err)"
    grep -q -- "$pattern" err || fail "'$*' said '$(cat err)', want '$pattern'"
    [ "$(sums fa-tune.db)" = "$before" ] || fail "'$*' changed the database"
    [ -L link.db ] || fail "'$*' replaced the symlink link.db"
    rm -f out err
    no_strays "$*"
}

# ---- an output that is the database -------------------------------------------------------
for o in fa-tune.db ./fa-tune.db "$T/sub/../fa-tune.db" link.db fa-tune.db-wal fa-tune.db-shm \
    fa-tune.db-journal; do
    refused 2 "refusing to write" "$FA_TUNE" db export --db fa-tune.db -o "$o"
    refused 2 "refusing to write" "$FA_TUNE" db export --db link.db -o "$o"
    refused 2 "refusing to write" "$FA_TUNE" emit --arch sm90 --db fa-tune.db -o "$o"
    refused 2 "refusing to write" "$FA_TUNE" emit --arch sm90 --db link.db -o "$o"
done
refused 2 "it is the -wal file" "$FA_TUNE" db export --db fa-tune.db -o fa-tune.db-wal

# ---- symlinks, read-only files, failures --------------------------------------------------
echo old >target.csv
ln -s target.csv out.csv
"$FA_TUNE" db export --db fa-tune.db -o out.csv || fail "export through a symlink failed"
[ -L out.csv ] || fail "export replaced the symlink instead of its target"
head -1 target.csv | grep -q '^uuid,' || fail "the symlink's target was not written"
ln -s missing/x.csv dangling.csv
refused 1 "symlink to a missing file" "$FA_TUNE" db export --db fa-tune.db -o dangling.csv
echo keep >ro.csv
chmod 444 ro.csv
ro_sum=$(sums ro.csv)
refused 1 "read-only" "$FA_TUNE" db export --db fa-tune.db -o ro.csv
refused 1 "read-only" "$FA_TUNE" emit --arch sm90 --db fa-tune.db -o ro.csv
[ "$(sums ro.csv)" = "$ro_sum" ] || fail "a read-only output was changed"
[ "$(stat -c %a ro.csv)" = 444 ] || fail "a read-only output's mode was changed"
echo junk >notadb.db
echo old >keep.csv
keep_sum=$(sums keep.csv notadb.db)
refused 1 "not an SQLite database" "$FA_TUNE" db export --db notadb.db -o keep.csv
[ "$(sums keep.csv notadb.db)" = "$keep_sum" ] || fail "a failed export changed its output"
"$FA_TUNE" db export --db fa-tune.db -o /dev/null || fail "export to /dev/null failed"
no_strays "export to /dev/null"

# ---- refused merges and read-only opens leave every file as it was ------------------------
cp fa-tune.db newer.db
"$SQLITE3" newer.db 'PRAGMA journal_mode=WAL' 'PRAGMA user_version=99' >/dev/null
cp fa-tune.db target.db
for src in newer.db notadb.db nosuch.db; do
    before=$(sums target.db newer.db notadb.db)
    "$FA_TUNE" db merge --db target.db "$src" >out 2>err
    rc=$?
    [ $rc -eq 1 ] || fail "merge of $src exited $rc, want 1: $(cat err)"
    [ "$(sums target.db newer.db notadb.db)" = "$before" ] ||
        fail "a refused merge of $src changed a file"
    [ "$("$SQLITE3" target.db 'PRAGMA journal_mode')" = delete ] ||
        fail "a refused merge of $src switched the target's journal mode"
    rm -f out err
    no_strays "merge $src"
done
for db in newer.db notadb.db; do
    before=$(sums "$db")
    for cmd in "db list" "db runs" "db export" "emit --arch sm90 -o x.h"; do
        # shellcheck disable=SC2086
        "$FA_TUNE" $cmd --db "$db" >out 2>err && fail "'$cmd' opened $db"
        [ "$(sums "$db")" = "$before" ] || fail "'$cmd --db $db' changed it"
        [ -e x.h ] && fail "'$cmd --db $db' wrote an output"
        rm -f out err
        no_strays "$cmd --db $db"
    done
done

# A command that fails after reading a WAL database (no winners for the arch) leaves no
# sidecar either: the read-only handle's SQLite removes the -wal/-shm it made.
cp fa-tune.db wal.db
"$SQLITE3" wal.db 'PRAGMA journal_mode=WAL' >/dev/null
before=$(sums wal.db)
"$FA_TUNE" emit --arch sm86 --db wal.db -o y.h >out 2>err && fail "emit for sm86 succeeded"
grep -q "no winners for sm86" err || fail "emit for sm86 said: $(cat err)"
[ "$(sums wal.db)" = "$before" ] || fail "a failed emit changed wal.db"
[ -e y.h ] && fail "a failed emit wrote its output"
rm -f out err
no_strays "emit --arch sm86 --db wal.db"
"$FA_TUNE" db list --db wal.db >/dev/null || fail "db list failed on wal.db"
[ "$(sums wal.db)" = "$before" ] || fail "db list changed wal.db"
no_strays "db list --db wal.db"

cd / && rm -rf "$T"
[ $failures -eq 0 ] && echo "test_db_safety: all checks passed"
[ $failures -eq 0 ]
