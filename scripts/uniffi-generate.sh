#!/usr/bin/env bash
# Generates the Swift and Kotlin bindings of bindings/uniffi with the workspace's uniffi-bindgen and
# installs them in the packages:
#   swift/Sources/HogFlags/Generated/HogFlags.swift
#   swift/Sources/HogFlagsFFI/{HogFlagsFFI.h, module.modulemap}
#   kotlin/src/generated/kotlin/com/posthog/hogflags/hogflags.kt
#
# Usage: scripts/uniffi-generate.sh           build (if needed), generate, install
#        scripts/uniffi-generate.sh --check   generate into a temp dir and fail if the committed files
#                                             differ (drift between the Rust side and the packages)
# Env: CARGO_TARGET_DIR (default: <repo>/target). The library is built with `--release` (the packages
# link that one); the bindgen binary with the dev profile (it only reads metadata, and builds faster).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
source scripts/lib/toolchains.sh
ensure_rust

mode=install
[ "${1:-}" = "--check" ] && mode=check

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$REPO/target}
cargo build --quiet --release -p hogflags-uniffi
cargo build --quiet -p hogflags-uniffi-bindgen
BINDGEN=$CARGO_TARGET_DIR/debug/uniffi-bindgen
case "$(uname -s)" in
  Darwin) LIB=$CARGO_TARGET_DIR/release/libhogflags_uniffi.dylib ;;
  *) LIB=$CARGO_TARGET_DIR/release/libhogflags_uniffi.so ;;
esac

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$BINDGEN" generate --no-format --language swift --out-dir "$out/gen-swift" "$LIB" >/dev/null
"$BINDGEN" generate --no-format --language kotlin --out-dir "$out/gen-kotlin" "$LIB" >/dev/null

# Lay the files out as the packages hold them.
mkdir -p "$out/swift/Sources/HogFlags/Generated" "$out/swift/Sources/HogFlagsFFI" \
  "$out/kotlin/src/generated/kotlin/com/posthog/hogflags"
cp "$out/gen-swift/HogFlags.swift" "$out/swift/Sources/HogFlags/Generated/HogFlags.swift"
cp "$out/gen-swift/HogFlagsFFI.h" "$out/swift/Sources/HogFlagsFFI/HogFlagsFFI.h"
# SwiftPM's systemLibrary target wants module.modulemap; the link line makes `import HogFlags` link
# libhogflags_uniffi (its directory is given by Package.swift).
sed 's/^}$/    link "hogflags_uniffi"\n}/' "$out/gen-swift/HogFlagsFFI.modulemap" \
  > "$out/swift/Sources/HogFlagsFFI/module.modulemap"
cp "$out/gen-kotlin/com/posthog/hogflags/hogflags.kt" "$out/kotlin/src/generated/kotlin/com/posthog/hogflags/hogflags.kt"

files=(
  swift/Sources/HogFlags/Generated/HogFlags.swift
  swift/Sources/HogFlagsFFI/HogFlagsFFI.h
  swift/Sources/HogFlagsFFI/module.modulemap
  kotlin/src/generated/kotlin/com/posthog/hogflags/hogflags.kt
)
if [ "$mode" = check ]; then
  drift=0
  for f in "${files[@]}"; do
    if ! cmp -s "$out/$f" "$REPO/$f"; then
      echo "generated code drifted: $f differs from a fresh generation (run scripts/uniffi-generate.sh)"
      diff -u "$REPO/$f" "$out/$f" 2>&1 | head -20 || true
      drift=1
    fi
  done
  [ "$drift" -eq 0 ] && echo "generated code is up to date (${#files[@]} files)"
  exit "$drift"
fi
for f in "${files[@]}"; do
  mkdir -p "$(dirname "$REPO/$f")"
  cp "$out/$f" "$REPO/$f"
done
echo "generated ${#files[@]} files"
