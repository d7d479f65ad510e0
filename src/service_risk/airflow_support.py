"""Glue between Airflow and the package: connections, settings."""

from __future__ import annotations

from psycopg.conninfo import make_conninfo

# Airflow connection id per project database (set as AIRFLOW_CONN_* by scripts/env.sh).
CONNECTION_IDS = {
    "marketing": "sr_src_marketing",
    "appeals": "sr_src_appeals",
    "command": "sr_src_command",
    "warehouse": "sr_warehouse",
}


def dsn_from_connection(logical_name: str) -> str:
    from airflow.sdk import Connection

    conn = Connection.get(CONNECTION_IDS[logical_name])
    params = {"host": conn.host, "port": conn.port, "user": conn.login, "dbname": conn.schema}
    if conn.password:
        params["password"] = conn.password
    return make_conninfo(**{k: v for k, v in params.items() if v not in (None, "")})
