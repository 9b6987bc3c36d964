# skype-sender: the two commands a newcomer runs are `make run` and `make test`.
# Every tool they need is installed here, into ./.venv (Python tools) and
# Cargo's own cache: nothing is assumed from an earlier session.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
# Python tools, pinned: SkPy is the reference client our tests compare with;
# cargo-lambda runs the function locally (`make run`).
PY_TOOLS := skpy==0.11 cargo-lambda==1.9.2
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
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings
	cargo test --all-targets --locked

## lint: formatting and clippy only.
lint:
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings

fmt:
	cargo fmt

## emulator: the strict fake Skype server, on localhost:$(EMULATOR_PORT).
emulator:
	cargo run --locked --example skype-emulator -- --port $(EMULATOR_PORT)

## run: the Skype emulator and the function (cargo lambda watch, local mode),
## then the curl that posts a message. Ctrl-C stops both.
run: $(VENV)/.installed
	cargo build --locked --example skype-emulator --bin skype-sender
	@mkdir -p target
	@printf '%s\n' \
	  SKYPE_LIVE_URL=$(EMULATOR)/live SKYPE_LOGIN_URL=$(EMULATOR)/skype-login \
	  SKYPE_EDGE_URL=$(EMULATOR)/edge SKYPE_API_URL=$(EMULATOR)/api \
	  SKYPE_MSGS_URL=$(EMULATOR)/v1 SKYPE_ASM_URL=$(EMULATOR)/asm/v1/objects \
	  SKYPE_USERNAME=bot@example.com SKYPE_PASSWORD=local-password API_KEYS=$(API_KEY) \
	  "CHANNELS='{\"general\": \"$(CHANNEL)\"}'" TOKEN_FILE=$(CURDIR)/.tokens-app RUST_LOG=info > target/local.env
	@set -m; \
	target/debug/examples/skype-emulator --port $(EMULATOR_PORT) & emulator=$$!; \
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
	rm -rf $(VENV)
