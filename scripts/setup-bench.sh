#!/usr/bin/env bash
# What `make bench` needs besides scripts/setup.sh, installed once and
# idempotent (fast when already there): Node `ws` for the peer server
# (project-local, .tools/bench), and the crates of the bench pages
# (bench/pages, its own workspace: leptos-use is only ever a dependency there),
# fetched so Trunk can build them offline.
set -euo pipefail
cd "$(dirname "$0")/.."
WS_VERSION=8.23.0
if [ "$(node -p 'require("./.tools/bench/node_modules/ws/package.json").version' 2>/dev/null)" != "$WS_VERSION" ]; then
  echo "setup-bench: installing ws $WS_VERSION from npm" >&2
  npm install --silent --no-audit --no-fund --prefix .tools/bench "ws@$WS_VERSION" >/dev/null
fi
cargo fetch -q --manifest-path bench/pages/Cargo.toml
