#!/usr/bin/env bash
# WebSocket conformance: Autobahn|Testsuite's fuzzing client against the
# real tether-server's test-only echo endpoint (/test/echo, --test-faults),
# compared case by case with conformance/autobahn/expected.json.
# Fails on any difference, any FAILED case or any unclean close.
# Skipped, saying why, when setup found no Python 2.7 (scripts/setup-autobahn.sh).
# Usage: conformance.sh [--update]   (--update rewrites expected.json)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

WSTEST=.tools/autobahn/venv/bin/wstest
PY=.tools/autobahn/venv/bin/python
SPEC=conformance/autobahn/fuzzingclient.json
EXPECTED=conformance/autobahn/expected.json
# The whole run takes about 15 s; a hang must not stall `make test`.
LIMIT_S=${TETHER_CONFORMANCE_LIMIT_S:-240}

if [ ! -x "$WSTEST" ]; then
  echo "conformance: SKIPPED: Autobahn|Testsuite is not installed (it needs Python 2.7; scripts/setup-autobahn.sh found none)"
  exit 0
fi

start=$(date +%s)
cargo build -q -p tether-server
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

mkdir "$work/static"
RUST_LOG=${RUST_LOG:-warn} ./target/debug/tether-server --addr 127.0.0.1:0 --db "$work/test.db" \
  --static-dir "$work/static" --test-faults >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
addr=$(wait_for_line "$server_pid" "$work/server.out" "$work/server.err" "listening on http://" tether-server)

sed "s#ws://127.0.0.1:0/#ws://$addr/#" "$SPEC" >"$work/spec.json"
echo "conformance: wstest -m fuzzingclient against ws://$addr/test/echo"
if ! (cd "$work" && timeout "$LIMIT_S" "$OLDPWD/$WSTEST" -m fuzzingclient -s spec.json >wstest.log 2>&1); then
  tail -n 30 "$work/wstest.log" >&2
  tail -n 30 "$work/server.err" >&2
  echo "conformance: wstest failed or took over $LIMIT_S s" >&2
  exit 1
fi
# Kept for reading after the run (per-case HTML with the wire log).
rm -rf target/conformance && mkdir -p target && cp -r "$work/reports" target/conformance
"$PY" conformance/autobahn/compare.py "$work/reports/index.json" "$EXPECTED" "$@"
echo "conformance: passed in $(( $(date +%s) - start )) s"
