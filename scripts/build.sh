#!/usr/bin/env bash
# Release build: the server binary and the app (wasm + js + css) in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
cargo build --release -p tether-server
# Size over speed for the wasm only (its own target dir, so the server keeps -O3).
CARGO_PROFILE_RELEASE_OPT_LEVEL=z wasm_env trunk build --release
# Precompressed copies, sent by the server to browsers that accept them
# (server/src/static_files.rs). -n: no name or time inside, reproducible.
for f in dist/*.wasm dist/*.js dist/*.css dist/*.html; do
  [ -f "$f" ] || continue
  gzip -9 -n -k -f "$f"
  brotli -q 11 -k -f "$f"
done
echo "built target/release/tether-server and dist/:"
for f in dist/*.wasm dist/*.js; do
  printf '  %-40s %8d bytes, %8d gzipped\n' "$(basename "$f")" "$(stat -c %s "$f")" "$(gzip -9c "$f" | wc -c)"
done
