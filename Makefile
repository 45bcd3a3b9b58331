# classnote — the two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
CLASSNOTE_HOME ?= ./var
export CLASSNOTE_HOME

.PHONY: run test install lint typecheck pytest messages clean bench-serving

# uv is bootstrapped into .tools/ with pip when it is not on PATH.
.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

install: .venv/.synced

# Serve the whole product on the embedded default (SQLite, local files,
# in-process realtime and jobs); demo data is loaded on the first start.
run: install
	.venv/bin/classnote serve --demo

# The whole suite: lint, type checks and tests.
test: install lint typecheck pytest

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench

typecheck:
	.venv/bin/mypy

pytest:
	.venv/bin/pytest -n 2 $(PYTEST_ARGS)

# Recompile translations after editing a .po file.
messages: install
	.venv/bin/classnote compilemessages_pure

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache
