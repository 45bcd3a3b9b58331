# classnote — the two commands of the quick start are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo .tools/bin/uv)
CLASSNOTE_HOME ?= ./var
export CLASSNOTE_HOME
# Trust the operating system's certificate store (corporate proxies, custom CAs).
export UV_NATIVE_TLS ?= 1

.PHONY: run test install lint typecheck pytest audit messages clean bench-serving mutation

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

# The whole suite: lint, type checks, tests and the dependency audit.
test: install lint typecheck pytest audit

lint:
	.venv/bin/ruff check src tests bench
	.venv/bin/ruff format --check src tests bench
	.venv/bin/lint-imports --no-cache

typecheck:
	.venv/bin/mypy

# The suite runs on the embedded default (SQLite), then again on PostgreSQL when it is
# reachable (always in CI, where its absence is an error).
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/classnote
pytest:
	.venv/bin/pytest -n 2 $(PYTEST_ARGS)
	@.venv/bin/python -m tests.services postgres; rc=$$?; \
	if [ $$rc -eq 0 ]; then \
	  echo "== the same suite on PostgreSQL =="; \
	  DATABASE_URL=$(PG_TEST_URL) .venv/bin/pytest -n 2 $(PYTEST_ARGS) || exit 1; \
	elif [ $$rc -ne 3 ]; then exit 1; fi

# Known vulnerabilities in the locked dependencies (every group), by pip-audit through PyPI's JSON
# API. Fails on a vulnerable pin or a partial audit; when the service cannot be reached at all it
# prints SKIPPED and passes, unless AUDIT_REQUIRED=true (tests/dependency_audit.py, docs/operations.md).
audit: install
	@$(UV) export --frozen --no-hashes --no-emit-project --format requirements-txt --quiet -o .venv/audit-requirements.txt
	.venv/bin/python -m tests.dependency_audit .venv/audit-requirements.txt

# Refresh the translation catalogs from the source (needs gettext), then translate the new
# entries in src/classnote/locale/*/LC_MESSAGES/django.po and run `make messages` again.
messages: install
	cd src/classnote && CLASSNOTE_HOME=$(abspath $(CLASSNOTE_HOME)) ../../.venv/bin/classnote makemessages \
	  -l ja -l zh_Hant --ignore "*/migrations/*" --no-location
	cd src/classnote && CLASSNOTE_HOME=$(abspath $(CLASSNOTE_HOME)) ../../.venv/bin/classnote compilemessages \
	  -l ja -l zh_Hant

# Mutation testing of the security modules (access rules, audit log, MFA, inventory, erasure, image
# re-encoding, egress) with mutmut, group by group in .mutation/<group>/; not part of `make test`
# (about an hour on two cores). One group: make mutation GROUPS="audit mfa"; MINUTES=10 stops each
# group after 10 minutes (the next run goes on where it stopped). Survivors and why each
# is acceptable: docs/security-checklist.md, "Mutation testing".
GROUPS ?=
mutation: install
	.venv/bin/python -m tests.mutation.run $(if $(MINUTES),--minutes $(MINUTES)) $(GROUPS)

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache .mutation mutants
