"""Create the project's databases and the warehouse's schemas (idempotent)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from service_risk.db import connect, ensure_database
from service_risk.settings import SYSTEM_DATABASES, Settings, get_settings

WAREHOUSE_SCHEMAS = ("landing", "staging", "intermediate", "marts", "ops", "quality", "published")

OPS_DDL = """
create sequence if not exists ops.extract_batch_id_seq;

create table if not exists ops.extract_watermark (
    landing_table text primary key,
    high_water timestamp not null,
    last_batch_id bigint not null,
    updated_at timestamptz not null default now()
);
comment on table ops.extract_watermark is
    'Per landed table: source updated_at up to which every row has been landed.';

create table if not exists ops.extract_batch (
    batch_id bigint primary key,
    landing_table text not null,
    low_water timestamp,
    high_water timestamp not null,
    row_count bigint,
    run_id text,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);
-- Issue 17: the source window read (read_from, high_water] reaches a lag behind the previous
-- watermark (low_water); rows_read counts what was read, row_count the new versions landed.
alter table ops.extract_batch
    add column if not exists read_from timestamp,
    add column if not exists rows_read bigint;
comment on table ops.extract_batch is
    'One row per committed extraction batch: the source updated_at window read (read_from, high_water] '
    '(null read_from: everything up to high_water), the previous watermark low_water, rows read and '
    'new versions landed (row_count = landed rows with this _batch_id).';
"""

QUALITY_DDL = """
create table if not exists quality.validation_result (
    result_id bigserial primary key,
    run_id text not null,
    suite text not null,
    batch text not null,
    expectation text not null,
    column_name text,
    description text,
    blocking boolean not null,
    success boolean not null,
    observed_value text,
    unexpected_count bigint,
    checked_at timestamptz not null default now()
);
comment on table quality.validation_result is
    'One row per expectation per gate run (Great Expectations); blocking failures hold publication.';
create table if not exists quality.publication (
    publication_id bigserial primary key,
    published_through date not null,
    run_id text,
    published_at timestamptz not null default now()
);
alter table quality.publication add column if not exists run_started_at timestamptz;
comment on table quality.publication is
    'Publication pointer, append-only, a row per publication: the latest row''s published_through is the '
    'last day dashboards show; run_started_at is when the run that built it started (what it may have missed '
    'landed later).';
"""


def init_databases(settings: Settings | None = None) -> list[str]:
    """Create every project database and the warehouse schemas; return the names created."""
    settings = settings or get_settings()
    created = [
        settings.database(name)
        for name in (*SYSTEM_DATABASES, "warehouse", "airflow")
        if ensure_database(name, settings)
    ]
    with connect("warehouse", settings) as conn:
        for schema in WAREHOUSE_SCHEMAS:
            conn.execute(f"create schema if not exists {schema}")
        conn.execute(OPS_DDL)
        conn.execute(QUALITY_DDL)  # gate results and the publication pointer
    return created


def redis_problem() -> str | None:
    """Why Redis (Superset's cache and Celery broker) is unreachable, or None."""
    url = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        with socket.create_connection((url.hostname, url.port or 6379), timeout=2):
            return None
    except OSError as exc:
        return (
            f"Redis is not reachable at {url.hostname}:{url.port or 6379} ({exc}); start it with "
            "`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no` "
            "or set REDIS_URL"
        )


def register(subparsers) -> None:
    parser = subparsers.add_parser("init-db", help="create the databases and warehouse schemas")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    created = init_databases()
    print("databases created: " + (", ".join(created) if created else "none (all exist)"))
    if problem := redis_problem():
        print(f"warning: {problem}")
    return 0
