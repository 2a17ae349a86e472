#!/usr/bin/env bash
# Fuzzes dockreg's parsers of registry and user input with cargo-fuzz (libFuzzer), one target
# at a time, and prints each target's figures. Not part of the test command: a full run takes
# SECONDS_PER_TARGET times the number of targets.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# SECONDS_PER_TARGET defaults to 600; the targets default to all of them (`cargo fuzz list`:
# challenge, config, digest, error_body, link, manifest, platform, reference, url). Each run
# starts from the committed seeds in fuzz/corpus/<target>/ (new inputs are written there too,
# and ignored by git); a crash is saved by libFuzzer under fuzz/artifacts/<target>/, and the
# script exits 1 after running the other targets. Full logs: fuzz/target/fuzz-logs/<target>.log.
#
# Needs the nightly toolchain (`rustup toolchain install nightly`); installs cargo-fuzz when it
# is missing. Runs under `nice -n ${FUZZ_NICE:-19}` with `-rss_limit_mb=${FUZZ_RSS_MB:-2048}`,
# so that it can share a machine with builds.
#
# Reproduce a crash:   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-...
# Shrink a corpus:     cargo +nightly fuzz cmin TARGET
set -euo pipefail

cd "$(dirname "$0")/.."

seconds=600
if [[ $# -gt 0 && $1 =~ ^[0-9]+$ ]]; then
    seconds=$1
    shift
fi
nice_level=${FUZZ_NICE:-19}
rss_mb=${FUZZ_RSS_MB:-2048}

if ! cargo +nightly --version >/dev/null 2>&1; then
    echo "fuzz.sh: the nightly toolchain is needed: rustup toolchain install nightly" >&2
    exit 2
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# The fuzz crate has its own target directory (sanitizer builds share nothing with normal ones).
unset CARGO_TARGET_DIR
nice -n "$nice_level" cargo +nightly fuzz build

logs=fuzz/target/fuzz-logs
mkdir -p "$logs"
summary=()
failed=0
for t in "${targets[@]}"; do
    log=$logs/$t.log
    echo "== $t: ${seconds}s (log: $log)"
    start=$(date +%s)
    status=0
    nice -n "$nice_level" cargo +nightly fuzz run "$t" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_mb" -timeout=10 \
        -print_final_stats=1 >"$log" 2>&1 || status=$?
    elapsed=$(($(date +%s) - start))

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n1)
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -n1 || true)
    corp=$(grep -o 'corp: [0-9]*/[0-9]*[a-zA-Z]*' "$log" | tail -n1 || true)
    crash=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n1)
    if [[ $status -ne 0 ]]; then
        failed=1
        result="FAILED (exit $status) ${crash:-see log}"
    else
        result="no crash"
    fi
    line="$t: executions ${execs:-?}, exec/s ${rate:-?}, ${cov:-cov: ?}, ${corp:-corp: ?}, run ${elapsed}s, $result"
    echo "$line"
    if [[ $status -ne 0 ]]; then
        grep -m1 -B2 -A12 -E 'panicked|ERROR: AddressSanitizer|ERROR: libFuzzer' "$log" || tail -n 30 "$log"
    fi
    summary+=("$line")
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
exit "$failed"
