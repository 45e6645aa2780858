#!/usr/bin/env bash
# Benchmarks print figures; they never pass or fail on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
cargo run -q --release -p tether --bin storm 2>/dev/null || echo "storm simulation: not built yet"
