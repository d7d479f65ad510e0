"""Superset configuration: everything comes from the environment (scripts/env.sh).

No secret has a default: Superset refuses to start without SUPERSET_SECRET_KEY
(scripts/secrets.sh generates it once into .local/secrets.env).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import ClassVar

from celery.schedules import crontab
from superset.tasks.types import ExecutorType


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise RuntimeError(f"{name} is not set: source scripts/env.sh after scripts/secrets.sh")
    return value


SECRET_KEY = _env("SUPERSET_SECRET_KEY")
# Only used if async queries are switched on; never the shipped test default.
GLOBAL_ASYNC_QUERIES_JWT_SECRET = SECRET_KEY
GUEST_TOKEN_JWT_SECRET = SECRET_KEY
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
# The setup and the tests log in a few users in quick succession.
AUTH_RATE_LIMITED = False
RATELIMIT_ENABLED = False

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
