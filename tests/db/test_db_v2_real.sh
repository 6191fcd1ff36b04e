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
# shellcheck source=tests/db/real_fixture.sh
. "$(dirname "$0")/real_fixture.sh"
cd "$T" || exit 1

real_load 2
real_readonly 2
real_migrate 2
[ "$("$SQLITE3" new.db 'PRAGMA user_version')" -ge 3 ] || fail "a new database is below version 3"
[ "$("$SQLITE3" v2.db 'PRAGMA user_version')" -ge 3 ] || fail "v2.db was not migrated to 3 or later"
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
