#!/usr/bin/env bash
# Soak test (issue 8): one client shared by 8 threads, mixed reads and writes against a local
# registry, for DOCKREG_SOAK_SECS seconds (default 600). Prints a status line every 30 s and
# fails on any error or on memory/socket growth after warm-up.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/setup.sh
DOCKREG_SOAK_SECS="${DOCKREG_SOAK_SECS:-600}" \
  cargo test --release --test soak -- --ignored --nocapture
