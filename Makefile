# Front door: `make demo` runs the main job end to end, `make test` runs the tests.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := . scripts/env.sh &&

DAYS ?= 90
SCALE ?= 1
SEED ?= 42
DIRTY_RATE ?= 0.002

.PHONY: help setup demo simulate extract airflow-up stop test lint bench lock clean

help:
	@echo "make demo   simulate $(DAYS) days at scale $(SCALE), extract through Airflow, serve the UI"
	@echo "make test   the test suite (what CI runs)"
	@echo "make stop   stop the services started by make demo"

setup:  ## environments, secrets, databases, Airflow metadata
	scripts/bootstrap.sh
	scripts/secrets.sh
	$(ENV) service-risk init-db
	$(ENV) airflow db migrate > "$$SR_STATE_DIR/airflow-migrate.log" 2>&1 || { tail -30 "$$SR_STATE_DIR/airflow-migrate.log"; exit 1; }

demo: setup simulate extract airflow-up

simulate:
	$(ENV) service-risk simulate --days $(DAYS) --scale $(SCALE) --seed $(SEED) --dirty-rate $(DIRTY_RATE)

extract:
	$(ENV) scripts/run_dag.sh extract_sources

airflow-up:
	$(ENV) scripts/airflow_up.sh

stop:
	$(ENV) scripts/stop.sh

test: setup
	SR_DB_PREFIX=test_ scripts/run_tests.sh

lint:
	$(ENV) ruff check src dags tests bench && ruff format --check src dags tests bench

bench: setup
	$(ENV) python bench/bench_ingest.py --days $(DAYS) --scale $(SCALE)

lock:  ## re-resolve the pinned environments
	scripts/bootstrap.sh
	.venv/tools/bin/uv pip compile --quiet --python-version 3.11 requirements/airflow.in -o requirements/airflow.lock

clean: stop
	rm -rf .local .venv
