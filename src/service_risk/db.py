"""Small PostgreSQL helpers shared by the simulator, extraction and setup."""

from __future__ import annotations

import psycopg
from psycopg import sql

from service_risk.settings import Settings, get_settings


class DatabaseUnavailable(RuntimeError):
    """PostgreSQL is not reachable with the configured settings."""


def connect(
    logical_name: str, settings: Settings | None = None, duty: str | None = None, **kwargs
) -> psycopg.Connection:
    """A connection to a project database, as the role of `duty` (settings.DUTIES) or, without one,
    as the configured user (the superuser that sets up databases and roles; tests)."""
    settings = settings or get_settings()
    if duty:
        settings = settings.as_duty(duty)
    try:
        return psycopg.connect(settings.dsn(logical_name), **kwargs)
    except psycopg.OperationalError as exc:
        if "permission denied" in str(exc):
            raise DatabaseUnavailable(
                f"{settings.user} may not connect to database {settings.database(logical_name)}: {exc}"
            ) from exc
        if "does not exist" in str(exc):
            raise DatabaseUnavailable(
                f"database {settings.database(logical_name)} does not exist: run `make setup` "
                "(or `service-risk init-db`)"
            ) from exc
        raise DatabaseUnavailable(
            f"cannot reach PostgreSQL at {settings.host}:{settings.port} as {settings.user} "
            f"(database {settings.database(logical_name)}): {exc}. Start it with "
            "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`, "
            "or point PGHOST/PGPORT/PGUSER/PGPASSWORD at a running server."
        ) from exc


def ensure_database(logical_name: str, settings: Settings | None = None) -> bool:
    """Create the database if missing; True when it was created."""
    settings = settings or get_settings()
    name = settings.database(logical_name)
    with connect("postgres", settings, autocommit=True) as conn:
        if conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            return False
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return True


def drop_database(logical_name: str, settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    name = settings.database(logical_name)
    with connect("postgres", settings, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
