"""Signed, expiring links to an episode's feedback form (no login for the station)."""

from __future__ import annotations

import os

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SALT = "episode-feedback"


class InvalidToken(ValueError):
    """The link was altered, signed with another key, or has expired (`expired` says which)."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _serializer() -> URLSafeTimedSerializer:
    secret = os.environ.get("FEEDBACK_TOKEN_SECRET")
    if not secret:
        raise RuntimeError("FEEDBACK_TOKEN_SECRET is not set (scripts/secrets.sh generates it)")
    return URLSafeTimedSerializer(secret, salt=SALT)


def max_age_seconds() -> int:
    return int(float(os.environ.get("FEEDBACK_TOKEN_MAX_AGE_DAYS", "30")) * 86400)


def episode_token(episode_id: str) -> str:
    return _serializer().dumps({"episode_id": episode_id})


def episode_of(token: str, max_age: int | None = None) -> str:
    """The episode a token was issued for; InvalidToken when tampered with or expired."""
    try:
        payload = _serializer().loads(token, max_age=max_age_seconds() if max_age is None else max_age)
    except SignatureExpired as exc:
        raise InvalidToken("link expired", expired=True) from exc
    except BadSignature as exc:
        raise InvalidToken("link not valid") from exc
    return payload["episode_id"]


def feedback_url(episode_id: str) -> str:
    base = os.environ.get("FEEDBACK_BASE_URL", "http://127.0.0.1:8090").rstrip("/")
    return f"{base}/feedback/{episode_token(episode_id)}"
