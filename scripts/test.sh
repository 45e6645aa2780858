#!/usr/bin/env bash
# Runs every test: native (the whole workspace) and browser (wasm-bindgen-test
# in headless Chromium, Firefox ESR and WebKit, against the real server,
# supervised by tether-testctl so tests can kill, restart and stall it),
# WebSocket conformance (scripts/conformance.sh), tabs (browser windows over
# WebDriver running the built app against the real server, and the app as
# static files on nginx: testkit/tests/browser_deploy.rs), and multi (two
# instances on real PostgreSQL + Redis, and two browsers through nginx).
# Usage: test.sh [all|native|browser|conformance|tabs|multi]
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
. scripts/lib.sh
what=${1:-all}
start=$(date +%s)
# Browsers keep a profile directory per session in the temp directory (tens
# of MB each), and chromedriver leaves Chromium's behind when it is stopped
# rather than asked to quit: one per test file and run, and repeated runs
# filled this machine's disk. Browser steps get a temp directory of their
# own (TMPDIR), emptied after each step and removed when the run stops, a
# failed step included; other processes' temp files are never touched.
browser_tmp=$(mktemp -d)
# Readable like /tmp: nginx's workers and PostgreSQL run as other users and
# must reach their directories inside it.
chmod 755 "$browser_tmp"
drop_browser_profiles() {
  find "$browser_tmp" -mindepth 1 -maxdepth 1 -exec rm -rf {} + 2>/dev/null || true
}
cleanup_run() { rm -rf "$browser_tmp"; }
trap cleanup_run EXIT

if [ "$what" = all ] || [ "$what" = native ]; then
  echo "== [$(( $(date +%s) - start )) s] native tests (cargo test --workspace)"
  cargo test --workspace
  echo "== [$(( $(date +%s) - start )) s] tether-ws: docs without warnings (default features and none), and the crate packages on its own"
  RUSTDOCFLAGS="-D warnings" cargo doc -q -p tether-ws --no-deps
  RUSTDOCFLAGS="-D warnings" cargo doc -q -p tether-ws --no-deps --no-default-features
  cargo package -q -p tether-ws --allow-dirty
fi

if [ "$what" = all ] || [ "$what" = native ] || [ "$what" = conformance ]; then
  echo "== [$(( $(date +%s) - start )) s] WebSocket conformance (Autobahn|Testsuite against the real server)"
  bash scripts/conformance.sh
fi

# Every browser test runs in each of these (TETHER_BROWSERS="chromium" for one).
# WebKit is not in the default list: its runs fail now and then in ways not
# yet understood (README "Tests"); TETHER_BROWSERS="chromium firefox webkit"
# runs every suite there too.
default_browsers=$(without_firefox_unless_installable chromium firefox)
browsers=(${TETHER_BROWSERS:-$default_browsers})
webdriver_browsers=(${TETHER_BROWSERS:-$default_browsers})

free_port() {
  if command -v python3 >/dev/null; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else
    echo $((20000 + RANDOM % 20000))
  fi
}

# browser_suite BROWSER PAGE_PORT CTL_PORT: the wasm-bindgen-test suite in
# BROWSER against a real server (supervised by tether-testctl, started afresh
# for each browser on the same control port: its address is compiled into
# the test crate, so the second browser reuses the first one's build).
browser_suite() {
  local browser=$1 page_port=$2 ctl_port=$3 work ctl_out ctl_pid ctl which
  echo "== [$(( $(date +%s) - start )) s] browser tests (headless $browser, real server)"
  work=$(mktemp -d)
  ctl_out=$work/testctl.out
  # testctl exits when its stdin closes, so it cannot outlive this script.
  mkfifo "$work/stdin"
  # The test page is served by wasm-bindgen-test-runner from another origin
  # than the server's; pin its address and allow that origin (the server
  # refuses foreign origins on /ws).
  TETHER_ALLOWED_ORIGINS=http://127.0.0.1:$page_port \
  ./target/debug/tether-testctl --server-bin ./target/debug/tether-server --db "$work/test.db" \
    --control-addr "127.0.0.1:$ctl_port" <"$work/stdin" >"$ctl_out" 2>"$work/testctl.err" &
  ctl_pid=$!
  exec 9>"$work/stdin"
  # shellcheck disable=SC2064
  trap "exec 9>&-; kill $ctl_pid 2>/dev/null || true; wait $ctl_pid 2>/dev/null || true; rm -rf '$work'; cleanup_run" EXIT
  ctl=$(wait_for_line "$ctl_pid" "$ctl_out" "$work/testctl.err" "control on " tether-testctl)
  echo "test control at $ctl"
  # TETHER_BROWSER_TESTS="--test browser_faults" runs one file. The hook
  # crate's own browser test (ws/tests/browser_websocket_only.rs, the hook
  # without its default features) runs with all of them, or when named.
  local ws_only=true args i
  if [ -n "${TETHER_BROWSER_TESTS:-}" ]; then
    read -ra args <<<"$TETHER_BROWSER_TESTS"
    ws_only=false which=()
    for ((i = 0; i < ${#args[@]}; i++)); do
      if [ "${args[i]}" = --test ] && [ "${args[i + 1]:-}" = browser_websocket_only ]; then
        ws_only=true i=$((i + 1))
      else
        which+=("${args[i]}")
      fi
    done
  else
    which=(--test '*')
  fi
  (
    # wasm-bindgen-test-runner drives Firefox when GECKODRIVER is set and
    # CHROMEDRIVER is not.
    # WebKit: its WebDriver (Debian's webkit2gtk-driver) through the runner's
    # Safari mode; its MiniBrowser needs an X display, so a virtual one.
    local display=()
    case $browser in
      firefox) unset CHROMEDRIVER; export GECKODRIVER=$TETHER_GECKODRIVER ;;
      webkit) unset CHROMEDRIVER; export SAFARIDRIVER=/usr/bin/WebKitWebDriver; display=(xvfb-run -a) ;;
    esac
    export WASM_BINDGEN_TEST_ADDRESS=127.0.0.1:$page_port TETHER_TESTCTL=$ctl TMPDIR=$browser_tmp
    export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-600}
    if [ "${#which[@]}" -gt 0 ]; then
      wasm_env "${display[@]}" "$WASM_CARGO" test -p tether --target wasm32-unknown-unknown "${which[@]}" -- --nocapture
    fi
    if [ "$ws_only" = true ]; then
      wasm_env "${display[@]}" "$WASM_CARGO" test -p tether-ws --no-default-features --target wasm32-unknown-unknown \
        --test browser_websocket_only -- --nocapture
    fi
  )
  exec 9>&-
  kill "$ctl_pid" 2>/dev/null || true
  wait "$ctl_pid" 2>/dev/null || true
  rm -rf "$work"
  trap cleanup_run EXIT
}

if [ "$what" = all ] || [ "$what" = browser ]; then
  echo "== [$(( $(date +%s) - start )) s] tether-ws: every feature combination (all, none, each alone) builds for wasm32, clippy-clean"
  # clippy where the wasm toolchain has it (rustup), else cargo check.
  lint=(clippy) deny=(-- -D warnings)
  wasm_env "$WASM_CARGO" clippy --version >/dev/null 2>&1 || { lint=(check) deny=(); }
  for features in --all-features --no-default-features "--no-default-features --features tabs" \
    "--no-default-features --features fallback"; do
    read -ra f <<<"$features"
    wasm_env "$WASM_CARGO" "${lint[@]}" -q --all-targets -p tether-ws --target wasm32-unknown-unknown "${f[@]}" "${deny[@]}"
  done
  echo "== [$(( $(date +%s) - start )) s] tether-ws: the minimal example builds for the browser (without the default features, as its README says)"
  wasm_env "$WASM_CARGO" build -q -p tether-ws --no-default-features --example minimal --target wasm32-unknown-unknown
  cargo build -q -p tether-server -p tether-testkit
  page_port=$(free_port)
  ctl_port=$(free_port)
  for b in "${browsers[@]}"; do browser_suite "$b" "$page_port" "$ctl_port"; done
  drop_browser_profiles
fi
if [ "$what" = all ] || [ "$what" = tabs ]; then
  echo "== [$(( $(date +%s) - start )) s] WebDriver tests: tabs and static deploy (browser windows, real server, nginx, built app)"
  cargo build -q -p tether-server
  # A debug build is enough and much faster; its own dist, so `make build`'s
  # release dist/ is left alone.
  wasm_env trunk build --dist target/tabs-dist >/dev/null
  export TETHER_TABS_DIST=$PWD/target/tabs-dist TETHER_SERVER_BIN=$PWD/target/debug/tether-server
  for b in "${webdriver_browsers[@]}"; do
    echo "== [$(( $(date +%s) - start )) s] WebDriver tests in headless $b"
    # WebKitGTK's MiniBrowser needs an X display: a virtual one.
    display=()
    [ "$b" = webkit ] && display=(xvfb-run -a)
    # One browser at a time: the tests count the server's connections.
    TETHER_BROWSER=$b TMPDIR=$browser_tmp "${display[@]}" cargo test -p tether-testkit --test browser_tabs --test browser_deploy -- \
      --ignored --test-threads=1 --nocapture
  done
  drop_browser_profiles
fi
# Skipped (saying what is missing) only on a machine without apt-get;
# elsewhere a missing PostgreSQL, Redis or nginx fails here.
if { [ "$what" = all ] || [ "$what" = multi ]; } && ! multi_skip; then
  echo "== [$(( $(date +%s) - start )) s] multi-instance tests (real PostgreSQL, Redis, nginx; two browsers through the load balancer)"
  cargo build -q -p tether-server
  echo "-- the server's test suites again, on PostgreSQL instead of SQLite"
  # Not the ones that start PostgreSQL themselves (store_contract, multi):
  # the first pass already ran them.
  pg_suites=()
  for f in server/tests/*.rs; do
    n=$(basename "$f" .rs)
    [ "$n" = store_contract ] || pg_suites+=(--test "$n")
  done
  TETHER_TEST_STORE=postgres cargo test -q -p tether-server "${pg_suites[@]}"
  # In `all` the tabs step already built the app.
  if [ "$what" = multi ]; then wasm_env trunk build --dist target/tabs-dist >/dev/null; fi
  TETHER_TABS_DIST=$PWD/target/tabs-dist TETHER_SERVER_BIN=$PWD/target/debug/tether-server TMPDIR=$browser_tmp \
    cargo test -p tether-testkit --test browser_multi --test browser_multi_fallback -- --ignored --test-threads=1 --nocapture
  drop_browser_profiles
fi
echo "== all requested tests passed in $(( $(date +%s) - start )) s"
