# The two commands README.md promises: `make demo` and `make test`. Both are idempotent.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
LOGS := $(CURDIR)/.cache/logs
PACKAGES := neuro-sdk neuro-cli neuro-platform
export NEURO_TEST_POSTGRES_URL ?= postgresql+asyncpg://neuro:neuro@127.0.0.1:5432/neuro
# Compiled bytecode is kept (in .cache/pycache), even where the environment says not to write
# it: without it every Python process the tests start (each server, each CLI run) compiles
# every module it imports again, 2-6 s here, which made up most of a server's start.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/.cache/pycache
# test-fast is the tests of our own code alone: it leaves out every test that needs an engine
# beside it (dockerd, PostgreSQL, a browser, the original CLI, the Slurm cluster, SeaweedFS,
# docker-registry). Each engine is a marker, declared in the root pyproject.toml (docker by
# testing/pytest_plugin.py, which also sets docker and seaweedfs from the fixtures a test
# uses); a new engine's marker goes here too (tests/test_test_support.py checks).
# `make test` runs everything.
FAST_TESTS := not docker and not postgres and not browser and not interop and not slurm \
	and not seaweedfs and not registry
# Parallel pytest (pytest-xdist). Most tests wait on servers, dockerd or Slurm rather than burn
# CPU, so more workers than cores pays; each test file is one unit (its module-scoped servers
# start once). The Slurm tests run afterwards, alone and one at a time
# (neuro_platform/testing/pytest_plugin.py says why). Four tests at once on two cores get about
# half the CPU each, so the hang guard (pyproject's 120 s) is doubled: the long interop tests (a
# dozen runs of the original CLI) timed out under load. PYTEST_WORKERS=0: one process.
PYTEST_WORKERS ?= 4
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadfile --timeout 240
# test-fast's tests wait on no engine, only on our own servers, so they are CPU-bound: on two
# cores three workers finished sooner than four (69 s against 75 s, then 93 s against 100 s,
# run in turns on a machine shared with other work). FAST_WORKERS=0: one process.
FAST_WORKERS ?= 3

.PHONY: demo test test-fast setup services lint format typecheck docs pytest demo-stop \
	demo-slurm demo-slurm-stop

## Install what is missing, start the platform in the background, log the CLI in as a demo user.
demo: setup services
	@scripts/demo.sh

## Stop the platform the demo started.
demo-stop:
	@scripts/demo.sh stop

## The same demo with PostgreSQL and the jobs on the two-node Slurm test cluster (docs/scale-out.md).
demo-slurm: setup services
	@scripts/demo-slurm.sh

## Stop the platform demo-slurm started (`scripts/slurm-cluster.sh down` stops the cluster).
demo-slurm-stop:
	@scripts/demo-slurm.sh stop

## Install what is missing, start the services the tests need, run every check.
test: setup services lint typecheck docs pytest

## The tests of our own code alone (FAST_TESTS): under a minute on a quiet two-core machine.
test-fast:
	uv run pytest -q -n $(FAST_WORKERS) --dist loadfile --timeout 240 -m "$(FAST_TESTS)" packages

setup:
	@mkdir -p $(LOGS)
	@echo "installing dependencies (log: $(LOGS)/setup.log)"
	@scripts/install-deps.sh >$(LOGS)/setup.log 2>&1 || { tail -n 30 $(LOGS)/setup.log; exit 1; }
	@scripts/setup-interop-venv.sh >>$(LOGS)/setup.log 2>&1 || { tail -n 30 $(LOGS)/setup.log; exit 1; }

services:
	@scripts/start-services.sh
	@if [ -x scripts/build-base-images.sh ]; then \
		echo "building offline job images (log: $(LOGS)/images.log)"; \
		scripts/build-base-images.sh >$(LOGS)/images.log 2>&1 || { tail -n 30 $(LOGS)/images.log; exit 1; }; \
	fi

lint:
	uv run ruff check .
	uv run ruff format --check .

format:
	uv run ruff check --fix .
	uv run ruff format .

typecheck:
	@for package in $(PACKAGES); do \
		echo "mypy --strict packages/$$package"; \
		(cd packages/$$package && uv run mypy --config-file ../../pyproject.toml src tests); \
	done

## The documentation site (docs/ and the SDK reference from its docstrings) into build/site, offline.
## No --quiet: it hides the warnings, and --strict then lets them pass.
docs:
	uv run mkdocs build --strict

## Everything but the Slurm unit in parallel, then the Slurm unit; both run, either failing fails.
pytest:
	@echo "running tests (logs: $(LOGS)/pytest.log, $(LOGS)/pytest-slurm.log)"
	@status=0; \
	uv run pytest $(PYTEST_PARALLEL) --slurm-unit skip --durations=15 packages 2>&1 \
		| tee $(LOGS)/pytest.log || status=1; \
	uv run pytest --timeout 240 --slurm-unit only --durations=15 packages 2>&1 \
		| tee $(LOGS)/pytest-slurm.log || status=1; \
	exit $$status
