"""Master data of the marketing system: org units, transformer areas, customers, teams, staff.

Pure Python/numpy (no database), so tests can check the hierarchy instantly.
Every station draws its attributes from its own generator keyed by its
position in the full scale-1 hierarchy, so a station looks the same at every
scale; scale only decides which stations exist.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from service_risk.simulator import fake
from service_risk.simulator.clock import DAY
from service_risk.simulator.geography import CITIES, PROVINCE, county_company_name
from service_risk.simulator.profile import (
    AREA_TYPES,
    CONTACT_ROLES,
    CUSTOMER_TYPES,
    TEAM_TYPES,
    HierarchyProfile,
)

MAX_STATIONS_PER_COUNTY = 89  # station numbers 90-99 stay free for unknown-station dirty rows
TEAM_SUFFIX = {"repair": "QX", "business": "YY", "area_manager": "TQ"}
TEAM_NAME = {"repair": "抢修班", "business": "营业班", "area_manager": "台区经理班"}
TEAM_POSITION = {"repair": "抢修工", "business": "营业员", "area_manager": "台区经理"}
LEADER_POSITION = {
    "province": ("营销副总经理", "营销部主任"),
    "city": ("分管副总经理", "营销部主任"),
    "county": ("分管副总经理", "营销部主任"),
    "station": ("所长", "营销专责"),
}
Frame = dict[str, np.ndarray]


def _stream(seed: int, purpose: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, purpose, *key])


@dataclass
class World:
    """The hierarchy at one scale: arrays for the generators, frames for the tables."""

    seed: int
    scale: float
    station_code: np.ndarray  # [S] object
    station_uid: np.ndarray  # [S] position in the full hierarchy: city*10000 + county*100 + station
    station_city: np.ndarray  # [S] 0..15
    station_county: np.ndarray  # [S] global county index 0..135
    station_county_in_city: np.ndarray  # [S]
    area_type: np.ndarray  # [S] index into AREA_TYPES
    customers: np.ndarray  # [S]
    ta_start: np.ndarray  # [S] first transformer area of the station (areas are grouped by station)
    ta_count: np.ndarray
    ta_code: np.ndarray  # [A] object
    ta_customers: np.ndarray  # [A]
    ta_feeder: np.ndarray  # [A] global feeder index
    ta_weak_rank: np.ndarray  # [A] order in which the station's areas turn weak when equipment ages
    feeder_start: np.ndarray  # [F] first area of the feeder (areas of a feeder are contiguous)
    feeder_count: np.ndarray
    feeder_name: np.ndarray  # [F] object
    feeder_station: np.ndarray  # [F]
    pool_start: np.ndarray  # [S] first fake customer of the station
    pool_count: np.ndarray
    customer_no: np.ndarray  # [C] object
    customer_mobile: np.ndarray
    customer_address: np.ndarray
    customer_ta: np.ndarray  # [C] index into the area arrays
    team_code: np.ndarray  # [S, 3] object, columns in TEAM_TYPES order
    team_staff_start: np.ndarray  # [S, 3] into staff_id
    team_staff_count: np.ndarray
    staff_id: np.ndarray  # [E] object
    tables: dict[str, Frame]  # the six marketing tables, columns as in the schema

    @property
    def n_stations(self) -> int:
        return len(self.station_code)


def station_counts(seed: int, scale: float, profile: HierarchyProfile) -> list[list[int]]:
    """Stations per county (per city), `about nominal_stations * scale` in total.

    Below scale 1 every city keeps at least one county and every county at least one
    station; above it counties get proportionally more stations.
    """
    full = []
    for city_index, (_, counties) in enumerate(CITIES):
        per_county = []
        for county_index in range(len(counties)):
            u = _stream(seed, 0, city_index, county_index).random()
            per_county.append(9 + int(u < profile.ten_station_county_share))
        full.append(per_county)
    if scale >= 1:
        return [[min(MAX_STATIONS_PER_COUNTY, round(n * scale)) for n in city] for city in full]
    kept = [city[: max(1, math.floor(len(city) * scale + 0.5))] for city in full]
    budget = max(sum(len(city) for city in kept), round(profile.nominal_stations * scale))
    weights = np.array([n for city in kept for n in city], dtype=float)
    exact = weights / weights.sum() * budget
    alloc = np.maximum(1, np.floor(exact)).astype(int)
    remainder = budget - alloc.sum()
    if remainder > 0:  # largest remainder, ties to the earlier county
        order = np.argsort(-(exact - np.floor(exact)), kind="stable")
        alloc[order[:remainder]] += 1
    alloc = np.minimum(alloc, weights.astype(int))
    counts, position = [], 0
    for city in kept:
        counts.append(alloc[position : position + len(city)].tolist())
        position += len(city)
    return counts


def build_world(seed: int, scale: float, as_of: int, profile: HierarchyProfile | None = None) -> World:
    """The hierarchy for `scale`; `as_of` (start of the simulated period) dates the master rows."""
    builder = _WorldBuilder(seed, profile or HierarchyProfile(), as_of)
    for city_index, per_county in enumerate(station_counts(seed, scale, builder.profile)):
        builder.add_city(city_index, per_county)
    return builder.world(scale)


class _WorldBuilder:
    def __init__(self, seed: int, profile: HierarchyProfile, as_of: int):
        self.seed, self.profile, self.as_of = seed, profile, as_of
        self.stamp_rng = _stream(seed, 3)
        full = [
            (c, j, k)
            for c, per_county in enumerate(station_counts(seed, 1.0, profile))
            for j, n in enumerate(per_county)
            for k in range(n)
        ]
        sizes = [self._station_size(*position)[1] for position in full]
        self.size_factor = profile.province_customers / sum(sizes)
        rounded = [max(1000, round(size * self.size_factor)) for size in sizes]
        # The first station absorbs the rounding so that scale 1 has exactly province_customers.
        self.rounding_fix = profile.province_customers - sum(rounded)
        self.average_station = profile.province_customers / len(full)
        self.org = _Rows(
            "org_code", "org_name", "org_level", "parent_code", "area_type", "customer_count", "updated_at"
        )
        self.tas = _Rows("ta_code", "ta_name", "station_code", "customer_count", "updated_at")
        self.customers = _Rows(
            "customer_no",
            "customer_name",
            "mobile",
            "address",
            "station_code",
            "ta_code",
            "customer_type",
            "created_at",
            "updated_at",
        )
        self.teams = _Rows("team_code", "team_name", "station_code", "team_type", "updated_at")
        self.staff = _Rows(
            "staff_id", "staff_name", "org_code", "team_code", "position", "mobile", "email", "updated_at"
        )
        self.contacts = _Rows("org_code", "role", "staff_id", "updated_at")
        self.arrays: dict[str, list] = defaultdict(list)
        self.global_county = 0
        province_code, province_name = PROVINCE
        self.org.add(province_code, province_name, "province", None, None, None, self._stamp())
        self._add_leaders(province_code, "province", _stream(seed, 4, 0))

    def _station_size(self, city_index: int, county_index: int, k: int) -> tuple[int, float]:
        """Area type and un-normalised customer count of one station."""
        profile = self.profile
        rng = _stream(self.seed, 1, city_index * 10000 + county_index * 100 + k)
        u_area, z = rng.random(), rng.standard_normal()
        is_district = CITIES[city_index][1][county_index].endswith("区")
        urban_p = profile.urban_share[0 if is_district else 1]
        remote_p = profile.remote_share[0 if is_district else 1]
        area = 0 if u_area < urban_p else 2 if u_area < urban_p + remote_p else 1
        return area, profile.relative_customers[AREA_TYPES[area]] * math.exp(
            profile.customer_spread_sigma * z
        )

    def _stamp(self) -> int:
        """A master-data change some time before the simulated period."""
        return self.as_of - int(self.stamp_rng.integers(30 * DAY, 900 * DAY))

    def _add_leaders(self, org_code: str, level: str, rng: np.random.Generator) -> None:
        leader_names = fake.names(rng, 2)
        leader_mobiles = fake.mobiles(rng, 2)
        for role_index, role in enumerate(CONTACT_ROLES):
            staff_id = f"E{len(self.staff) + 1:07d}"
            changed = self._stamp()
            self.staff.add(
                staff_id,
                leader_names[role_index],
                org_code,
                None,
                LEADER_POSITION[level][role_index],
                leader_mobiles[role_index],
                f"{staff_id.lower()}@example.com",
                changed,
            )
            self.contacts.add(org_code, role, staff_id, changed)

    def add_city(self, city_index: int, stations_per_county: list[int]) -> None:
        city_name, counties = CITIES[city_index]
        city_code = f"{PROVINCE[0]}{city_index + 1:02d}"
        self.org.add(city_code, f"{city_name}供电公司", "city", PROVINCE[0], None, None, self._stamp())
        self._add_leaders(city_code, "city", _stream(self.seed, 4, city_index + 1))
        for county_index, county in enumerate(counties):
            county_uid = self.global_county
            self.global_county += 1
            if county_index >= len(stations_per_county):
                continue
            county_code = f"{city_code}{county_index + 1:02d}"
            ambiguous = sum(county in names for _, names in CITIES) > 1
            self.org.add(
                county_code,
                county_company_name(city_name, county, ambiguous),
                "county",
                city_code,
                None,
                None,
                self._stamp(),
            )
            self._add_leaders(county_code, "county", _stream(self.seed, 4, 1000 + county_uid))
            n_stations = stations_per_county[county_index]
            town_names = fake.place_names(_stream(self.seed, 5, county_uid), n_stations)
            for k in range(n_stations):
                self._add_station(
                    city_index,
                    county_index,
                    county_uid,
                    k,
                    county_code,
                    f"{city_name}市{county}{town_names[k]}",
                    f"{town_names[k]}供电所",
                )

    def _add_station(self, city_index, county_index, county_uid, k, county_code, place, name) -> None:
        uid = city_index * 10000 + county_index * 100 + k
        area, size = self._station_size(city_index, county_index, k)
        n_customers = max(1000, round(size * self.size_factor)) + (self.rounding_fix if uid == 0 else 0)
        code = f"{county_code}{k + 1:02d}"
        station_index = len(self.arrays["station_code"])
        for key, value in (
            ("station_code", code),
            ("station_uid", uid),
            ("station_city", city_index),
            ("station_county", county_uid),
            ("station_county_in_city", county_index),
            ("area_type", area),
            ("customers", n_customers),
        ):
            self.arrays[key].append(value)
        self.org.add(code, name, "station", county_code, AREA_TYPES[area], n_customers, self._stamp())
        rng = _stream(self.seed, 2, uid)
        self._add_leaders(code, "station", rng)
        self._add_areas(rng, station_index, code, area, n_customers)
        self._add_customer_pool(rng, code, place, area, n_customers)
        self._add_teams(rng, code, n_customers)

    def _add_areas(self, rng, station_index: int, code: str, area: int, n_customers: int) -> None:
        """Transformer areas whose customers add up to the station's, grouped into feeders."""
        profile, arrays = self.profile, self.arrays
        low, high = profile.transformer_areas_range
        expected = n_customers / profile.customers_per_transformer_area * rng.uniform(0.8, 1.25)
        n_areas = int(np.clip(round(expected), low, high))
        area_customers = _split_exactly(rng, n_customers, n_areas, 0.5)
        first_area = len(arrays["ta_customers"])
        arrays["ta_start"].append(first_area)
        arrays["ta_count"].append(n_areas)
        village_names = fake.place_names(rng, n_areas)
        line_names = fake.place_names(rng, n_areas)
        weak_rank = rng.permutation(n_areas)
        position = 0
        while position < n_areas:
            low_size, high_size = profile.transformer_areas_per_feeder
            size = min(int(rng.integers(low_size, high_size + 1)), n_areas - position)
            arrays["feeder_start"].append(first_area + position)
            arrays["feeder_count"].append(size)
            arrays["feeder_name"].append(f"10kV{line_names[position]}线")
            arrays["feeder_station"].append(station_index)
            arrays["ta_feeder"].extend([len(arrays["feeder_start"]) - 1] * size)
            position += size
        suffix = "小区" if area == 0 else "村"
        for k in range(n_areas):
            ta_code = f"{code}T{k + 1:03d}"
            self.tas.add(
                ta_code,
                f"{village_names[k]}{suffix}{k % 9 + 1}号台区",
                code,
                int(area_customers[k]),
                self._stamp(),
            )
            arrays["ta_code"].append(ta_code)
            arrays["ta_customers"].append(int(area_customers[k]))
            arrays["ta_weak_rank"].append(int(weak_rank[k]))

    def _add_customer_pool(self, rng, code: str, place: str, area: int, n_customers: int) -> None:
        """The fake customers that appeals of this station refer to (not all its customers)."""
        profile, arrays = self.profile, self.arrays
        first_area, n_areas = arrays["ta_start"][-1], arrays["ta_count"][-1]
        area_customers = np.array(arrays["ta_customers"][first_area:], dtype=float)
        n_pool = max(
            20, round(profile.customer_pool_per_average_station * n_customers / self.average_station)
        )
        arrays["pool_start"].append(len(arrays["customer_ta"]))
        arrays["pool_count"].append(n_pool)
        customer_names = fake.names(rng, n_pool)
        mobiles = fake.mobiles(rng, n_pool)
        addresses = fake.addresses(rng, place, area == 0, n_pool)
        home_area = rng.choice(n_areas, size=n_pool, p=area_customers / area_customers.sum())
        kinds = rng.choice(len(CUSTOMER_TYPES), size=n_pool, p=profile.customer_type_shares)
        created = self.as_of - rng.integers(60 * DAY, 20 * 365 * DAY, n_pool)
        updated = created + (rng.random(n_pool) * (self.as_of - created)).astype(np.int64)
        numeric = code[len(PROVINCE[0]) :]
        for i in range(n_pool):
            customer_no = f"37{numeric}{i + 1:04d}"
            self.customers.add(
                customer_no,
                customer_names[i],
                mobiles[i],
                addresses[i],
                code,
                f"{code}T{home_area[i] + 1:03d}",
                CUSTOMER_TYPES[kinds[i]],
                int(created[i]),
                int(updated[i]),
            )
            arrays["customer_no"].append(customer_no)
        arrays["customer_ta"].extend((first_area + home_area).tolist())
        arrays["customer_mobile"].extend(mobiles.tolist())
        arrays["customer_address"].extend(addresses)

    def _add_teams(self, rng, code: str, n_customers: int) -> None:
        for team_type in TEAM_TYPES:
            base, per_customers = self.profile.team_staff[team_type]
            team_code = f"{code}{TEAM_SUFFIX[team_type]}"
            self.teams.add(team_code, TEAM_NAME[team_type], code, team_type, self._stamp())
            n_staff = base + n_customers // per_customers
            self.arrays["team_code"].append(team_code)
            self.arrays["team_staff_start"].append(len(self.staff))
            self.arrays["team_staff_count"].append(n_staff)
            staff_names = fake.names(rng, n_staff)
            staff_mobiles = fake.mobiles(rng, n_staff)
            for i in range(n_staff):
                staff_id = f"E{len(self.staff) + 1:07d}"
                position = "班长" if i == 0 else TEAM_POSITION[team_type]
                self.staff.add(
                    staff_id,
                    staff_names[i],
                    code,
                    team_code,
                    position,
                    staff_mobiles[i],
                    f"{staff_id.lower()}@example.com",
                    self._stamp(),
                )

    def world(self, scale: float) -> World:
        a = self.arrays
        per_team = (-1, len(TEAM_TYPES))

        def ints(name: str) -> np.ndarray:
            return np.array(a[name], dtype=np.int64)

        def texts(name: str) -> np.ndarray:
            return np.array(a[name], dtype=object)

        return World(
            seed=self.seed,
            scale=scale,
            station_code=texts("station_code"),
            station_uid=ints("station_uid"),
            station_city=ints("station_city"),
            station_county=ints("station_county"),
            station_county_in_city=ints("station_county_in_city"),
            area_type=ints("area_type"),
            customers=ints("customers"),
            ta_start=ints("ta_start"),
            ta_count=ints("ta_count"),
            ta_code=texts("ta_code"),
            ta_customers=ints("ta_customers"),
            ta_feeder=ints("ta_feeder"),
            ta_weak_rank=ints("ta_weak_rank"),
            feeder_start=ints("feeder_start"),
            feeder_count=ints("feeder_count"),
            feeder_name=texts("feeder_name"),
            feeder_station=ints("feeder_station"),
            pool_start=ints("pool_start"),
            pool_count=ints("pool_count"),
            customer_no=texts("customer_no"),
            customer_mobile=texts("customer_mobile"),
            customer_address=texts("customer_address"),
            customer_ta=ints("customer_ta"),
            team_code=texts("team_code").reshape(per_team),
            team_staff_start=ints("team_staff_start").reshape(per_team),
            team_staff_count=ints("team_staff_count").reshape(per_team),
            staff_id=np.array(self.staff.column("staff_id"), dtype=object),
            tables={
                "org_unit": self.org.frame(),
                "transformer_area": self.tas.frame(),
                "customer": self.customers.frame(),
                "team": self.teams.frame(),
                "staff": self.staff.frame(),
                "unit_contact": self.contacts.frame(),
            },
        )


def _split_exactly(rng: np.random.Generator, total: int, parts: int, sigma: float) -> np.ndarray:
    """`parts` positive integers summing exactly to `total`."""
    weights = rng.lognormal(0.0, sigma, parts)
    exact = weights / weights.sum() * (total - parts)
    counts = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[: total - parts - counts.sum()]] += 1
    return counts + 1


class _Rows:
    """Row-wise accumulator for the master tables, turned into columns at the end."""

    def __init__(self, *columns: str):
        self.columns = columns
        self.rows: list[tuple] = []

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, *values) -> None:
        self.rows.append(values)

    def column(self, name: str) -> list:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]

    def frame(self) -> Frame:
        return {name: np.array(self.column(name), dtype=object) for name in self.columns}
