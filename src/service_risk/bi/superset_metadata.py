"""Superset's metadata: migrations, what `superset init` does, the admin with the generated password.

Runs in .venv/superset (it imports Superset): `python -m service_risk.bi.superset_metadata
[re-encrypt-secrets]`, started by `service-risk superset prepare|re-encrypt-secrets`. Imports
nothing of the package but `config`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from service_risk.bi.config import ADMIN_USER, SupersetSettings


def _secrets_migrator(previous_secret_key: str):
    """Superset's SecretsMigrator over the tables its models are declared on. Superset 6.1's own
    looks in `db.metadata`, which holds no table, so `superset re-encrypt-secrets` re-encrypts
    nothing and still reports success."""
    from sqlalchemy_utils import EncryptedType
    from superset.models.core import Database
    from superset.utils.encrypt import SecretsMigrator

    class ModelsSecretsMigrator(SecretsMigrator):
        def discover_encrypted_fields(self) -> dict:
            found: dict = {}
            for name, table in Database.__table__.metadata.tables.items():
                columns = {c.name: c.type for c in table.columns if isinstance(c.type, EncryptedType)}
                if columns:
                    found[name] = columns
            return found

    return ModelsSecretsMigrator(previous_secret_key)


KEY_MISMATCH = (
    "Superset's metadata ({database}: {column}) was encrypted with another SUPERSET_SECRET_KEY than "
    "the one in .local/secrets.env. Either put that key back as SUPERSET_SECRET_KEY; or keep the new "
    "one: add the old one as SUPERSET_PREVIOUS_SECRET_KEY=... to .local/secrets.env, run "
    "`. scripts/env.sh && service-risk superset re-encrypt-secrets`, then remove that line; or, if "
    "nothing in it is worth keeping, drop the database {database} and run the setup again."
)


def check_secret_key() -> None:
    """Stop with what to do when the metadata was encrypted with another SUPERSET_SECRET_KEY
    (a re-run setup against kept metadata), instead of Superset's "Invalid decryption key"."""
    from superset.extensions import db

    migrator = _secrets_migrator("")
    with db.engine.connect() as conn:
        for table, columns in migrator.discover_encrypted_fields().items():
            rows = conn.execute(f"select {', '.join(columns)} from {table}")  # names from the models
            for row in rows:
                for name, encrypted in columns.items():
                    value = migrator._read_bytes(name, row[name])
                    if value is None:
                        continue
                    try:
                        encrypted.process_result_value(value, migrator._dialect)
                    except ValueError:
                        database = db.engine.url.database
                        raise SystemExit(
                            KEY_MISMATCH.format(database=database, column=f"{table}.{name}")
                        ) from None


def re_encrypt_secrets() -> None:
    """Re-encrypt every encrypted column from SUPERSET_PREVIOUS_SECRET_KEY to SUPERSET_SECRET_KEY."""
    from superset.app import create_app

    previous = os.environ.get("SUPERSET_PREVIOUS_SECRET_KEY", "")
    if not previous:
        raise SystemExit("SUPERSET_PREVIOUS_SECRET_KEY is not set: the key the metadata was encrypted with")
    with create_app().app_context():
        migrator = _secrets_migrator(previous)
        columns = sum(len(c) for c in migrator.discover_encrypted_fields().values())
        try:
            migrator.run()
        except ValueError as exc:
            raise SystemExit(f"not encrypted with SUPERSET_PREVIOUS_SECRET_KEY: {exc}") from None
        check_secret_key()
    print(f"re-encrypted {columns} encrypted columns of Superset's metadata with the new key")


def migrate_and_init(settings: SupersetSettings) -> None:
    from flask_migrate import upgrade
    from superset.app import create_app
    from werkzeug.security import generate_password_hash

    import superset

    app = create_app()
    with app.app_context():
        upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
        check_secret_key()
        from superset.extensions import appbuilder

        from superset import security_manager as sm

        # What `superset init` does: permissions for every view, built-in roles synced.
        appbuilder.add_permissions(update_perms=True)
        sm.sync_role_definitions()

        admin_role = sm.find_role("Admin")
        user = sm.find_user(username=ADMIN_USER)
        if user is None:
            sm.add_user(
                ADMIN_USER,
                "平台",
                "管理员",
                "admin@service-risk.invalid",
                [admin_role],
                password=settings.admin_password,
            )
        else:
            # The generated password is the only one that works, even after a reset.
            user.password = generate_password_hash(settings.admin_password)
            user.roles = [admin_role]
            user.active = True
            sm.update_user(user)


if __name__ == "__main__":
    if sys.argv[1:] == ["re-encrypt-secrets"]:
        re_encrypt_secrets()
    else:
        migrate_and_init(SupersetSettings.from_env())
    sys.exit(0)
