#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine with Rust: installs what is missing, then
# checks formatting, lints, docs and runs every test (unit, mockito, real registry, skopeo
# interop, C/C++/Python through the C ABI under valgrind), then runs the demo (scripts/demo.sh)
# and checks its exit status.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo fmt --check
cargo clippy --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet
cargo test
# The README's main command must end with status 0.
scripts/demo.sh >/dev/null
echo "demo: scripts/demo.sh exited 0"
