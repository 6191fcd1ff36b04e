#!/usr/bin/env bash
# Session 26, call 2: on an H200, issue 14's replication (session 25's call2.sh, ~3.5 min); on
# any other GPU it stops at once.
set -uo pipefail
cd "$(dirname "$0")/../../.."
bash bench/results/2026-12-06_session25/call2.sh
