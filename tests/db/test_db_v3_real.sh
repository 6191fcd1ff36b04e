#!/bin/sh
# This file tests the v3 -> v4 schema migration (a winners view that skips the rows of
# variants never timed ok) on a database with real H200 measurements
# (tests/db/fixtures/v3_real.sql, written by the v3 binary) against that binary's own
# `fa-tune db best --arch sm90` output (v3_real.best.txt):
#   - a read-only `db best` upgrades a private copy: the same winners, the file untouched
#     (checksum, user_version still 3, no sidecar files);
#   - a read-write open (db merge into it) migrates it in place: user_version 4, every
#     measurement kept, no dangling reference, the same winners;
#   - the migrated schema has exactly a new database's tables, indexes and view.
#
# usage: test_db_v3_real.sh FA_TUNE SQLITE3 FIXTURE_DIR
set -u
FA_TUNE=$1
SQLITE3=$2
FIX=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/fa-db-v3real-XXXXXX")
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cd "$T" || exit 1

"$SQLITE3" v3.db <"$FIX/v3_real.sql" || { echo "cannot load v3_real.sql" >&2; exit 1; }
[ "$("$SQLITE3" v3.db 'PRAGMA user_version')" = 3 ] || fail "fixture is not version 3"
count=$("$SQLITE3" v3.db 'SELECT COUNT(*) FROM measurements')
[ "$("$SQLITE3" v3.db "SELECT COUNT(*) FROM measurements WHERE status = 'unsupported'")" -gt 0 ] ||
    fail "fixture has no refusals: it tests nothing"
before=$(cksum <v3.db)

# Read-only: winners as the v3 binary printed them, nothing written.
"$FA_TUNE" db best --arch sm90 --db v3.db >ro.txt 2>ro.err || fail "db best (read-only) failed: $(cat ro.err)"
cmp -s ro.txt "$FIX/v3_real.best.txt" || { fail "read-only db best differs from v3's"; diff ro.txt "$FIX/v3_real.best.txt" >&2; }
[ "$(cksum <v3.db)" = "$before" ] || fail "read-only db best changed v3.db"
[ "$("$SQLITE3" v3.db 'PRAGMA user_version')" = 3 ] || fail "read-only open migrated the file"
for f in v3.db-wal v3.db-shm v3.db-journal; do [ -e "$f" ] && fail "left $f behind"; done

# Read-write: migrated in place (merging an empty new database adds nothing).
"$FA_TUNE" db merge --db new.db v3.db >/dev/null 2>merge.err || fail "merge into new.db failed: $(cat merge.err)"
"$FA_TUNE" db merge --db v3.db new.db >/dev/null 2>rw.err || fail "merge into v3.db failed: $(cat rw.err)"
[ "$("$SQLITE3" v3.db 'PRAGMA user_version')" = 4 ] || fail "v3.db was not migrated to 4"
[ "$("$SQLITE3" v3.db 'SELECT COUNT(*) FROM measurements')" = "$count" ] || fail "measurements lost or added"
[ "$("$SQLITE3" v3.db 'PRAGMA foreign_key_check')" = "" ] || fail "dangling references after the migration"
"$FA_TUNE" db best --arch sm90 --db v3.db >rw.txt 2>&1 || fail "db best on the migrated file failed"
cmp -s rw.txt "$FIX/v3_real.best.txt" || { fail "migrated winners differ"; diff rw.txt "$FIX/v3_real.best.txt" >&2; }
"$FA_TUNE" db best --arch sm90 --db new.db >new.txt 2>&1 || fail "db best on new.db failed"
cmp -s new.txt "$FIX/v3_real.best.txt" || { fail "merged winners differ"; diff new.txt "$FIX/v3_real.best.txt" >&2; }

# The migrated schema is a new database's (new.db, created by the merge above), object by
# object: a .dump lists indexes after the data, so the creation order differs.
q='SELECT type, name, sql FROM sqlite_master ORDER BY type, name'
[ "$("$SQLITE3" v3.db "$q")" = "$("$SQLITE3" new.db "$q")" ] || fail "migrated schema differs from a new database's"

rm -rf "$T"
[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "v3 -> v4 migration on real data: ok"
