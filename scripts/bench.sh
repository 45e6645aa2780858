#!/usr/bin/env bash
# Benchmarks print figures; they never pass or fail on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
. .tools/env.sh
echo "== reconnect storm (pure simulation of 10,000 real drivers, deterministic)"
cargo bench -q -p tether-ws --bench storm
