#!/usr/bin/env bash
# Release build: the server binary and the app (wasm + js + css) in dist/.
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
cargo build --release -p tether-server
# The wasm builds with Cargo.toml's `wasm-release` profile (index.html picks
# it): size over speed for the app only; the server keeps `release` (-O3).
# Where the toolchain has the standard library's sources, std is rebuilt
# with panics that abort at once and without panic locations (README, "App
# size": about 22 KB gzipped less; panic messages are lost), and with std's
# `optimize_for_size` feature (smaller sort and formatting code, about 4 KB
# gzipped less). Its own target dir, so these flags never invalidate the test
# builds.
sysroot=$(wasm_env rustc --print sysroot)
has_std_src() {
  [ -d "$sysroot/lib/rustlib/src/rust/library" ] \
    || { [ "$TETHER_WASM_MODE" = debian ] && [ -d /usr/lib/rustlib/src/rust/library ]; }
}
# Trunk builds offline (Trunk.toml), so std's own dependencies must be in the
# registry before std is rebuilt: on a new machine they are not. Offline
# first (free once they are there), then once from the network, bounded.
# One std-rebuild setting for both, so the fetch resolves what the build needs.
build_std=(env RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort)
std_deps_fetched() {
  local fetch=("${build_std[@]}" "$WASM_CARGO" fetch -q --target wasm32-unknown-unknown)
  wasm_env "${fetch[@]}" --offline 2>/dev/null || wasm_env timeout 60 "${fetch[@]}"
}
if has_std_src && std_deps_fetched; then
  wasm_env "${build_std[@]}" CARGO_TARGET_DIR="${WASM_TARGET_DIR}-app" CARGO_UNSTABLE_BUILD_STD_FEATURES=optimize_for_size \
    RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" trunk build --release
else
  echo "note: no standard library sources (rustup component add rust-src) or its dependencies could not be fetched: building without panic=immediate-abort"
  wasm_env trunk build --release
fi
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
