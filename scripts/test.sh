#!/usr/bin/env bash
# Runs every test: native (the whole workspace) and browser (wasm-bindgen-test
# in headless Chromium against the real server, supervised by tether-testctl
# so tests can kill, restart and stall it), and WebSocket conformance
# (scripts/conformance.sh). Usage: test.sh [all|native|browser|conformance]
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
. scripts/lib.sh
what=${1:-all}
start=$(date +%s)

if [ "$what" = all ] || [ "$what" = native ]; then
  echo "== native tests (cargo test --workspace)"
  cargo test --workspace
fi

if [ "$what" = all ] || [ "$what" = native ] || [ "$what" = conformance ]; then
  echo "== WebSocket conformance (Autobahn|Testsuite against the real server)"
  bash scripts/conformance.sh
fi

if [ "$what" = all ] || [ "$what" = browser ]; then
  echo "== browser tests (headless Chromium, real server)"
  cargo build -q -p tether-server -p tether-testkit
  work=$(mktemp -d)
  ctl_out=$work/testctl.out
  # testctl exits when its stdin closes, so it cannot outlive this script.
  mkfifo "$work/stdin"
  ./target/debug/tether-testctl --server-bin ./target/debug/tether-server --db "$work/test.db" \
    <"$work/stdin" >"$ctl_out" 2>"$work/testctl.err" &
  ctl_pid=$!
  exec 9>"$work/stdin"
  cleanup() { exec 9>&-; kill "$ctl_pid" 2>/dev/null || true; wait "$ctl_pid" 2>/dev/null || true; rm -rf "$work"; }
  trap cleanup EXIT
  ctl=$(wait_for_line "$ctl_pid" "$ctl_out" "$work/testctl.err" "control on " tether-testctl)
  echo "test control at $ctl"
  # The address is compiled into the test crate (the browser has no env).
  # TETHER_BROWSER_TESTS="--test browser_faults" runs one file.
  export TETHER_TESTCTL=$ctl
  export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
  if [ -n "${TETHER_BROWSER_TESTS:-}" ]; then read -ra which <<<"$TETHER_BROWSER_TESTS"; else which=(--test '*'); fi
  wasm_env "$WASM_CARGO" test -p tether --target wasm32-unknown-unknown "${which[@]}" -- --nocapture
fi
echo "== all requested tests passed in $(( $(date +%s) - start )) s"
