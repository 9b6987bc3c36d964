# skype-sender: the two commands a newcomer runs are `make run` and `make test`.
# Every tool they need is installed here, into ./.venv (Python tools) and
# Cargo's own cache: nothing is assumed from an earlier session.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
VENV := $(CURDIR)/.venv
PYTHON := $(VENV)/bin/python
# Python tools, pinned: SkPy is the reference client our tests compare with.
PY_TOOLS := skpy==0.11
EMULATOR_PORT ?= 8790

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

## run: everything locally, no AWS account (completed by the function's issue).
run: emulator

$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check $(PY_TOOLS)
	touch $@

clean:
	cargo clean
	rm -rf $(VENV)
