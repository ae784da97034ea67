#!/usr/bin/env bash
# The full Oxion check, the one CI runs (.ci/run execs this script):
#
#   1. fmt:         cargo fmt --all --check
#   2. clippy:      cargo clippy --workspace --all-targets -- -D warnings
#   3. services:    scripts/services.sh start mongo mqtt (see below)
#   4. tests:       cargo nextest run --workspace
#   5. doctests:    cargo test --doc --workspace (nextest does not run them)
#   6. tests-mongo: the conformance suite again, against a broker on MongoDB:
#                   cargo nextest run --workspace -E 'package(conformance-tests)'
#   7. benches:     cargo test --workspace --bench '*' --no-run (the benchmarks compile and link)
#
# The workspace is compiled twice, no more: once as a check build for clippy, once for the
# tests (step 4). Every later step reuses that build and compiles only its own final targets
# (the doctests, the bench binary), so each selects the same packages as step 4 (--workspace,
# a filter rather than -p: with -p cargo resolves the features of fewer packages and rebuilds
# the dependencies they share). The benchmarks are built in the test profile, not optimized:
# whether they build is the check, their numbers come from `cargo bench`; `--bench '*'`, as
# `--benches` would also build every library and binary as a benchmark. Without nextest,
# step 4 is `cargo test --workspace`, which runs the doctests too (no step 5), and step 6
# `cargo test --workspace --test api`.
#
# Each step prints a banner and its duration; the first failing step stops the run with a
# non-zero exit. The last line of a passing run counts the tests of steps 4 to 6 as
# "tests: N passed, 0 failed", so that a run which executed no test is visible as one.
#
# Builds go to CARGO_TARGET_DIR, by default a cache outside the clone
# (${OXION_CACHE:-$HOME/.cache/oxion}/target), so that a fresh clone on a machine that built
# Oxion before reuses the compiled dependencies.
#
# Services: the MQTT notification tests need a real MQTT broker and the MongoDB backend a real
# MongoDB-wire server, so before the tests this script runs `scripts/services.sh start mongo
# mqtt` (secantusdb from a pinned venv, mosquitto from Debian's packages, each installed if
# missing, on free loopback ports), exports their URLs (OXION_TEST_MONGO_URL, OXION_TEST_MQTT_URL,
# OXION_TEST_MONGOD) and sets OXION_REQUIRE_MQTT=1 and OXION_REQUIRE_MONGO=1 so that those tests
# fail rather than skip without them; the EXIT trap stops those it started. The conformance suite
# runs twice: on the embedded store (step 4) and on MongoDB (step 6, OXION_TEST_STORE=mongodb).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ $# -gt 0 ]]; then
    echo "usage: scripts/test.sh   (takes no arguments; runs every check)" >&2
    exit 2
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-${OXION_CACHE:-$HOME/.cache/oxion}/target}"
# The test steps are piped through tee (to count tests), so tell cargo about the terminal.
if [[ -t 1 ]]; then
    export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-always}"
fi

test_log=$(mktemp)
started_services=()
cleanup() {
    rm -f "$test_log"
    if [[ ${#started_services[@]} -gt 0 ]]; then
        scripts/services.sh stop "${started_services[@]}" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

step_names=()
step_secs=()
run_start=$EPOCHREALTIME

elapsed_since() {
    # Seconds since the EPOCHREALTIME value $1, one decimal.
    awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

print_summary() {
    local i
    echo
    echo "==> summary (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    for i in "${!step_names[@]}"; do
        printf '    %-12s %8ss\n' "${step_names[$i]}" "${step_secs[$i]}"
    done
    printf '    %-12s %8ss\n' "total" "$(elapsed_since "$run_start")"
}

# step NAME COMMAND...: run one check with a banner and its time; stop the run if it fails.
step() {
    local name=$1
    shift
    echo
    echo "==> [$name] $*"
    local start=$EPOCHREALTIME status=0
    "$@" || status=$?
    local secs
    secs=$(elapsed_since "$start")
    step_names+=("$name")
    step_secs+=("$secs")
    if [[ $status -ne 0 ]]; then
        echo "==> [$name] FAILED (exit $status) after ${secs}s" >&2
        print_summary
        exit "$status"
    fi
    echo "==> [$name] ok in ${secs}s"
}

# logged COMMAND...: run COMMAND with its output (stdout and stderr) also appended to $test_log.
logged() {
    "$@" 2>&1 | tee -a "$test_log"
}

# Sum the passed tests in $test_log: nextest's "Summary [..] N tests run: P passed, .." lines
# and libtest's "test result: ok. P passed; .." lines (doctests, or cargo test without nextest).
count_passed() {
    sed 's/\x1b\[[0-9;]*m//g' "$test_log" | awk '
        /Summary \[/ && / tests? run: / { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) n += $i }
        /^test result: / { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^passed/) n += $i }
        END { print n + 0 }'
}

step fmt cargo fmt --all --check
step clippy cargo clippy --workspace --all-targets -- -D warnings
# Only the services this run starts are stopped at its end: one already running (a
# developer's, another run's) is left as it was.
for svc in mongo mqtt; do
    if ! scripts/services.sh status | grep -q "^$svc: running"; then
        started_services+=("$svc")
    fi
done
step services scripts/services.sh start mongo mqtt
set -a
eval "$(scripts/services.sh env)"
set +a
export OXION_REQUIRE_MQTT=1 OXION_REQUIRE_MONGO=1

if cargo nextest --version >/dev/null 2>&1; then
    # In CI, report every failing test rather than stopping at the first.
    nextest_flags=()
    if [[ "${CI:-}" == "true" ]]; then nextest_flags+=(--no-fail-fast); fi
    step tests logged cargo nextest run --workspace "${nextest_flags[@]}"
    step doctests logged cargo test --doc --workspace
    # The black-box suite once more, on a broker whose store is MongoDB: both backends must
    # give the same answers to the same requests.
    step tests-mongo logged env OXION_TEST_STORE=mongodb \
        cargo nextest run --workspace -E 'package(conformance-tests)' "${nextest_flags[@]}"
else
    echo "(cargo-nextest not installed: running the tests with cargo test)"
    step tests logged cargo test --workspace
    step tests-mongo logged env OXION_TEST_STORE=mongodb cargo test --workspace --test api
fi
step benches cargo test --workspace --bench '*' --no-run

print_summary
echo "==> all checks passed"
echo "tests: $(count_passed) passed, 0 failed"
