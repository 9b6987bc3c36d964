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
# function locally (`make run`) and builds it for Lambda (`make build`) with
# zig (ziglang) as its linker, which links against an older glibc than the
# build machine's.
PY_TOOLS := skpy==0.11 'moto[server]==5.2.5' cfn-lint==1.58.0 cargo-lambda==1.9.2 \
  openapi-spec-validator==0.9.0 ziglang==0.14.1
# tomllib (`make deploy`) needs Python 3.11; aws-sam-cli and cfn-lint 3.10.
PYTHON_MIN := 3.11
EMULATOR_PORT ?= 8790
EMULATOR := http://127.0.0.1:$(EMULATOR_PORT)
LAMBDA_PORT ?= 9000
API_KEY ?= local-dev-key
CHANNEL ?= 19:0123456789abcdef0123456789abcdef@thread.skype

export PATH := $(VENV)/bin:$(PATH)
export SKPY_PYTHON := $(PYTHON)
export CARGO_TERM_COLOR ?= never

# What Lambda runs: ARCH x86_64 (the default) or arm64, linked against glibc
# $(GLIBC), the version provided.al2023 has (Amazon Linux 2023), whatever the
# build machine's glibc is.
ARCH ?= x86_64
GLIBC := 2.34
RUST_TARGET := $(if $(filter arm64,$(ARCH)),aarch64,x86_64)-unknown-linux-gnu
LAMBDA_BUILD := cargo lambda build --locked --compiler cargo-zigbuild --bin skype-sender \
  --target $(RUST_TARGET).$(GLIBC)
LAMBDA_DIR := target/lambda/$(ARCH)
BOOTSTRAP := $(LAMBDA_DIR)/skype-sender/bootstrap

.PHONY: test run lint fmt emulator clean build rust-target

## test: install what the tests need, check style, run every test.
## (The glibc check of the Lambda build is `make build`'s: through the zig
## target it compiles every crate once more, 4 to 5 minutes on 2 cores.)
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
## then one warm-up request (so "Ready" means a request is answered at once)
## and the curl that posts a message. Ctrl-C stops both.
run: $(VENV)/.installed
	cargo build --locked -p fake-skype --bin skype-emulator
	@# On its own, exactly as `cargo lambda watch` builds it (`cargo run --bin
	@# skype-sender`): built together with the emulator, shared dependencies
	@# would get other features and watch would rebuild them on the first request.
	cargo build --locked --bin skype-sender
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
	for i in $$(seq 1 120); do curl -s -o /dev/null $(EMULATOR)/ && break; sleep 1; done; \
	echo "Warming up: one GET /health through cargo lambda watch, which starts the function..."; \
	status=$$(curl -s -o /dev/null -w '%{http_code}' --retry-connrefused --retry 120 --retry-delay 1 \
	  --max-time 900 -H 'x-api-key: $(API_KEY)' \
	  http://127.0.0.1:$(LAMBDA_PORT)/lambda-url/skype-sender/health) || status=000; \
	if [ "$$status" != 200 ]; then \
	  echo "The function did not answer GET /health (HTTP $$status): see cargo lambda watch's output above." >&2; exit 1; \
	fi; \
	echo; echo "Ready. Post a message with:"; echo; \
	echo "  curl -sS http://127.0.0.1:$(LAMBDA_PORT)/lambda-url/skype-sender/send-message \\"; \
	echo "    -H 'Content-Type: application/json' \\"; \
	echo "    -d '{\"API_KEY\": \"$(API_KEY)\", \"msg\": \"Hello from skype-sender\", \"channel\": \"general\"}'"; \
	echo; echo "The emulator prints each message it accepts; Ctrl-C stops everything."; \
	wait $$watch

$(VENV)/.installed: Makefile
	@command -v python3 >/dev/null || { echo "python3 not found: install Python $(PYTHON_MIN) or newer." >&2; exit 1; }
	@python3 -c 'import sys; sys.exit(sys.version_info < tuple(map(int, "$(PYTHON_MIN)".split("."))))' || { \
	  echo "python3 is $$(python3 -c 'import platform; print(platform.python_version())'); Python $(PYTHON_MIN) or newer is needed" >&2; \
	  echo "(make deploy reads samconfig.toml with tomllib; aws-sam-cli and cfn-lint need 3.10)." >&2; \
	  echo "Install a newer Python 3, put it first on PATH as python3, and run make again." >&2; exit 1; }
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

clean:
	cargo clean
	rm -rf $(VENV) .tools .aws-sam

.PHONY: deploy template-lint

## build: the deployable function for ARCH (x86_64, or ARCH=arm64):
## $(LAMBDA_DIR)/skype-sender/bootstrap and bootstrap.zip, built by
## cargo-lambda (release profile) with zig against glibc $(GLIBC), checked
## (glibc version, panic = "unwind"), and their sizes.
build: $(VENV)/.installed rust-target
	$(LAMBDA_BUILD) --release --lambda-dir $(LAMBDA_DIR)
	$(LAMBDA_BUILD) --release --lambda-dir $(LAMBDA_DIR) --output-format zip
	scripts/check-bootstrap --glibc $(GLIBC) --unwind $(BOOTSTRAP)
	@for f in $(BOOTSTRAP) $(BOOTSTRAP).zip; do \
	  printf '%-10s %s  %s\n' "$$(numfmt --to=iec-i --suffix=B --round=nearest --format=%.2f $$(stat -c %s $$f))" "($$(stat -c %s $$f) bytes)" "$$f"; \
	done

## rust-target: the Rust standard library for ARCH's target (rustup).
rust-target:
	@case "$(ARCH)" in x86_64|arm64) ;; \
	  *) echo "ARCH must be x86_64 or arm64, not '$(ARCH)'." >&2; exit 1 ;; \
	esac
	@command -v rustup >/dev/null || { echo "rustup not found: the Rust target $(RUST_TARGET) is installed with rustup: install Rust through rustup." >&2; exit 1; }
	rustup target add $(RUST_TARGET)

## deploy: build the function (sam build runs `make build` through
## build-SkypeSenderFunction below) and deploy the stack to the AWS account
## of your current credentials. The first run asks its questions (sam deploy
## --guided) and saves the answers in samconfig.toml; later runs deploy
## without asking.
SAM_CLI := aws-sam-cli==1.170.0
STACK_NAME ?= skype-sender

deploy: export SAM_CLI_TELEMETRY := 0
deploy: export ARCH := $(ARCH)
deploy: $(VENV)/.installed $(VENV)/.sam
	@# In the source tree: otherwise sam copies the whole project, target/ included, first.
	$(VENV)/bin/sam build --build-in-source --parameter-overrides Architecture=$(ARCH)
	@# sam deploy takes .aws-sam/build/template.yaml. --parameter-overrides
	@# replaces the saved list, so pass the saved parameters again with
	@# Architecture set to what was just built.
	if [ -f samconfig.toml ]; then \
	  saved=$$($(PYTHON) -c 'import tomllib; p = tomllib.load(open("samconfig.toml", "rb")).get("default", {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", ""); print(p if isinstance(p, str) else " ".join(p))'); \
	  $(VENV)/bin/sam deploy --no-fail-on-empty-changeset --parameter-overrides "$$saved Architecture=$(ARCH)"; \
	else \
	  $(VENV)/bin/sam deploy --guided --stack-name $(STACK_NAME) --parameter-overrides Architecture=$(ARCH); \
	fi

## build-SkypeSenderFunction: what `sam build` runs for the function
## (template.yaml: BuildMethod: makefile): `make build`, and the bootstrap
## copied where sam wants it. ARCH comes from the environment (make deploy
## sets it): keep it equal to the stack's Architecture parameter.
.PHONY: build-SkypeSenderFunction
build-SkypeSenderFunction: build
	@[ -n "$(ARTIFACTS_DIR)" ] || { echo "ARTIFACTS_DIR is not set: sam build sets it; run make build or make deploy." >&2; exit 1; }
	cp $(BOOTSTRAP) "$(ARTIFACTS_DIR)/bootstrap"

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
