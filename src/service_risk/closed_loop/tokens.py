"""Signed, expiring links to the closed loop's forms (no login for the units): an episode's feedback
form and a training plan's completion form. Each form signs with its own salt, so a link to one
never opens the other."""

from __future__ import annotations

import os

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

FEEDBACK_SALT = "episode-feedback"
TRAINING_SALT = "training-completion"


class InvalidToken(ValueError):
    """The link was altered, signed with another key, or has expired (`expired` says which)."""

    def __init__(self, message: str, expired: bool = False) -> None:
        super().__init__(message)
        self.expired = expired


def _serializer(salt: str) -> URLSafeTimedSerializer:
    secret = os.environ.get("FEEDBACK_TOKEN_SECRET")
    if not secret:
        raise RuntimeError("FEEDBACK_TOKEN_SECRET is not set (scripts/secrets.sh generates it)")
    return URLSafeTimedSerializer(secret, salt=salt)


def max_age_seconds() -> int:
    return int(float(os.environ.get("FEEDBACK_TOKEN_MAX_AGE_DAYS", "30")) * 86400)


def _payload(token: str, salt: str, max_age: int | None) -> dict:
    try:
        return _serializer(salt).loads(token, max_age=max_age_seconds() if max_age is None else max_age)
    except SignatureExpired as exc:
        raise InvalidToken("link expired", expired=True) from exc
    except BadSignature as exc:
        raise InvalidToken("link not valid") from exc


def _base_url() -> str:
    return os.environ.get("FEEDBACK_BASE_URL", "http://127.0.0.1:8090").rstrip("/")


def episode_token(episode_id: str) -> str:
    return _serializer(FEEDBACK_SALT).dumps({"episode_id": episode_id})


def episode_of(token: str, max_age: int | None = None) -> str:
    """The episode a token was issued for; InvalidToken when tampered with or expired."""
    return _payload(token, FEEDBACK_SALT, max_age)["episode_id"]


def feedback_url(episode_id: str) -> str:
    return f"{_base_url()}/feedback/{episode_token(episode_id)}"


def training_plan_token(training_plan_id: str) -> str:
    return _serializer(TRAINING_SALT).dumps({"training_plan_id": training_plan_id})


def training_plan_of(token: str, max_age: int | None = None) -> str:
    """The training plan a token was issued for; InvalidToken when tampered with or expired."""
    return _payload(token, TRAINING_SALT, max_age)["training_plan_id"]


def training_url(training_plan_id: str) -> str:
    return f"{_base_url()}/training/{training_plan_token(training_plan_id)}"
