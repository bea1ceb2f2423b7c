# acdscope: `make demo` runs the embedded default, `make test` runs lint, types and every test on real servers.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .local/uvenv/bin/uv
PY := .venv/bin/python

.PHONY: help install demo lint test test-unit test-integration servers-start servers-stop bench fuzz clean chromium

help:
	@echo "make demo   - install, then run the embedded demo (no servers)"
	@echo "make test   - install, lint, type-check, start local Kafka + ClickHouse endpoint, run all tests, stop them"

$(UV):
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "acdscope needs Python >= 3.11"'
	$(PYTHON) -m venv .local/uvenv
	.local/uvenv/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# uv.lock pins every package; --frozen refuses to resolve anew, so a fresh machine gets the same versions.
.venv/.installed: $(UV) pyproject.toml uv.lock
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --compile-bytecode --python $(PYTHON)
	touch $@

install: .venv/.installed

demo: install
	$(PY) -m acdscope.cli demo

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

test-unit: install
	$(PY) -m pytest tests/unit

servers-start: install
	$(PY) -m infra.stack start

servers-stop:
	@if [ -x $(PY) ]; then $(PY) -m infra.stack stop; fi

# The dashboard page is tested in Debian's Chromium (driven by Playwright); install it when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# The servers are stopped whatever pytest's outcome; pytest's own exit code (5 = no tests) is passed through.
test: lint chromium
	$(PY) -m infra.stack start
	status=0; $(PY) -m pytest tests --durations=30 || status=$$?; $(PY) -m infra.stack stop; exit $$status

bench: install
	$(PY) -m bench

# Coverage-guided fuzzing of the decoders, feed adapters and pipeline for FUZZ_SECONDS (make test runs a short,
# fixed-seed round of it); a finding stops it with the exception and the input, written under .local/fuzz/.
FUZZ_SECONDS ?= 600
fuzz: install
	mkdir -p .local/fuzz
	$(PY) -m tests.fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=16384 -artifact_prefix=.local/fuzz/

clean: servers-stop
	rm -rf .local/kafka/data .local/chdb-data .local/demo-chdb .local/faust
