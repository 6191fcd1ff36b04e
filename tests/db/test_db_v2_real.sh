#!/bin/sh
# This file tests the v2 -> v3 schema migration on a database with real H200 measurements
# (tests/db/fixtures/v2_real.sql, written by the v2 binary) against that binary's own
# `fa-tune db best --arch sm90` output (v2_real.best.txt):
#   - a read-only `db best` upgrades a private copy: the same winners, the file untouched
#     (checksum, user_version still 2, no sidecar files);
#   - merging it into a new database gives a v3 file (user_version 3) with the same winners;
#   - a read-write open (db merge into it) migrates it in place: user_version 3, every
#     measurement kept, the same winners, variants stored as (family, op, params), problems
#     with op 'fwd';
#   - export names the family, op and parameters instead of sm80 columns;
#   - a new database starts at user_version >= 3.
#
# usage: test_db_v2_real.sh FA_TUNE SQLITE3 FIXTURE_DIR
set -u
FA_TUNE=$1
SQLITE3=$2
FIX=$3
T=$(mktemp -d "${TMPDIR:-/tmp}/fa-db-v2real-XXXXXX")
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cd "$T" || exit 1

"$SQLITE3" v2.db <"$FIX/v2_real.sql" || { echo "cannot load v2_real.sql" >&2; exit 1; }
[ "$("$SQLITE3" v2.db 'PRAGMA user_version')" = 2 ] || fail "fixture is not version 2"
count=$("$SQLITE3" v2.db 'SELECT COUNT(*) FROM measurements')
before=$(cksum <v2.db)

# Read-only: winners as the v2 binary printed them, nothing written.
"$FA_TUNE" db best --arch sm90 --db v2.db >ro.txt 2>ro.err || fail "db best (read-only) failed: $(cat ro.err)"
cmp -s ro.txt "$FIX/v2_real.best.txt" || { fail "read-only db best differs from v2's"; diff ro.txt "$FIX/v2_real.best.txt" >&2; }
[ "$(cksum <v2.db)" = "$before" ] || fail "read-only db best changed v2.db"
[ "$("$SQLITE3" v2.db 'PRAGMA user_version')" = 2 ] || fail "read-only open migrated the file"
for f in v2.db-wal v2.db-shm v2.db-journal; do [ -e "$f" ] && fail "left $f behind"; done

# Merged into a new database: v3, same winners.
"$FA_TUNE" db merge --db new.db v2.db >/dev/null 2>merge.err || fail "merge into new.db failed: $(cat merge.err)"
[ "$("$SQLITE3" new.db 'PRAGMA user_version')" -ge 3 ] || fail "a new database is below version 3"
"$FA_TUNE" db best --arch sm90 --db new.db >new.txt 2>&1 || fail "db best on new.db failed"
cmp -s new.txt "$FIX/v2_real.best.txt" || { fail "merged winners differ"; diff new.txt "$FIX/v2_real.best.txt" >&2; }

# Read-write: migrated in place (merging new.db adds nothing: the same run uuids).
"$FA_TUNE" db merge --db v2.db new.db >/dev/null 2>rw.err || fail "merge into v2.db failed: $(cat rw.err)"
[ "$("$SQLITE3" v2.db 'PRAGMA user_version')" -ge 3 ] || fail "v2.db was not migrated to 3 or later"
[ "$("$SQLITE3" v2.db 'SELECT COUNT(*) FROM measurements')" = "$count" ] || fail "measurements lost or added"
[ "$("$SQLITE3" v2.db 'PRAGMA foreign_key_check')" = "" ] || fail "dangling references after the migration"
"$FA_TUNE" db best --arch sm90 --db v2.db >rw.txt 2>&1 || fail "db best on the migrated file failed"
cmp -s rw.txt "$FIX/v2_real.best.txt" || { fail "migrated winners differ"; diff rw.txt "$FIX/v2_real.best.txt" >&2; }
got=$("$SQLITE3" v2.db "SELECT family, op, params FROM variants WHERE name = 'fwd_sm80_hd64_bf16_m128n128w4s3q'")
[ "$got" = "sm80|fwd|block_m=128 block_n=128 warps=4 stages=3 q_in_regs=1" ] || fail "variant row: '$got'"
[ "$("$SQLITE3" v2.db "SELECT COUNT(*) FROM problems WHERE op <> 'fwd'")" = 0 ] || fail "problems not op fwd"
[ "$("$SQLITE3" v2.db "SELECT DISTINCT op FROM winners")" = fwd ] || fail "winners lack op"
[ "$("$SQLITE3" v2.db "SELECT COUNT(*) FROM pragma_table_info('variants') WHERE name IN ('block_m', 'warps')")" = 0 ] ||
    fail "v3 variants still have sm80 columns"

# Export: family, op, params columns.
"$FA_TUNE" db export --db v2.db --format csv -o all.csv 2>/dev/null || fail "export failed"
head -1 all.csv | grep -q ',family,op,params,' || fail "export header: $(head -1 all.csv)"
grep -q ',sm80,fwd,block_m=128 block_n=128 warps=4 stages=3 q_in_regs=1,' all.csv || fail "export rows lack params"

rm -rf "$T"
[ "$failures" = 0 ] || { echo "$failures failure(s)" >&2; exit 1; }
echo "v2 -> v3 migration on real data: ok"
