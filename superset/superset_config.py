"""Superset configuration: everything comes from the environment (scripts/env.sh).

No secret has a default: Superset refuses to start without SUPERSET_SECRET_KEY and its three
JWT secrets (scripts/secrets.sh generates them once into .local/secrets.env, all different).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import ClassVar

from celery.schedules import crontab
from flask import request
from flask_appbuilder.security.api import SecurityApi
from flask_appbuilder.security.manager import AUTH_LDAP, AUTH_OAUTH
from flask_appbuilder.utils.limit import Limit
from superset.security import SupersetSecurityManager
from superset.tasks.types import ExecutorType


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set: source scripts/env.sh after scripts/secrets.sh")
    return value


SECRET_KEY = _env("SUPERSET_SECRET_KEY")
# Set only while `scripts/secrets.sh --rotate SUPERSET_SECRET_KEY` re-encrypts the metadata.
PREVIOUS_SECRET_KEY = os.environ.get("SUPERSET_PREVIOUS_SECRET_KEY") or None
# Each token its own key: a leaked guest or async-query key must not sign API logins or sessions.
JWT_SECRET_KEY = _env("SUPERSET_JWT_SECRET_KEY")  # the API's access tokens (flask-jwt-extended)
GUEST_TOKEN_JWT_SECRET = _env("SUPERSET_GUEST_TOKEN_JWT_SECRET")
GLOBAL_ASYNC_QUERIES_JWT_SECRET = _env("SUPERSET_ASYNC_QUERIES_JWT_SECRET")
_keys = [SECRET_KEY, JWT_SECRET_KEY, GUEST_TOKEN_JWT_SECRET, GLOBAL_ASYNC_QUERIES_JWT_SECRET]
if len(set(_keys)) != len(_keys):
    raise RuntimeError("Superset's secret key and JWT secrets must differ: run scripts/secrets.sh --rotate")
SQLALCHEMY_DATABASE_URI = _env("SUPERSET_DATABASE_URI")
DATA_DIR = os.environ.get("SUPERSET_HOME", os.path.expanduser("~/.superset"))

# Demo and test instances share one Redis: keys and queues carry the DB prefix.
_prefix = os.environ.get("SR_DB_PREFIX", "") or "demo_"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _redis_cache(name: str, timeout: timedelta) -> dict:
    return {
        "CACHE_TYPE": "RedisCache",
        "CACHE_REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": f"superset_{_prefix}{name}_",
        "CACHE_DEFAULT_TIMEOUT": int(timeout.total_seconds()),
    }


CACHE_CONFIG = _redis_cache("meta", timedelta(days=1))
# Chart data: the marts are rebuilt once a day, so an hour of caching is safe; the
# bench and the tests pass force=true to measure and check the database itself.
DATA_CACHE_CONFIG = _redis_cache("data", timedelta(hours=1))
FILTER_STATE_CACHE_CONFIG = {
    **_redis_cache("filter", timedelta(days=90)),
    "REFRESH_TIMEOUT_ON_RETRIEVAL": True,
}
EXPLORE_FORM_DATA_CACHE_CONFIG = {
    **_redis_cache("explore", timedelta(days=7)),
    "REFRESH_TIMEOUT_ON_RETRIEVAL": True,
}


class CeleryConfig:
    broker_url = REDIS_URL
    result_backend = REDIS_URL
    task_default_queue = f"superset_{_prefix}celery"
    imports = (
        "superset.sql_lab",
        "superset.tasks.scheduler",
        "superset.tasks.thumbnails",
        "superset.tasks.cache",
    )
    worker_prefetch_multiplier = 1
    task_acks_late = False
    beat_schedule: ClassVar[dict] = {
        "reports.scheduler": {"task": "reports.scheduler", "schedule": crontab(minute="*", hour="*")},
        "reports.prune_log": {"task": "reports.prune_log", "schedule": crontab(minute=0, hour=0)},
    }


CELERY_CONFIG = CeleryConfig

# Chinese first (the BI users' language), English available from the menu.
BABEL_DEFAULT_LOCALE = "zh"
LANGUAGES = {
    "zh": {"flag": "cn", "name": "简体中文"},
    "en": {"flag": "us", "name": "English"},
}
APP_NAME = "供电服务风险看板"

FEATURE_FLAGS = {
    "DASHBOARD_NATIVE_FILTERS": True,
    "DASHBOARD_CROSS_FILTERS": True,
    # Jinja in virtual datasets would let anyone who edits SQL read across the RLS
    # boundary; the datasets here do not need it.
    "ENABLE_TEMPLATE_PROCESSING": False,
    # Scheduled e-mail reports and alerts (issue 6, superset/subscriptions.yaml).
    "ALERT_REPORTS": True,
    "ALERTS_ATTACH_REPORTS": True,
}

# The API is used by the setup script and tests with a JWT plus CSRF token; keep CSRF on.
WTF_CSRF_ENABLED = True
# Local HTTP only: no HTTPS redirect. The content security policy is Superset's default less every
# public host it allows (issue 18: the intranet has no internet): the telemetry pixel, which the
# prebuilt frontend renders whatever SCARF_ANALYTICS says, map tiles and web fonts. So a browser
# opening a dashboard, or the report worker's, asks this server only.
TALISMAN_ENABLED = True
SESSION_COOKIE_SECURE = False
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
# Sessions end: the browser's after SUPERSET_SESSION_HOURS (default a working day), API
# tokens after 15 minutes (flask-jwt-extended's default, kept).
PERMANENT_SESSION_LIFETIME = timedelta(hours=float(os.environ.get("SUPERSET_SESSION_HOURS", "10")))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Login rate limiting, counted in Redis so the web workers share it (keys carry the prefix).
# The login form: AUTH_RATE_LIMIT per client address. The API login (/api/v1/security/login):
# failed attempts per address and username, so a script that mistypes one password is stopped
# without locking out the provisioning's many correct logins. Behind a reverse proxy set
# ENABLE_PROXY_FIX, or every user shares the proxy's address.
RATELIMIT_ENABLED = True
RATELIMIT_STORAGE_URI = REDIS_URL
RATELIMIT_KEY_PREFIX = f"superset_{_prefix}ratelimit"
RATELIMIT_APPLICATION = os.environ.get("SUPERSET_RATE_LIMIT", "50 per second")
AUTH_RATE_LIMITED = True
AUTH_RATE_LIMIT = os.environ.get("SUPERSET_LOGIN_RATE_LIMIT", "10 per minute")
API_LOGIN_FAILURE_LIMIT = os.environ.get("SUPERSET_API_LOGIN_FAILURE_LIMIT", "5 per 5 minutes")


def _login_key() -> str:
    from flask import request

    body = request.get_json(silent=True) or {}
    return f"{request.remote_addr}/{body.get('username', '') if isinstance(body, dict) else ''}"


class _LimitedSecurityApi(SecurityApi):
    limits: ClassVar[list] = [
        Limit(
            API_LOGIN_FAILURE_LIMIT,
            key_func=_login_key,
            methods=("POST",),
            exempt_when=lambda: not request.path.endswith("/login"),
            deduct_when=lambda response: response.status_code != 200,
        )
    ]


class _SecurityManager(SupersetSecurityManager):
    security_api = _LimitedSecurityApi


CUSTOM_SECURITY_MANAGER = _SecurityManager

# Company sign-in instead of Superset's own passwords (README "Security"): SUPERSET_AUTH=ldap or
# oauth. Users then sign in with their staff id: the managers' logins provisioned from the unit
# contacts (username = staff id) keep their roles; other people get SUPERSET_AUTH_DEFAULT_ROLE
# (dashboards, no data) until given a region role. The admin and region logins that provisioning
# and reports use keep their generated passwords through the API (provider "db").
_auth = os.environ.get("SUPERSET_AUTH", "db")
if _auth in ("ldap", "oauth"):
    AUTH_USER_REGISTRATION = True
    AUTH_USER_REGISTRATION_ROLE = os.environ.get("SUPERSET_AUTH_DEFAULT_ROLE", "sr_viewer")
    AUTH_ROLES_SYNC_AT_LOGIN = False  # roles come from provisioning, not from the directory
if _auth == "ldap":
    AUTH_TYPE = AUTH_LDAP
    AUTH_LDAP_SERVER = _env("SUPERSET_LDAP_SERVER")  # e.g. ldaps://ldap.company.internal:636
    AUTH_LDAP_SEARCH = _env("SUPERSET_LDAP_SEARCH")  # e.g. ou=staff,dc=company,dc=internal
    AUTH_LDAP_UID_FIELD = os.environ.get("SUPERSET_LDAP_UID_FIELD", "employeeNumber")  # = staff id
    AUTH_LDAP_BIND_USER = os.environ.get("SUPERSET_LDAP_BIND_USER", "")
    AUTH_LDAP_BIND_PASSWORD = os.environ.get("SUPERSET_LDAP_BIND_PASSWORD", "")
    AUTH_LDAP_FIRSTNAME_FIELD = os.environ.get("SUPERSET_LDAP_FIRSTNAME_FIELD", "displayName")
    AUTH_LDAP_EMAIL_FIELD = os.environ.get("SUPERSET_LDAP_EMAIL_FIELD", "mail")
elif _auth == "oauth":
    AUTH_TYPE = AUTH_OAUTH
    OAUTH_PROVIDERS = [
        {
            "name": os.environ.get("SUPERSET_OAUTH_NAME", "company"),
            "icon": "fa-key",
            "token_key": "access_token",
            "remote_app": {
                "client_id": _env("SUPERSET_OAUTH_CLIENT_ID"),
                "client_secret": _env("SUPERSET_OAUTH_CLIENT_SECRET"),
                # OpenID Connect discovery, e.g. https://sso.company.internal/.well-known/openid-configuration
                "server_metadata_url": _env("SUPERSET_OAUTH_METADATA_URL"),
                "client_kwargs": {"scope": "openid profile email"},
            },
        }
    ]
elif _auth != "db":
    raise RuntimeError(f"SUPERSET_AUTH={_auth!r}: use db, ldap or oauth")

# Nobody but the setup may add database connections, and only to PostgreSQL.
PREVENT_UNSAFE_DB_CONNECTIONS = True
SQLLAB_CTAS_NO_LIMIT = False
ROW_LIMIT = 50000
SUPERSET_WEBSERVER_TIMEOUT = 120

# Report and thumbnail screenshots use Debian's chromium + chromedriver (no download).
WEBDRIVER_TYPE = "chrome"
WEBDRIVER_OPTION_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
WEBDRIVER_CONFIGURATION = {"service": {"executable_path": "/usr/bin/chromedriver"}}
WEBDRIVER_BASEURL = f"http://127.0.0.1:{os.environ.get('SUPERSET_PORT', '8088')}/"
WEBDRIVER_BASEURL_USER_FRIENDLY = WEBDRIVER_BASEURL

# --- Alerts & Reports (issue 6) -------------------------------------------------------
# A report renders as its creator if that user owns it (subscriptions.py creates each
# region's report as that region's user, and managers subscribe themselves), so RLS limits
# it to the region; otherwise as an owner. Never a fixed all-seeing user.
ALERT_REPORTS_EXECUTORS = [ExecutorType.CREATOR_OWNER, ExecutorType.OWNER]
ALERT_REPORTS_NOTIFICATION_DRY_RUN = False
EMAIL_NOTIFICATIONS = True
EMAIL_REPORTS_SUBJECT_PREFIX = "[风险看板]"
EMAIL_REPORTS_CTA = "在看板中打开"
# Worker is killed after a report's working timeout plus this lag (chromium can hang).
ALERT_REPORTS_WORKING_TIME_OUT_KILL = True

# Mail: plain SMTP from the environment (scripts/env.sh); login only if a user is set.
SMTP_HOST = os.environ.get("SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("SMTP_PORT", "25"))
SMTP_MAIL_FROM = os.environ.get("SMTP_FROM", "superset@service-risk.invalid")
SMTP_USER = os.environ.get("SMTP_USER") or None
SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD") or None
# Same spelling as the data-quality mailer (src/service_risk/quality/alert.py).
SMTP_STARTTLS = os.environ.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes")
SMTP_SSL = os.environ.get("SMTP_SSL", "").lower() in ("1", "true", "yes")
