#!/usr/bin/env bash
# Release build: the server binary and the app (wasm + js + css) in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
cargo build --release -p tether-server
# The wasm builds with Cargo.toml's `wasm-release` profile (index.html picks
# it): size over speed for the app only; the server keeps `release` (-O3).
wasm_env trunk build --release
echo "built target/release/tether-server and dist/:"
for f in dist/*.wasm dist/*.js; do
  printf '  %-40s %8d bytes, %8d gzipped\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
