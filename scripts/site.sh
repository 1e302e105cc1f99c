#!/usr/bin/env bash
# Builds the browser bundles into a site: `portal` (every island) and `sign-in` (only the islands of
# the sign-in and sign-up pages, so the page every visitor loads stays light).
# Usage: site.sh debug   -> target/site          (make site)
#        site.sh release -> target/site-release  (make site-release: size-optimised, wasm-opt)
set -euo pipefail
cd "$(dirname "$0")/.."
case ${1:-debug} in
  debug) profile=dev; dir=debug; site=target/site; optimize= ;;
  release) profile=wasm-release; dir=wasm-release; site=target/site-release; optimize=--optimize ;;
  *) echo "usage: $0 debug|release" >&2; exit 2 ;;
esac
built=target/wasm32-unknown-unknown/$dir/frontend.wasm
bundles=target/bundles/$dir
mkdir -p "$bundles"
# One cargo output path, two feature sets: each build is copied away before the next. Cargo keeps
# both builds of `app`, so switching back and forth recompiles nothing.
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile"
cp "$built" "$bundles/portal.wasm"
cargo build -p frontend --lib --target wasm32-unknown-unknown --profile "$profile" --features sign-in-bundle
cp "$built" "$bundles/sign-in.wasm"
scripts/bundle.sh "$site" $optimize "$bundles/portal.wasm" "$bundles/sign-in.wasm"
