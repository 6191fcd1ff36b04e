#!/bin/sh
# This file implements the layering test (DESIGN.md, "Kernel families and ops"): layers depend
# one way, CLI -> tuner (tune, compile) -> harness / db / reports -> core. No file below the
# CLI includes a header that lives in the CLI's folder (tuner/, where main.c is), and the
# harness does not include the compile engine (it is handed a compile service).
# usage: test_layering.sh <source root>
set -u
ROOT=$1
fail=0
cli_headers=$(cd "$ROOT/tuner" && ls *.h)
for dir in db harness reports templates tuner/core tuner/compile tuner/tune; do
    for f in $(find "$ROOT/$dir" -name '*.[ch]' -o -name '*.cuh' -o -name '*.cu' -o -name '*.in'); do
        for h in $cli_headers; do
            if grep -q "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<]$h[\">]" "$f"; then
                echo "FAIL: ${f#$ROOT/} includes $h from the CLI's folder" >&2
                fail=1
            fi
        done
    done
done
for f in $(find "$ROOT/harness" "$ROOT/db" "$ROOT/reports" "$ROOT/tuner/core" -name '*.[ch]'); do
    for h in $(cd "$ROOT/tuner/compile" && ls *.h) $(cd "$ROOT/tuner/tune" && ls *.h); do
        if grep -q "^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$h\"" "$f"; then
            echo "FAIL: ${f#$ROOT/} includes $h from a layer above it" >&2
            fail=1
        fi
    done
done
# The same one-way rule for linking: the libraries below the compile engine do not link it
# (nor the tuning engine), so a call that slips past the headers still cannot build.
for d in harness db reports tuner/core; do
    if grep -A3 'target_link_libraries' "$ROOT/$d/CMakeLists.txt" | grep -qE '\b(fa_compile|fa_tune_engine)\b'; then
        echo "FAIL: $d/CMakeLists.txt links a library from a layer above it" >&2
        fail=1
    fi
done
exit $fail
