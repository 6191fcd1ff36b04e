#!/bin/sh
# compact.sh DB.db FA_TUNE OUTDIR -- what storing a refusal once per class does to a real
# tuning database: DB as it is (vacuumed) against a copy that keeps only the first
# `unsupported` row of each (variant, arch), the rows the new rule writes for a variant with no
# ok row (all of this job's refused variants have none). Prints sizes, row counts, report and
# emit times, and whether the report's .dat files and the emitted headers are identical.
# Needs the sqlite3 shell (apt-get install sqlite3) and gnuplot.
set -eu
db=$1 fatune=$2 out=$3
mkdir -p "$out"
cp "$db" "$out/full.db"
cp "$db" "$out/once.db"
sqlite3 "$out/full.db" "VACUUM;"
sqlite3 "$out/once.db" "DELETE FROM measurements WHERE status = 'unsupported' AND id NOT IN
    (SELECT MIN(id) FROM measurements WHERE status = 'unsupported' GROUP BY variant_id, arch);
    VACUUM;"
for d in full once; do
    rows=$(sqlite3 "$out/$d.db" "SELECT COUNT(*) FROM measurements")
    refusals=$(sqlite3 "$out/$d.db" "SELECT COUNT(*) FROM measurements WHERE status = 'unsupported'")
    bytes=$(stat -c %s "$out/$d.db")
    t0=$(date +%s.%N)
    "$fatune" report --db "$out/$d.db" --arch sm90 -o "$out/report_$d" >/dev/null 2>&1
    t1=$(date +%s.%N)
    "$fatune" emit --db "$out/$d.db" --arch sm90 -o "$out/$d.h" >/dev/null 2>&1
    t2=$(date +%s.%N)
    echo "$d: $bytes bytes, $rows rows ($refusals unsupported); report $(echo "$t1 - $t0" | bc) s, emit $(echo "$t2 - $t1" | bc) s"
done
cmp -s "$out/full.h" "$out/once.h" && echo "emitted headers: identical" || echo "emitted headers: DIFFER"
same=0 differ=0
for f in "$out"/report_full/*.dat; do
    if cmp -s "$f" "$out/report_once/$(basename "$f")"; then same=$((same + 1)); else differ=$((differ + 1)); fi
done
echo "report .dat files: $same identical, $differ differ"
