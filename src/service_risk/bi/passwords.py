"""Each Superset login's own generated password, kept in SUPERSET_PASSWORDS_FILE (0600, in .local/).

Provisioning generates a password for every login it creates and sets it on each run, so the
file is the source of truth: `service-risk superset password USER` shows one, `--rotate`
replaces it (the next provision sets it in Superset). Nothing prints a password by itself.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from service_risk.bi.config import SupersetError


def passwords_file() -> Path:
    path = os.environ.get("SUPERSET_PASSWORDS_FILE", "")
    if not path:
        raise SupersetError("SUPERSET_PASSWORDS_FILE is not set: source scripts/env.sh")
    return Path(path)


def load_passwords(path: Path | None = None) -> dict[str, str]:
    path = path or passwords_file()
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save(passwords: dict[str, str], path: Path) -> None:
    """Write owner-only whatever the umask, then replace: a reader never sees half a file."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(dict(sorted(passwords.items())), handle, indent=1)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def ensure_passwords(usernames: set[str], path: Path | None = None) -> dict[str, str]:
    """Every username's password, generating the missing ones; return them all."""
    path = path or passwords_file()
    passwords = load_passwords(path)
    missing = sorted(usernames - passwords.keys())
    if missing:
        passwords |= {username: secrets.token_urlsafe(24) for username in missing}
        _save(passwords, path)
        print(
            f"new Superset logins (password in {path}; `service-risk superset password USER`): "
            + ", ".join(missing)
        )
    return passwords


def rotate_password(username: str, path: Path | None = None) -> str:
    """A new password for a login that has one; the next provision sets it in Superset."""
    path = path or passwords_file()
    passwords = load_passwords(path)
    if username not in passwords:
        raise SupersetError(f"no generated password for {username!r} in {path}")
    passwords[username] = secrets.token_urlsafe(24)
    _save(passwords, path)
    return passwords[username]


def password_of(username: str, path: Path | None = None) -> str:
    path = path or passwords_file()
    try:
        return load_passwords(path)[username]
    except KeyError:
        raise SupersetError(
            f"no password for {username!r} in {path}: provision first (`make superset-up`)"
        ) from None
