"""Connection settings, all from the environment with local defaults.

`SR_DB_PREFIX` namespaces every database the project owns, so the test suite
(prefix `test_`) never touches the demo's databases on the same server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from functools import cached_property

SYSTEM_DATABASES = {
    "marketing": "src_marketing",
    "appeals": "src_95598",
    "command": "src_command",
}
PROJECT_DATABASES = ("warehouse", "airflow", "superset")
# The warehouse's roles by duty (service-risk init-db creates them; README "Security"): the loader
# reads the source systems and writes landing and the extraction's bookkeeping in ops; the
# transformer (dbt, the quality gates, publication) reads landing and owns everything dbt builds; the
# closed loop (sheets, their delivery, the feedback form) reads what is published and the units'
# contacts and keeps its own outbox and answers in ops.
DUTIES = ("loader", "transformer", "closed_loop")


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    user: str
    password: str
    db_prefix: str

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            host=os.environ.get("PGHOST", "127.0.0.1"),
            port=int(os.environ.get("PGPORT", "5432")),
            user=os.environ.get("PGUSER", "postgres"),
            password=os.environ.get("PGPASSWORD", ""),
            db_prefix=os.environ.get("SR_DB_PREFIX", ""),
        )

    def database(self, logical_name: str) -> str:
        """Physical name of a database: a system key, a project database, or as given."""
        if logical_name in SYSTEM_DATABASES:
            return self.db_prefix + SYSTEM_DATABASES[logical_name]
        if logical_name in PROJECT_DATABASES:
            return self.db_prefix + logical_name
        return logical_name

    def dsn(self, logical_name: str) -> str:
        parts = [
            f"host={self.host}",
            f"port={self.port}",
            f"user={self.user}",
            f"dbname={self.database(logical_name)}",
        ]
        if self.password:
            parts.append(f"password={self.password}")
        return " ".join(parts)

    def sqlalchemy_url(self, logical_name: str, driver: str = "psycopg2") -> str:
        auth = self.user + (f":{self.password}" if self.password else "")
        return f"postgresql+{driver}://{auth}@{self.host}:{self.port}/{self.database(logical_name)}"

    def as_duty(self, duty: str) -> Settings:
        """The same server as the role of a duty (`SR_<DUTY>_ROLE`, default `<prefix>warehouse_<duty>`),
        with its generated password (`SR_<DUTY>_PASSWORD`, .local/secrets.env)."""
        if duty not in DUTIES:
            raise ValueError(f"unknown duty {duty!r}: one of {', '.join(DUTIES)}")
        password = os.environ.get(f"SR_{duty.upper()}_PASSWORD")
        if not password:
            raise RuntimeError(
                f"SR_{duty.upper()}_PASSWORD is not set: run scripts/secrets.sh and source scripts/env.sh"
            )
        return replace(self, user=duty_role(duty, self.db_prefix), password=password)

    @cached_property
    def source_databases(self) -> dict[str, str]:
        return {system: self.database(system) for system in SYSTEM_DATABASES}


def duty_role(duty: str, db_prefix: str | None = None) -> str:
    """The PostgreSQL role of a duty; prefixed like the databases, so test installs never collide."""
    prefix = os.environ.get("SR_DB_PREFIX", "") if db_prefix is None else db_prefix
    return os.environ.get(f"SR_{duty.upper()}_ROLE") or f"{prefix}warehouse_{duty}"


def get_settings() -> Settings:
    return Settings.from_env()
