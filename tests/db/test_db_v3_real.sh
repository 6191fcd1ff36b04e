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
# shellcheck source=tests/db/real_fixture.sh
. "$(dirname "$0")/real_fixture.sh"
cd "$T" || exit 1

real_load 3
[ "$("$SQLITE3" v3.db "SELECT COUNT(*) FROM measurements WHERE status = 'unsupported'")" -gt 0 ] ||
    fail "fixture has no refusals: it tests nothing"
real_readonly 3
real_migrate 3
[ "$("$SQLITE3" v3.db 'PRAGMA user_version')" = 4 ] || fail "v3.db was not migrated to 4"

# The migrated schema is a new database's (new.db, created by the merge above), object by
# object: a .dump lists indexes after the data, so the creation order differs.
q='SELECT type, name, sql FROM sqlite_master ORDER BY type, name'
[ "$("$SQLITE3" v3.db "$q")" = "$("$SQLITE3" new.db "$q")" ] || fail "migrated schema differs from a new database's"

rm -rf "$T"
[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "v3 -> v4 migration on real data: ok"
