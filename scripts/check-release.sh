#!/usr/bin/env bash
# Checks a binary built with the `embed-site` feature (make release-check, or make release's
# target/release/latchkey): copied alone into an empty directory and started there, with no site
# and no AAGUID file on disk, it must serve the pages, their hashed bundles with the right content
# types, the API reference and the "not found" page, and name authenticators from its built-in list.
# Usage: check-release.sh PATH-TO-LATCHKEY
set -euo pipefail
binary=$(realpath "${1:?usage: $0 path/to/latchkey}")
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
cp "$binary" "$dir/latchkey"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://localhost:$port
(cd "$dir" && exec env -i PATH=/usr/bin:/bin LATCHKEY_ADDR=127.0.0.1:$port \
  LATCHKEY_ORIGINS=http://localhost:$port ./latchkey serve 2>"$dir/log") &
pid=$!
for _ in $(seq 1 100); do
  if curl -fs "$base/healthz" >/dev/null; then break; fi
  sleep 0.1
done

fail() { echo "release-check: $*" >&2; sed 's/^/  log: /' "$dir/log" >&2; exit 1; }
# Status and content type of one path.
head_of() { curl -s -o /dev/null -w '%{http_code} %{content_type}' "$base$1"; }
expect() {
  local path=$1 want=$2 got
  got=$(head_of "$path")
  [[ $got == $want* ]] || fail "$path answered '$got', expected '$want'"
  echo "  $path: $got"
}

echo "release-check: $(du -h "$binary" | cut -f1) binary, alone in $dir"
page=$(curl -fs "$base/") || fail "the sign-in page did not answer"
bundle=$(grep -o '/pkg/[^"]*-sign-in\.[0-9a-f]*' <<<"$page" | head -n1)
[ -n "$bundle" ] || fail "the sign-in page names no hashed sign-in bundle"
expect / "200 text/html"
expect "$bundle.js" "200 text/javascript"
expect "$bundle.wasm" "200 application/wasm"
css=$(grep -o '/pkg/[^"]*\.css' <<<"$page" | head -n1)
expect "$css" "200 text/css"
expect /favicon.svg "200 image/svg+xml"
expect /reference/ "200 text/html"
expect /reference/swagger-ui-bundle.js "200 text/javascript"
expect /reference/latchkey.css "200 text/css"
expect /openapi.json "200 application/json"
expect /no-such-page "404 text/html"
grep -q 'loaded AAGUID names.*built in' "$dir/log" || fail "the built-in AAGUID names were not loaded"
[ -z "$(find "$dir" -mindepth 1 -not -name latchkey -not -name log -not -name 'latchkey.db*')" ] \
  || fail "it wrote files other than its database: $(ls "$dir")"
echo "release-check: ok (the site and the AAGUID names came from the binary)"
