# Front door: `make demo` runs the main job end to end, `make test` runs the tests.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ENV := . scripts/env.sh &&

DAYS ?= 90
SCALE ?= 1
SEED ?= 42
DIRTY_RATE ?= 0.002
# The day the closed loop goes live in the simulated province (trained stations recover from then on);
# empty: never. The long demo: make demo DAYS=400 SCALE=0.05 LOOP_START=<about 4 months before yesterday>.
LOOP_START ?=
# The day the warehouse's effect views count the loop live from (dbt var closed_loop_live_from): in
# the demo, the simulated loop start. Processes this make starts (the scheduler's dbt runs) inherit it.
export SR_CLOSED_LOOP_LIVE_FROM ?= $(LOOP_START)

.PHONY: help envs setup demo simulate simulator-up closed-loop-up sheets extract risk superset-setup superset-up airflow-up stop test lint bench bench-publish bench-daily-risk bench-charts lock clean deploy-check

help:
	@echo "make demo   simulate $(DAYS) days (after the warm-up) at scale $(SCALE), extract through Airflow, serve the UI"
	@echo "make test   the test suite (what CI runs)"
	@echo "make stop   stop the services started by make demo"
	@echo "make deploy-check   the production stack in docker/: build, run the pipeline on two Celery workers, stop one, tear down"

envs:  ## virtual environments from the lock files, generated secrets
	scripts/bootstrap.sh
	scripts/secrets.sh

setup: envs  ## + the demo's databases, Airflow and Superset metadata
	$(ENV) service-risk init-db
	$(ENV) airflow db migrate > "$$SR_STATE_DIR/airflow-migrate.log" 2>&1 || { tail -30 "$$SR_STATE_DIR/airflow-migrate.log"; exit 1; }
	$(ENV) scripts/superset_setup.sh

demo: setup simulate simulator-up closed-loop-up extract risk sheets superset-up airflow-up

simulate:
	$(ENV) service-risk simulate --days $(DAYS) --with-warm-up --scale $(SCALE) --seed $(SEED) --dirty-rate $(DIRTY_RATE) \
		$(if $(LOOP_START),--loop-start $(LOOP_START))

simulator-up:  ## keep the sources changing on the wall clock (live simulator; make stop ends it)
	$(ENV) scripts/simulator_up.sh

closed-loop-up:  ## the feedback form and the stand-in SMS gateway (make stop ends them)
	$(ENV) scripts/closed_loop_up.sh

sheets:  ## send the published risk report sheets (SMS and e-mail, exactly once) and reminders
	$(ENV) scripts/run_dag.sh send_risk_sheets

extract:
	$(ENV) scripts/run_dag.sh extract_sources

risk:  ## the dbt risk model through Airflow + Cosmos, every day with data up to yesterday
	$(ENV) scripts/run_dag.sh daily_risk

superset-setup:  ## Superset metadata, read-only warehouse role, admin (idempotent)
	$(ENV) scripts/superset_setup.sh

superset-up:  ## start Superset, import the dashboards, roles, RLS and users; print the login
	$(ENV) scripts/superset_up.sh

airflow-up:
	$(ENV) scripts/airflow_up.sh

stop:
	$(ENV) scripts/stop.sh

test: envs  ## the test suite creates its own databases (prefix test_)
	SR_DB_PREFIX=test_ scripts/run_tests.sh

lint:
	$(ENV) ruff check src dags tests bench superset && ruff format --check src dags tests bench superset && sqlfluff lint --config dbt_project/.sqlfluff dbt_project/models

# A year by default; the benchmarks' own databases (prefix bench_), never the demo's.
BENCH_DAYS ?= 365
bench: envs  ## issue 12's benchmarks: ingest, then a year from empty and the daily run on it (one table)
	export SR_DB_PREFIX=bench_ && $(ENV) python bench/bench_ingest.py --days $(DAYS) --scale $(SCALE) \
		&& python bench/bench_year.py --days $(BENCH_DAYS) --scale $(SCALE)

bench-publish:  ## cost of the gated copy into published.* on the demo warehouse (rolled back)
	$(ENV) python bench/bench_publish.py

bench-daily-risk:  ## daily_risk through Airflow (backfill, one day) against a plain dbt build, same data
	$(ENV) python bench/bench_daily_risk.py

bench-charts:  ## p50/p95 of every chart's data query, cache off (Superset must be up)
	$(ENV) python bench/bench_charts.py

# A short history (the script's DAYS=3 SCALE=0.05): make exports DAYS and SCALE only when given.
deploy-check:  ## docker/: build the images, run the stack and the pipeline through Celery workers, stop one mid-run, tear down (not part of make test)
	docker/deploy_check.sh

lock:  ## re-resolve the pinned environments
	scripts/bootstrap.sh
	.venv/tools/bin/uv pip compile --quiet --python-version 3.11 requirements/airflow.in -o requirements/airflow.lock

clean: stop
	rm -rf .local .venv
