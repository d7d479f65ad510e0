"""Connection settings, all from the environment with local defaults.

`SR_DB_PREFIX` namespaces every database the project owns, so the test suite
(prefix `test_`) never touches the demo's databases on the same server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

SYSTEM_DATABASES = {
    "marketing": "src_marketing",
    "appeals": "src_95598",
    "command": "src_command",
}
PROJECT_DATABASES = ("warehouse", "airflow", "superset")


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

    @cached_property
    def source_databases(self) -> dict[str, str]:
        return {system: self.database(system) for system in SYSTEM_DATABASES}


def get_settings() -> Settings:
    return Settings.from_env()
