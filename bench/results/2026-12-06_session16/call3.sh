#!/usr/bin/env bash
# Session 16, call 3 (issue 16): the decode shapes through the product, the peers and the
# device copy in the same call.
set -uo pipefail
cd "$(dirname "$0")/../../.."
bash bench/gpu_run.sh build info decode
