"""Simulated time: naive Asia/Shanghai local time as int64 seconds since 1970-01-01.

Plain integers keep the generators vectorised and free of time zones. `NEVER`
(the largest int64) marks an event that does not happen: it compares as later
than any moment, so "has it happened by T" is simply `t <= T`.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np

NEVER = np.iinfo(np.int64).max
DAY = 86_400
HOUR = 3_600
MINUTE = 60
LOCAL_ZONE = ZoneInfo("Asia/Shanghai")
_EPOCH = dt.datetime(1970, 1, 1)


def day_start(day: dt.date) -> int:
    return (day - _EPOCH.date()).days * DAY


def to_datetime(seconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=int(seconds))


def from_datetime(value: dt.datetime | None) -> int:
    if value is None:
        return NEVER
    return int((value - _EPOCH).total_seconds())


def to_date(seconds: int) -> dt.date:
    return to_datetime(seconds).date()


def default_end_date() -> dt.date:
    """Yesterday in Asia/Shanghai: the only use of the wall clock, for a default."""
    return dt.datetime.now(LOCAL_ZONE).date() - dt.timedelta(days=1)


def format_times(seconds: np.ndarray, null: str = "\\N") -> list[str]:
    """COPY text for a time column; NEVER becomes NULL."""
    seconds = np.asarray(seconds, dtype=np.int64)
    missing = seconds == NEVER
    text = np.datetime_as_string(np.where(missing, 0, seconds).astype("datetime64[s]")).astype(object)
    text[missing] = null
    return text.tolist()


def add_working_days(times: np.ndarray, working_days: np.ndarray) -> np.ndarray:
    """Deadline `working_days` working days (Mon-Fri) after each time, same time of day.

    An order accepted at the weekend starts counting on the next Monday. Public
    holidays are not modelled.
    """
    days = (times // DAY).astype("datetime64[D]")
    due = np.busday_offset(days, working_days, roll="forward").astype(np.int64)
    return due * DAY + times % DAY


class DayProfile:
    """When events happen within a day: piecewise-constant hourly weights.

    Sampling inverts the cumulative weight, so a live tick of a few minutes gets
    exactly its share of the day's events and the batch's whole day is just the
    interval [0, 24 h).
    """

    def __init__(self, hourly_weights: tuple[float, ...]):
        weights = np.asarray(hourly_weights, dtype=float)
        self._knots = np.arange(25, dtype=float) * HOUR
        self._cumulative = np.concatenate([[0.0], np.cumsum(weights) / weights.sum()])

    def share(self, start_of_day: int, end_of_day: int) -> float:
        """Share of the day's weight in [start, end), seconds of day."""
        low, high = np.interp([start_of_day, end_of_day], self._knots, self._cumulative)
        return float(high - low)

    def sample(self, rng: np.random.Generator, n: int, start_of_day: int, end_of_day: int) -> np.ndarray:
        """n seconds-of-day in [start, end) distributed by the weights."""
        low, high = np.interp([start_of_day, end_of_day], self._knots, self._cumulative)
        if high <= low:
            return rng.integers(start_of_day, end_of_day, n)
        quantiles = rng.uniform(low, high, n)
        # Flat (zero-weight) hours make the inverse ambiguous; take the right edge of the plateau.
        seconds = np.interp(quantiles, self._cumulative, self._knots, right=end_of_day - 1)
        return np.clip(seconds.astype(np.int64), start_of_day, end_of_day - 1)
