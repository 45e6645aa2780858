#!/usr/bin/env bash
# Runs every test: native (the whole workspace) and browser (wasm-bindgen-test
# in headless Chromium against the real server, supervised by tether-testctl
# so tests can kill, restart and stall it), WebSocket conformance
# (scripts/conformance.sh), and tabs (several Chromium windows over WebDriver
# running the built app against the real server), and multi (two instances
# on real PostgreSQL + Redis, and two browsers through nginx).
# Usage: test.sh [all|native|browser|conformance|tabs|multi]
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
. scripts/lib.sh
what=${1:-all}
start=$(date +%s)

if [ "$what" = all ] || [ "$what" = native ]; then
  echo "== native tests (cargo test --workspace)"
  cargo test --workspace
  echo "== tether-ws: docs without warnings, and the crate packages on its own"
  RUSTDOCFLAGS="-D warnings" cargo doc -q -p tether-ws --no-deps
  cargo package -q -p tether-ws --allow-dirty
fi

if [ "$what" = all ] || [ "$what" = native ] || [ "$what" = conformance ]; then
  echo "== WebSocket conformance (Autobahn|Testsuite against the real server)"
  bash scripts/conformance.sh
fi

if [ "$what" = all ] || [ "$what" = browser ]; then
  echo "== tether-ws: the minimal example builds for the browser"
  wasm_env "$WASM_CARGO" build -q -p tether-ws --example minimal --target wasm32-unknown-unknown
  echo "== browser tests (headless Chromium, real server)"
  cargo build -q -p tether-server -p tether-testkit
  work=$(mktemp -d)
  ctl_out=$work/testctl.out
  # testctl exits when its stdin closes, so it cannot outlive this script.
  mkfifo "$work/stdin"
  # The test page is served by wasm-bindgen-test-runner from another origin
  # than the server's; pin its address and allow that origin (the server
  # refuses foreign origins on /ws).
  if command -v python3 >/dev/null; then
    page_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  else
    page_port=$((20000 + RANDOM % 20000))
  fi
  export WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:$page_port
  TETHER_ALLOWED_ORIGINS=http://127.0.0.1:$page_port \
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
if [ "$what" = all ] || [ "$what" = tabs ]; then
  echo "== multi-tab tests (Chromium windows over WebDriver, real server, built app)"
  cargo build -q -p tether-server
  # A debug build is enough and much faster; its own dist, so `make build`'s
  # release dist/ is left alone.
  wasm_env trunk build --dist target/tabs-dist >/dev/null
  export TETHER_TABS_DIST=$PWD/target/tabs-dist TETHER_SERVER_BIN=$PWD/target/debug/tether-server
  # One browser at a time: the tests count the server's connections.
  cargo test -p tether-testkit --test browser_tabs -- --ignored --test-threads=1 --nocapture
fi
if [ "$what" = all ] || [ "$what" = multi ]; then
  echo "== multi-instance tests (real PostgreSQL, Redis, nginx; two browsers through the load balancer)"
  cargo build -q -p tether-server
  echo "-- the server's test suites again, on PostgreSQL instead of SQLite"
  TETHER_TEST_STORE=postgres cargo test -q -p tether-server
  # In `all` the tabs step already built the app.
  if [ "$what" = multi ]; then wasm_env trunk build --dist target/tabs-dist >/dev/null; fi
  TETHER_TABS_DIST=$PWD/target/tabs-dist TETHER_SERVER_BIN=$PWD/target/debug/tether-server \
    cargo test -p tether-testkit --test browser_multi -- --ignored --test-threads=1 --nocapture
fi
echo "== all requested tests passed in $(( $(date +%s) - start )) s"
