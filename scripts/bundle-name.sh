#!/usr/bin/env bash
# Prints the bundle name (the site serves /pkg/<name>.{wasm,js,css}), defined once as LEPTOS_OUTPUT_NAME
# in .cargo/config.toml. With --check, fails when [[workspace.metadata.leptos]] names another bundle
# (cargo-leptos reads that one), so the two can never drift apart.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$(sed -n 's/^LEPTOS_OUTPUT_NAME = "\(.*\)"$/\1/p' .cargo/config.toml)
if [ -z "$name" ]; then
  echo "bundle-name: no LEPTOS_OUTPUT_NAME = \"...\" line in .cargo/config.toml" >&2
  exit 1
fi
if [ "${1:-}" = --check ]; then
  leptos=$(sed -n '/^\[\[workspace.metadata.leptos\]\]/,/^\[/ s/^name = "\(.*\)"$/\1/p' Cargo.toml)
  if [ "$leptos" != "$name" ]; then
    echo "bundle-name: Cargo.toml [[workspace.metadata.leptos]] name is \"$leptos\" but .cargo/config.toml says \"$name\"; make them equal" >&2
    exit 1
  fi
  exit 0
fi
echo "$name"
