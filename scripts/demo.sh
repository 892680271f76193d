#!/usr/bin/env bash
# Builds hogflags and runs the demo: loads examples/flags.json and prints every flag for a few users.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/toolchains.sh
ensure_rust
cargo run --quiet --release -p hogflags --example demo -- examples/flags.json
