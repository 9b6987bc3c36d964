# skype-sender: the two commands a newcomer runs are `make run` and `make test`.
# Every tool they need is installed here, into ./.venv (Python tools) and
# Cargo's own cache: nothing is assumed from an earlier session.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
# Python tools, pinned: SkPy is the reference client our tests compare with;
# moto serves S3 and Secrets Manager to the tests; cfn-lint checks the
# template; openapi-spec-validator checks openapi.yaml; cargo-lambda runs the
# function locally (`make run`).
PY_TOOLS := skpy==0.11 'moto[server]==5.2.5' cfn-lint==1.58.0 cargo-lambda==1.9.2 \
  openapi-spec-validator==0.9.0
EMULATOR_PORT ?= 8790
EMULATOR := http://127.0.0.1:$(EMULATOR_PORT)
LAMBDA_PORT ?= 9000
API_KEY ?= local-dev-key
CHANNEL ?= 19:0123456789abcdef0123456789abcdef@thread.skype

export PATH := $(VENV)/bin:$(PATH)
export SKPY_PYTHON := $(PYTHON)
export CARGO_TERM_COLOR ?= never

.PHONY: test run lint fmt emulator clean

## test: install what the tests need, check style, run every test.
test: $(VENV)/.installed
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
	$(MAKE) --no-print-directory template-lint
	$(VENV)/bin/openapi-spec-validator openapi.yaml
	@# Not --all-targets: that would also build the empty test runners the
	@# Cargo.toml files switch off (test = false), each linking the AWS SDK.
	cargo test --workspace --locked

## lint: formatting and clippy only.
lint:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets --locked -- -D warnings

fmt:
	cargo fmt --all

## emulator: the strict fake Skype server (crates/fake-skype), on localhost:$(EMULATOR_PORT).
emulator:
	cargo run --locked -p fake-skype --bin skype-emulator -- --port $(EMULATOR_PORT)

## run: the Skype emulator and the function (cargo lambda watch, local mode),
## then the curl that posts a message. Ctrl-C stops both.
run: $(VENV)/.installed
	cargo build --locked -p fake-skype --bin skype-emulator -p skype-sender --bin skype-sender
	@mkdir -p target
	@printf '%s\n' \
	  SKYPE_LIVE_URL=$(EMULATOR)/live SKYPE_LOGIN_URL=$(EMULATOR)/skype-login \
	  SKYPE_EDGE_URL=$(EMULATOR)/edge SKYPE_API_URL=$(EMULATOR)/api \
	  SKYPE_MSGS_URL=$(EMULATOR)/v1 SKYPE_ASM_URL=$(EMULATOR)/asm/v1/objects \
	  SKYPE_USERNAME=bot@example.com SKYPE_PASSWORD=local-password API_KEYS=$(API_KEY) \
	  "CHANNELS='{\"general\": \"$(CHANNEL)\"}'" TOKEN_FILE=$(CURDIR)/.tokens-app RUST_LOG=info > target/local.env
	@set -m; \
	target/debug/skype-emulator --port $(EMULATOR_PORT) & emulator=$$!; \
	cargo lambda watch --invoke-address 127.0.0.1 --invoke-port $(LAMBDA_PORT) --env-file target/local.env & watch=$$!; \
	trap 'kill -- -$$emulator -$$watch 2>/dev/null; exit 0' INT TERM EXIT; \
	for i in $$(seq 1 120); do \
	  curl -s -o /dev/null http://127.0.0.1:$(LAMBDA_PORT)/ && break; sleep 1; \
	done; \
	echo; echo "Ready. Post a message with:"; echo; \
	echo "  curl -sS http://127.0.0.1:$(LAMBDA_PORT)/lambda-url/skype-sender/send-message \\"; \
	echo "    -H 'Content-Type: application/json' \\"; \
	echo "    -d '{\"API_KEY\": \"$(API_KEY)\", \"msg\": \"Hello from skype-sender\", \"channel\": \"general\"}'"; \
	echo; echo "The emulator prints each message it accepts; Ctrl-C stops everything."; \
	wait $$watch

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

clean:
	cargo clean
	rm -rf $(VENV) .tools .aws-sam

.PHONY: deploy template-lint

## deploy: build the function with sam (cargo-lambda) and deploy the stack to
## the AWS account of your current credentials. The first run asks its
## questions (sam deploy --guided) and saves the answers in samconfig.toml;
## later runs deploy without asking. ARCH=arm64 needs the Rust target
## aarch64-unknown-linux-gnu.
ARCH ?= x86_64
# x86_64 builds with plain cargo; arm64 cross-links with cargo-lambda's zig
# (plain cargo would need an aarch64 C linker).
CARGO_LAMBDA_COMPILER ?= $(if $(filter arm64,$(ARCH)),cargo-zigbuild,cargo)
SAM_CLI := aws-sam-cli==1.170.0
STACK_NAME ?= skype-sender

deploy: export SAM_CLI_TELEMETRY := 0
deploy: export CARGO_LAMBDA_COMPILER := $(CARGO_LAMBDA_COMPILER)
deploy: $(VENV)/.installed $(VENV)/.sam
	@case "$(ARCH)" in \
	  x86_64) ;; \
	  arm64) rustup target list --installed 2>/dev/null | grep -x aarch64-unknown-linux-gnu >/dev/null || { \
	    echo "ARCH=arm64: the Rust target aarch64-unknown-linux-gnu is not installed." >&2; \
	    echo "Install it with 'rustup target add aarch64-unknown-linux-gnu', or deploy x86_64 (make deploy ARCH=x86_64)." >&2; \
	    exit 1; } ;; \
	  *) echo "ARCH must be x86_64 or arm64, not '$(ARCH)'." >&2; exit 1 ;; \
	esac
	$(VENV)/bin/sam build --parameter-overrides Architecture=$(ARCH)
	@# sam deploy takes .aws-sam/build/template.yaml. --parameter-overrides
	@# replaces the saved list, so pass the saved parameters again with
	@# Architecture set to what was just built.
	if [ -f samconfig.toml ]; then \
	  saved=$$($(PYTHON) -c 'import tomllib; p = tomllib.load(open("samconfig.toml", "rb")).get("default", {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", ""); print(p if isinstance(p, str) else " ".join(p))'); \
	  $(VENV)/bin/sam deploy --no-fail-on-empty-changeset --parameter-overrides "$$saved Architecture=$(ARCH)"; \
	else \
	  $(VENV)/bin/sam deploy --guided --stack-name $(STACK_NAME) --parameter-overrides Architecture=$(ARCH); \
	fi

# aws-sam-cli is large and only `make deploy` needs it: its own stamp.
$(VENV)/.sam: $(VENV)/.installed
	$(PYTHON) -m pip install --quiet --disable-pip-version-check $(SAM_CLI)
	touch $@

## template-lint: check template.yaml with cfn-lint (offline).
template-lint: $(VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml

## fuzz: libFuzzer on the event decoding, the token file and the
## registration headers (cargo-fuzz, installed into ./.tools). Stable Rust:
## RUSTC_BOOTSTRAP lets cargo-fuzz use the flags it needs.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := event_decoding token_file registration_headers
CARGO_FUZZ := $(CURDIR)/.tools/bin/cargo-fuzz

.PHONY: fuzz
fuzz: $(CARGO_FUZZ)
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p tests/fuzz/corpus/$$target; \
	  echo "== fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  RUSTC_BOOTSTRAP=1 $(CARGO_FUZZ) fuzz run --fuzz-dir tests/fuzz -O $$target \
	    tests/fuzz/corpus/$$target tests/fuzz/seeds/$$target -- -max_total_time=$(FUZZ_SECONDS) || exit 1; \
	done

$(CARGO_FUZZ):
	cargo install cargo-fuzz --version 0.13.2 --locked --root $(CURDIR)/.tools

## bench: the performance figures of the issue (cold start against a
## hello-world lambda_runtime binary, warm overhead, RSS, sizes, concurrency,
## cold containers, SQS batches) on the release binaries; prints the table
## and writes target/bench.json. A few minutes; not part of `make test`
## (which runs a quick smoke version, crates/bench/tests/smoke.rs).
.PHONY: bench
bench: $(VENV)/.installed
	cargo build --release --locked -p skype-sender --bin skype-sender -p bench --bin bench --bin hello-lambda
	target/release/bench --function target/release/skype-sender \
	  --hello target/release/hello-lambda --json target/bench.json
