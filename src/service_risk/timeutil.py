"""Source systems keep naive Asia/Shanghai local time; Airflow hands out aware UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


def to_local_naive(moment: datetime) -> datetime:
    """An aware datetime as the sources' naive local time (naive input is taken as local)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None)


def local_now() -> datetime:
    return datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
