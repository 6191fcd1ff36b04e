# shellcheck shell=sh
# tests/db/real_fixture.sh -- the steps every migration test on a real database takes,
# sourced by test_db_v<N>_real.sh once it has set FA_TUNE, SQLITE3, FIX and fail() and moved
# to its scratch folder. Fixture N: fixtures/v<N>_real.sql, a version-N database, and
# fixtures/v<N>_real.best.txt, what the version-N binary's `fa-tune db best --arch sm90`
# printed for it.

# real_load N: fixture N into vN.db, which must be at version N; sets count (its
# measurements) and before (its checksum).
real_load() {
    "$SQLITE3" "v$1.db" <"$FIX/v$1_real.sql" || { echo "cannot load v$1_real.sql" >&2; exit 1; }
    [ "$("$SQLITE3" "v$1.db" 'PRAGMA user_version')" = "$1" ] || fail "fixture is not version $1"
    count=$("$SQLITE3" "v$1.db" 'SELECT COUNT(*) FROM measurements')
    before=$(cksum <"v$1.db")
}

# real_readonly N: a read-only `db best` upgrades a private copy: the fixture's winners, and
# vN.db untouched (checksum, user_version, no sidecar files).
real_readonly() {
    "$FA_TUNE" db best --arch sm90 --db "v$1.db" >ro.txt 2>ro.err || fail "db best (read-only) failed: $(cat ro.err)"
    cmp -s ro.txt "$FIX/v$1_real.best.txt" || { fail "read-only db best differs from v$1's"; diff ro.txt "$FIX/v$1_real.best.txt" >&2; }
    [ "$(cksum <"v$1.db")" = "$before" ] || fail "read-only db best changed v$1.db"
    [ "$("$SQLITE3" "v$1.db" 'PRAGMA user_version')" = "$1" ] || fail "read-only open migrated the file"
    for f in "v$1.db-wal" "v$1.db-shm" "v$1.db-journal"; do [ -e "$f" ] && fail "left $f behind"; done
}

# real_migrate N: vN.db merged into a new database (new.db), then new.db merged into vN.db,
# which migrates it in place (the same run uuids: nothing added). Both keep the fixture's
# winners; vN.db keeps every measurement and no dangling reference.
real_migrate() {
    "$FA_TUNE" db merge --db new.db "v$1.db" >/dev/null 2>merge.err || fail "merge into new.db failed: $(cat merge.err)"
    "$FA_TUNE" db best --arch sm90 --db new.db >new.txt 2>&1 || fail "db best on new.db failed"
    cmp -s new.txt "$FIX/v$1_real.best.txt" || { fail "merged winners differ"; diff new.txt "$FIX/v$1_real.best.txt" >&2; }
    "$FA_TUNE" db merge --db "v$1.db" new.db >/dev/null 2>rw.err || fail "merge into v$1.db failed: $(cat rw.err)"
    [ "$("$SQLITE3" "v$1.db" 'SELECT COUNT(*) FROM measurements')" = "$count" ] || fail "measurements lost or added"
    [ "$("$SQLITE3" "v$1.db" 'PRAGMA foreign_key_check')" = "" ] || fail "dangling references after the migration"
    "$FA_TUNE" db best --arch sm90 --db "v$1.db" >rw.txt 2>&1 || fail "db best on the migrated file failed"
    cmp -s rw.txt "$FIX/v$1_real.best.txt" || { fail "migrated winners differ"; diff rw.txt "$FIX/v$1_real.best.txt" >&2; }
}
