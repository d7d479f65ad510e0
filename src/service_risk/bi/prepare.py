"""Before the server starts: metadata database, read-only warehouse role, then Superset's own
metadata step (migrations, `superset init`, admin) in Superset's environment."""

from __future__ import annotations

import subprocess
import sys
import time

from psycopg import sql

from service_risk.bi.config import SupersetError, SupersetSettings
from service_risk.db import connect, ensure_database
from service_risk.published_labels import BI_SCHEMAS
from service_risk.settings import duty_role
from service_risk.setup_db import ensure_bi_reader_role, own_metadata_database

BI_HIDDEN_TABLES = ("quality.validation_result",)


def ensure_reader_role(settings: SupersetSettings) -> list[str]:
    """Give the read-only role Superset uses its login; return the schemas it can read.

    What it reads is granted by their owners alone: the schemas by `service-risk init-db`, every
    table by dbt (`grants:` of the folders BI reads). Here, anything else is taken back on every
    run: default privileges of earlier versions, and any other schema or table someone granted by
    hand.
    """
    role = sql.Identifier(settings.reader_role)
    with connect("warehouse", settings.db, autocommit=True) as conn:
        ensure_bi_reader_role(conn, settings.reader_role)
        conn.execute(
            sql.SQL(
                "alter role {} with login nosuperuser nocreatedb nocreaterole noreplication "
                "nobypassrls password {}"
            ).format(role, sql.Literal(settings.reader_password))
        )
        # Read-only at the session level too, and no runaway BI query.
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(role))
        conn.execute(sql.SQL("alter role {} set statement_timeout = '60s'").format(role))
        existing = sorted(
            row[0]
            for row in conn.execute(
                "select nspname from pg_namespace where nspname not like 'pg\\_%' "
                "and nspname <> 'information_schema'"
            )
        )
        creators = [sql.SQL("current_user"), sql.Identifier(duty_role("transformer", settings.db.db_prefix))]
        for schema in existing:
            s = sql.Identifier(schema)
            for creator in creators:
                conn.execute(
                    sql.SQL(
                        "alter default privileges for role {} in schema {} revoke all on tables from {}"
                    ).format(creator, s, role)
                )
            if schema not in BI_SCHEMAS:
                conn.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, role))
                conn.execute(sql.SQL("revoke all on schema {} from {}").format(s, role))
        # The gates' raw results keep observed values, which can carry source data: BI reads the
        # quality views dbt builds over them (a view runs with its owner's rights).
        for table in BI_HIDDEN_TABLES:
            if conn.execute("select to_regclass(%s)", (table,)).fetchone()[0]:
                conn.execute(sql.SQL("revoke all on {} from {}").format(sql.SQL(table), role))
    return [schema for schema in existing if schema in BI_SCHEMAS]


def prepare(settings: SupersetSettings) -> None:
    started = time.monotonic()
    if ensure_database("superset", settings.db):
        print(f"created database {settings.db.database('superset')}")
    print(f"metadata database owned by and used through {own_metadata_database('superset', settings.db)}")
    readable = ensure_reader_role(settings)
    print(f"warehouse role {settings.reader_role} reads schemas: {', '.join(readable) or 'none yet'}")
    settings.home.mkdir(parents=True, exist_ok=True)
    run_in_superset(settings)
    print(f"Superset metadata ready in {time.monotonic() - started:.1f} s")


def run_in_superset(settings: SupersetSettings, *args: str) -> None:
    """`python -m service_risk.bi.superset_metadata [args]` in Superset's own environment (it
    imports Superset: SQLAlchemy 1.x, beside Airflow's 2.x); its message, not a traceback, on failure."""
    if not settings.python.exists():
        raise SupersetError(f"{settings.python} is missing: run `make envs` (scripts/bootstrap.sh)")
    sys.stdout.flush()  # our lines before the step's in a log
    step = subprocess.run([str(settings.python), "-m", "service_risk.bi.superset_metadata", *args])
    if step.returncode != 0:
        raise SupersetError(f"Superset's metadata step {' '.join(args) or 'migrate'} failed (above)")
