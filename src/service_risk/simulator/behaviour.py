"""What drives the volumes on a given day: station trouble, storms, season.

Station trouble is a renewal process on the absolute calendar (anchored on
2000-01-01): each station alternates healthy spells and episodes of ageing
equipment and/or staff shortage that ramp up over days, last weeks and fade
out. Storms hit a city or a few of its counties. From a run's loop start (the
closed loop going live), a station trained on the 1st of a month after a month
of full trouble has the rest of that spell less severe (TrainingProfile).
Everything is a function of (seed, loop start, station position, date), never of
the simulated range or scale, so the batch and live mode, and runs of different
lengths, agree on every day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from service_risk.simulator.geography import CITIES
from service_risk.simulator.hierarchy import World
from service_risk.simulator.profile import SimulationProfile

ANCHOR_DAY = (dt.date(2000, 1, 1) - dt.date(1970, 1, 1)).days
EPISODES_PER_STATION = 400  # enough to cover the anchor plus a century


@dataclass(frozen=True)
class DayConditions:
    day: int  # days since 1970-01-01
    equipment: np.ndarray  # [S] 0..1 severity of ageing equipment
    staffing: np.ndarray  # [S] 0..1 severity of staff shortage
    chronic: np.ndarray  # [S] persistent quality multiplier (~1)
    storm: np.ndarray  # [S] multiplier of fault reports, 1 without storm
    summer: float  # 0..1, 1 at the summer peak
    weekend: bool

    def season(self, extra_at_peak: float) -> float:
        return 1.0 + extra_at_peak * self.summer


class Behaviour:
    def __init__(
        self, world: World, seed: int, profile: SimulationProfile, loop_start: dt.date | None = None
    ):
        self.world, self.seed, self.profile = world, seed, profile
        self.loop_start = None if loop_start is None else (loop_start - dt.date(1970, 1, 1)).days
        trouble = profile.trouble
        n_stations = world.n_stations
        shape = (n_stations, EPISODES_PER_STATION)
        gaps, lengths = np.empty(shape), np.empty(shape)
        kinds, severity = np.empty(shape, np.int64), np.empty(shape)
        self.chronic = np.empty(n_stations)
        for i, uid in enumerate(world.station_uid.tolist()):
            rng = np.random.default_rng([seed, 6, uid])
            gaps[i] = rng.exponential(trouble.mean_healthy_days, EPISODES_PER_STATION)
            lengths[i] = rng.gamma(
                trouble.episode_shape, trouble.mean_episode_days / trouble.episode_shape, EPISODES_PER_STATION
            )
            kinds[i] = rng.choice(3, EPISODES_PER_STATION, p=trouble.kind_shares)
            severity[i] = rng.uniform(*trouble.severity_range, EPISODES_PER_STATION)
            self.chronic[i] = rng.lognormal(0.0, trouble.chronic_sigma)
        lengths = np.maximum(lengths, 5.0)
        self.episode_start = ANCHOR_DAY + np.cumsum(gaps + lengths, axis=1) - lengths
        self.episode_length = lengths
        self.episode_equipment = np.where(kinds != 1, severity, 0.0)
        self.episode_staffing = np.where(kinds != 0, severity, 0.0)
        self.conditions = lru_cache(maxsize=64)(self._conditions)

    def _conditions(self, day: int) -> DayConditions:
        rows = np.arange(self.world.n_stations)
        current = np.maximum((self.episode_start <= day + 0.5).sum(axis=1) - 1, 0)
        start = self.episode_start[rows, current]
        length = self.episode_length[rows, current]
        phase = (day + 0.5 - start) / length
        ramp_share = self.profile.trouble.ramp_share
        ramp = np.clip(np.minimum(phase, 1.0 - phase) / ramp_share, 0.0, 1.0)
        ramp[(phase < 0) | (phase >= 1)] = 0.0
        date = dt.date(1970, 1, 1) + dt.timedelta(days=day)
        ramp = ramp * self._training_factor(date, start, length)
        orders = self.profile.orders
        distance = (date.timetuple().tm_yday - orders.summer_peak_day_of_year) / orders.summer_peak_width_days
        return DayConditions(
            day=day,
            equipment=self.episode_equipment[rows, current] * ramp,
            staffing=self.episode_staffing[rows, current] * ramp,
            chronic=self.chronic,
            storm=self._storm_factor(day),
            summer=float(np.exp(-(distance**2))),
            weekend=date.weekday() >= 5,
        )

    def _training_factor(self, date: dt.date, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """[S] severity factor of the current spell: `severity_factor` once the station was trained
        during it (on a 1st from the loop start, after a month with `plateau_days` of its plateau)."""
        training = self.profile.training
        factor = np.ones(self.world.n_stations)
        if self.loop_start is None:
            return factor
        ramp_share = self.profile.trouble.ramp_share
        plateau_from, plateau_to = start + ramp_share * length, start + (1.0 - ramp_share) * length
        month = date.year * 12 + date.month - 1
        trained = np.zeros(self.world.n_stations, dtype=bool)
        for back in range(training.months_back):
            first = _day_number(month - back)
            if first < self.loop_start:
                break
            month_before = _day_number(month - back - 1)
            plateau_days = np.minimum(plateau_to, first) - np.maximum(plateau_from, month_before)
            trained |= (start < first) & (plateau_days >= training.plateau_days)
        factor[trained] = training.severity_factor
        return factor

    def _storm_factor(self, day: int) -> np.ndarray:
        storms = self.profile.storms
        factor = np.ones(self.world.n_stations)
        for age in range(storms.tail_days + 1):
            for city, counties, intensity in _storms_starting(self.seed, day - age, storms):
                hit = self.world.station_city == city
                if counties is not None:
                    hit &= np.isin(self.world.station_county_in_city, counties)
                factor[hit] += (intensity - 1.0) * storms.decay**age
        return factor


def _day_number(month: int) -> int:
    """Days since 1970-01-01 of the 1st of a month counted as year * 12 + month - 1."""
    return (dt.date(month // 12, month % 12 + 1, 1) - dt.date(1970, 1, 1)).days


def _storms_starting(seed: int, day: int, storms) -> list[tuple[int, np.ndarray | None, float]]:
    """Storms that break out on `day`: (city, counties within the city or None for all, intensity)."""
    rng = np.random.default_rng([seed, 8, day])
    month = (dt.date(1970, 1, 1) + dt.timedelta(days=day)).month
    probability = storms.daily_probability_by_month[month - 1]
    result = []
    for chance in (probability, probability / 3):  # occasionally a second storm the same day
        draws = rng.random(4)
        if draws[0] >= chance:
            continue
        city = int(draws[1] * len(CITIES))
        n_counties = len(CITIES[city][1])
        counties = None
        if draws[2] >= storms.whole_city_share:
            counties = rng.choice(n_counties, size=min(n_counties, int(rng.integers(1, 5))), replace=False)
        low, high = storms.intensity_range
        result.append((city, counties, low + draws[3] * (high - low)))
    return result
