#!/usr/bin/env bash
# `make bench`: Tether against its peers, in one run on this machine, as one
# table (ours | peer | ratio; also target/bench/results.json and .md).
# Benchmarks print figures; they never pass or fail on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
bash scripts/setup-bench.sh
# The browser rows leave Chromium profile directories in the temp directory
# (see scripts/test.sh): the measuring gets a temp directory of its own,
# removed when the run stops.
bench_tmp=$(mktemp -d)
trap 'rm -rf "$bench_tmp"' EXIT
root=$PWD
out=target/bench
mkdir -p "$out/pages/raw-js"

echo "== build: release server and app (scripts/build.sh)"
bash scripts/build.sh
echo "== build: the burst pages (tether-ws and leptos-use, the app's toolchain and profile)"
for page in tether-ws leptos-use; do
  (cd "bench/pages/$page" && wasm_env env CARGO_TARGET_DIR="$root/$WASM_TARGET_DIR" \
    trunk build --release --dist "$root/$out/pages/$page" 2>&1 | tail -n 1)
done
cp bench/pages/raw-js/{index.html,raw.js,chat.html,chat.js} bench/pages/harness.js "$out/pages/raw-js/"
echo "== build: the hook crate's minimal example (ws/examples/minimal), as its README says"
# Without the default features (cross-tab sharing, the HTTP fallback): the
# example uses neither, and an app that does not turn them off pays for both.
CARGO_PROFILE_RELEASE_OPT_LEVEL=z wasm_env cargo build -q --release -p tether-ws --no-default-features --example minimal \
  --target wasm32-unknown-unknown
wasm-bindgen --target web --out-dir "$out/pages/minimal" "$WASM_TARGET_DIR/wasm32-unknown-unknown/release/examples/minimal.wasm"
wasm-opt -Oz --enable-bulk-memory --enable-reference-types --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-mutable-globals "$out/pages/minimal/minimal_bg.wasm" -o "$out/pages/minimal/minimal_bg.wasm"
cargo build -q --release -p tether-bench

echo "== reconnect storm (pure simulation of 10,000 real drivers, deterministic)"
cargo bench -q -p tether-ws --bench storm | tee "$out/storm-sim.txt"

echo "== measuring (about 5 minutes)"
TMPDIR=$bench_tmp target/release/tether-bench --storm-sim "$out/storm-sim.txt" --out "$out/results.json" "$@"
