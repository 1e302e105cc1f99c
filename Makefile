# Latchkey: `make run` serves the portal on http://localhost:3000; `make test` runs every test.
# Plain cargo + wasm-bindgen-cli (no cargo-leptos needed; see docs/toolchain.md).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# The bundle name (/pkg/<name>.{wasm,js,css}) is set once, in .cargo/config.toml.
export LEPTOS_OUTPUT_NAME := $(shell scripts/bundle-name.sh)

SITE := target/site
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: run test setup site site-release server release release-check fmt lint unit integration integration-sqlite integration-postgres e2e weight deploy-check screenshots clean bench

## Serve the portal with an SQLite file (latchkey.db in this directory).
run: setup site server
	LATCHKEY_SITE_ROOT=$(SITE) target/debug/latchkey

## Every test: format, lints, unit, integration (SQLite, then PostgreSQL + Redis), end to end, the
## page-weight ceilings of the release bundle, and the deployment guides' config files.
test: setup fmt lint unit integration e2e weight release-check deploy-check

setup:
	@scripts/setup.sh

## The islands' two bundles (portal, sign-in), JS glue, CSS and AAGUID names under target/site (debug build).
site:
	@scripts/site.sh debug

## The same, optimised for size, under target/site-release (wasm-release profile + wasm-opt from npm binaryen 132).
site-release:
	@scripts/site.sh release

server:
	cargo build -p server

## One binary with the optimised site inside it: target/release/latchkey. Copy it anywhere and run it
## (docs/deploy.md); LATCHKEY_SITE_ROOT still serves a directory instead.
release: setup site-release
	cargo build --release -p server --features embed-site
	@ls -l target/release/latchkey

## The one-binary build, tested: a (debug) binary with the release site inside it, copied to an
## empty directory and run there with no site on disk: pages, bundles, the API reference, 404s.
release-check: site-release
	cargo build -p server --features embed-site
	@scripts/check-release.sh target/debug/latchkey

fmt:
	cargo fmt --all -- --check

lint:
	@scripts/bundle-name.sh --check
	cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
	cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

unit:
	cargo test --workspace --exclude frontend --lib --bins

integration: integration-sqlite integration-postgres

integration-sqlite:
	rm -rf "$${TMPDIR:-/tmp}/latchkey-tests"
	LATCHKEY_TEST_BACKEND=sqlite cargo test -p server --test '*'

integration-postgres:
	@scripts/services.sh
	@# Each test creates its own database; drop the ones earlier runs left behind.
	psql "$(PG_URL)" -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'lk_test_%'" \
		| xargs -r -I{} psql "$(PG_URL)" -qc 'DROP DATABASE IF EXISTS "{}"'
	LATCHKEY_TEST_BACKEND=postgres LATCHKEY_TEST_PG_URL=$(PG_URL) LATCHKEY_TEST_REDIS_URL=$(REDIS_URL) \
		cargo test -p server --test '*'

e2e: setup site server
	cd end2end && npx playwright test

## Each page's JS + WASM (gzip) against its budget, on the release bundle; prints every page's
## size and the time to a usable passkey button (end2end/weight/).
weight: setup site-release server
	cd end2end && E2E_SUITE=weight npx playwright test

## docs/deploy.md's nginx, Caddy and systemd files, checked by the tools themselves (installed from
## Debian's packages when missing).
deploy-check:
	@scripts/check-deploy.sh

## The README's screenshots, taken by the end-to-end suite.
screenshots: setup site server
	cd end2end && E2E_SCREENSHOTS=1 E2E_PRODUCT_NAME="$$(sed -n 's/^pub const PRODUCT_NAME: &str = "\(.*\)";/\1/p' ../engine/src/base/config/mod.rs)" \
		npx playwright test

## Benchmarks (BENCHMARKS.md): the release server under the Rust load generator (bench/), on SQLite +
## in-memory ceremonies, then on PostgreSQL + Redis. Flags for both runs: make bench BENCH_ARGS="--duration 5".
bench: setup site-release
	cargo build --release -p server -p bench
	@scripts/services.sh
	target/release/bench --backend sqlite $(BENCH_ARGS)
	target/release/bench --backend postgres --pg-url $(PG_URL) --redis-url $(REDIS_URL) $(BENCH_ARGS)

clean:
	cargo clean
	rm -f latchkey.db latchkey.db-shm latchkey.db-wal
