#!/usr/bin/env bash
# Installs whatever Tether needs to build and test, and nothing that is there
# already. Safe to run on every `make` invocation: once set up it takes well
# under a second.
#
# Two ways to get a wasm32 standard library:
#   - rustup's wasm32-unknown-unknown target, when it is installed (or can be
#     installed within a short, bounded wait);
#   - otherwise Debian's rustc-web toolchain with the std sources, building
#     std for wasm32 from source (-Zbuild-std). See shared/TOOLCHAIN.md.
# The choice is written to .tools/env.sh, which the other scripts source.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
# Debian's binaryen (108) cannot read what current wasm-bindgen emits
# (table.fill), so wasm-opt comes from npm, project-local.
BINARYEN_VERSION=132.0.0
BINARYEN_BIN=$PWD/.tools/binaryen/node_modules/.bin
# axe-core, the accessibility checker the browser tests run on the app.
AXE_VERSION=4.14.1
AXE_JS=.tools/axe/node_modules/axe-core/axe.min.js
# Servers and browsers the tests start themselves, on loopback ports in
# temporary directories (nothing is started by the install): nginx (reverse
# proxy, static host, load balancer), PostgreSQL 15 and Redis 7 (several
# server instances), Firefox ESR and WebKitGTK's WebDriver (browser tests
# beyond Chromium). geckodriver has no Debian package: cargo builds it.
# xvfb: a virtual X display for WebKitGTK's MiniBrowser (it has no headless mode).
SERVICE_PKGS=(nginx postgresql redis-server firefox-esr webkit2gtk-driver xvfb)
GECKODRIVER_VERSION=0.37.1
STAMP_DIR=.tools
ENV_FILE=$STAMP_DIR/env.sh
mkdir -p "$STAMP_DIR"

say() { echo "setup: $*" >&2; }

# wasm-bindgen-cli must equal the wasm-bindgen crate exactly; read it from the
# lock file (regenerating it first if it is missing).
wbg_version() {
  [ -f Cargo.lock ] || cargo generate-lockfile >/dev/null 2>&1
  awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock
}

have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

is_service_pkg() {
  local s
  for s in "${SERVICE_PKGS[@]}"; do [ "$s" = "$1" ] && return 0; done
  return 1
}

# Without apt-get, missing service packages are only warned about (the
# tests that need them say SKIPPED); anything else missing is fatal.
apt_install() {
  local missing=() needed=() p
  for p in "$@"; do have_pkg "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! command -v apt-get >/dev/null; then
    for p in "${missing[@]}"; do is_service_pkg "$p" || needed+=("$p"); done
    if [ ${#needed[@]} -gt 0 ]; then
      say "need packages ${needed[*]} but apt-get is not available; install them yourself"
      exit 1
    fi
    say "WARNING: ${missing[*]} not installed and apt-get is not available: the tests that need them will be SKIPPED"
    return 0
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  say "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

rustup_has_wasm() {
  command -v rustup >/dev/null && timeout 20 rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown
}

# The standard library's sources: scripts/build.sh rebuilds std with them,
# for an app about 30 KB gzipped smaller (README, "App size"). Asked of
# rustup, whose record is written only once an install completes, for the
# toolchain `component add` works on.
rustup_has_src() {
  command -v rustup >/dev/null && timeout 20 rustup component list --installed 2>/dev/null | grep -q '^rust-src'
}

choose_mode() {
  if [ -n "${TETHER_WASM_MODE:-}" ]; then echo "$TETHER_WASM_MODE"; return; fi
  if rustup_has_wasm; then echo rustup; return; fi
  # On a machine that can reach rustup's server this succeeds quickly; here it
  # would hang, so bound it and remember the answer (the stamp below).
  if command -v rustup >/dev/null && [ ! -f "$STAMP_DIR/rustup-unreachable" ]; then
    say "trying 'rustup target add wasm32-unknown-unknown' (at most 45 s)"
    if timeout 45 rustup target add wasm32-unknown-unknown >/dev/null 2>&1; then echo rustup; return; fi
    touch "$STAMP_DIR/rustup-unreachable"
    say "rustup could not fetch the wasm32 target; using Debian's rustc-web with build-std"
  fi
  echo debian
}

# Autobahn|Testsuite for the conformance step: its own idempotent script.
bash scripts/setup-autobahn.sh

# Fast path: everything recorded as installed is still there (the service
# packages only where apt-get could install them: without it, they were
# warned about once and their tests are skipped).
if [ -f "$ENV_FILE" ] && [ "$(cat "$STAMP_DIR/wbg-version" 2>/dev/null)" = "$(wbg_version)" ] \
   && { [ -z "${TETHER_WASM_MODE:-}" ] || grep -q "TETHER_WASM_MODE=$TETHER_WASM_MODE\$" "$ENV_FILE"; }; then
  # shellcheck disable=SC1090
  . "$ENV_FILE"
  if command -v trunk >/dev/null && command -v wasm-bindgen-test-runner >/dev/null \
     && [ -x /usr/bin/chromedriver ] && [ -x "$BINARYEN_BIN/wasm-opt" ] && [ -f "$AXE_JS" ] \
     && { [ "$TETHER_WASM_MODE" = rustup ] || [ -x /usr/bin/rust-lld ]; } \
     && { [ "$TETHER_WASM_MODE" != rustup ] || rustup_has_src || [ -f "$STAMP_DIR/rust-src-unreachable" ]; } \
     && [ -x "$HOME/.cargo/bin/geckodriver" ] && [ -x /usr/bin/brotli ] && [ -n "${TETHER_GECKODRIVER:-}" ] \
     && { ! command -v apt-get >/dev/null || { [ -x /usr/sbin/nginx ] && [ -x /usr/bin/redis-server ] \
          && [ -x /usr/lib/postgresql/15/bin/initdb ] && [ -x /usr/bin/firefox-esr ] && [ -x /usr/bin/xvfb-run ]; }; }; then
    exit 0
  fi
fi

mode=$(choose_mode)
say "wasm toolchain: $mode"
if [ "$mode" = rustup ] && ! rustup_has_src && [ ! -f "$STAMP_DIR/rust-src-unreachable" ]; then
  say "trying 'rustup component add rust-src' (at most 45 s)"
  if ! timeout 45 rustup component add rust-src >/dev/null 2>&1; then
    touch "$STAMP_DIR/rust-src-unreachable"
    say "rustup could not fetch rust-src; the app builds without std rebuilt for size (rm $STAMP_DIR/rust-src-unreachable to try again)"
  fi
fi

# Browser for the tests; node/npm for wasm-opt. Both modes need them.
# brotli: scripts/build.sh writes a .br next to each built file.
pkgs=(chromium chromium-driver brotli)
command -v npm >/dev/null || pkgs+=(nodejs npm)
[ "$mode" = debian ] && pkgs+=(rustc-web cargo-web rust-web-src lld-22)
apt_install "${pkgs[@]}" "${SERVICE_PKGS[@]}"

export PATH="$HOME/.cargo/bin:$PATH"
want=$(wbg_version)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  # Not --locked: its lock file pins a webpki-roots the registry does not serve.
  say "installing wasm-bindgen-cli $want (a few minutes, once)"
  cargo install -q wasm-bindgen-cli --version "$want" --force
fi
if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  # --locked: without it trunk's dependencies drift to ones needing newer rustc.
  say "installing trunk $TRUNK_VERSION (about 5 minutes, once)"
  cargo install -q trunk --version "$TRUNK_VERSION" --locked --force
fi

if [ "$(geckodriver --version 2>/dev/null | awk 'NR==1 {print $2}')" != "$GECKODRIVER_VERSION" ]; then
  say "installing geckodriver $GECKODRIVER_VERSION (about 3 minutes, once)"
  cargo install -q geckodriver --version "$GECKODRIVER_VERSION" --locked --force
fi
if [ "$("$BINARYEN_BIN/wasm-opt" --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
  say "installing binaryen $BINARYEN_VERSION (wasm-opt) from npm"
  npm install --silent --no-audit --no-fund --prefix .tools/binaryen "binaryen@$BINARYEN_VERSION" >/dev/null
fi
if [ ! -f "$AXE_JS" ]; then
  say "installing axe-core $AXE_VERSION from npm (accessibility checks in the browser tests)"
  npm install --silent --no-audit --no-fund --prefix .tools/axe "axe-core@$AXE_VERSION" >/dev/null
fi

{
  echo "# Written by scripts/setup.sh; sourced by the build and test scripts."
  echo "export TETHER_WASM_MODE=$mode"
  echo "export PATH=\"$BINARYEN_BIN:\$HOME/.cargo/bin:\$PATH\""
  echo "export CHROMEDRIVER=/usr/bin/chromedriver"
  echo "export TETHER_GECKODRIVER=\$HOME/.cargo/bin/geckodriver"
  echo "export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner"
  # Separate target dir: a different compiler (or build-std) in the same dir
  # would invalidate the native build every time.
  echo "export WASM_TARGET_DIR=target/wasm-$mode"
  if [ "$mode" = debian ]; then
    echo "export WASM_CARGO=/usr/bin/cargo"
    echo "wasm_env() { env PATH=\"$BINARYEN_BIN:/usr/bin:\$PATH\" RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort CARGO_TARGET_DIR=\$WASM_TARGET_DIR \"\$@\"; }"
  else
    echo "export WASM_CARGO=cargo"
    echo "wasm_env() { env CARGO_TARGET_DIR=\$WASM_TARGET_DIR \"\$@\"; }"
  fi
} > "$ENV_FILE"
echo "$want" > "$STAMP_DIR/wbg-version"
say "ready"
