"""Every behaviour parameter of the simulator, in one place.

Calibration (volumes, the share of red/yellow stations, how long trouble
lasts) is a change of these numbers, never of the generating code. Rates are
per station and independent of `--scale`: scale only changes how many
stations exist. "per 10k" means per 10,000 customers of the station.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ORDER_TYPES = (
    "fault_repair",
    "complaint",
    "report",
    "opinion",
    "suggestion",
    "praise",
    "consult",
    "service_request",
    "urge",
)
CATEGORIES = (
    "outage",
    "power_quality",
    "billing",
    "business_expansion",
    "metering",
    "service_attitude",
    "other",
)
CHANNELS = ("95598_phone", "online_app", "12398", "12345")
COMPLAINT_LEVELS = ("special", "major", "important", "general")
ORDER_STATUSES = ("accepted", "dispatched", "processing", "replied", "finished", "cancelled")
SURVEY_RESULTS = ("satisfied", "basically_satisfied", "unsatisfied", "unreachable")
OUTAGE_TYPES = ("planned", "temporary", "fault", "capacity_limit", "arrears", "orderly")
AREA_TYPES = ("urban", "rural", "remote")
CUSTOMER_TYPES = ("resident", "non_resident", "important")
TEAM_TYPES = ("repair", "business", "area_manager")
CONTACT_ROLES = ("leader_in_charge", "department_head")


@dataclass(frozen=True)
class HierarchyProfile:
    province_customers: int = 52_000_000
    nominal_stations: int = 1300  # at scale 1; scale s keeps about s times as many
    ten_station_county_share: float = 0.56  # the rest have 9 stations: 136 counties -> ~1,300
    # P(urban), P(remote) for districts (区) and for counties/county-level cities; rural otherwise.
    urban_share: tuple[float, float] = (0.45, 0.12)
    remote_share: tuple[float, float] = (0.02, 0.15)
    relative_customers: dict[str, float] = field(
        default_factory=lambda: {"urban": 1.6, "rural": 0.9, "remote": 0.45}
    )
    customer_spread_sigma: float = 0.3  # lognormal spread of station size around its area type
    customers_per_transformer_area: int = 450
    transformer_areas_range: tuple[int, int] = (30, 120)
    transformer_areas_per_feeder: tuple[int, int] = (6, 14)
    customer_pool_per_average_station: int = 150  # fake customers that appeals refer to
    customer_type_shares: tuple[float, float, float] = (0.9, 0.09, 0.01)
    # staff per team = base + customers / per_customers
    team_staff: dict[str, tuple[int, int]] = field(
        default_factory=lambda: {"repair": (3, 8000), "business": (2, 15000), "area_manager": (2, 12000)}
    )


@dataclass(frozen=True)
class TroubleProfile:
    """The latent station process: episodes of ageing equipment and/or staff shortage."""

    mean_healthy_days: float = 170.0  # mean gap between episodes
    mean_episode_days: float = 40.0  # gamma-distributed episode length
    episode_shape: float = 3.0
    kind_shares: tuple[float, float, float] = (0.35, 0.45, 0.20)  # equipment, staffing, both
    severity_range: tuple[float, float] = (0.2, 0.7)
    ramp_share: float = 0.3  # share of an episode spent drifting in (and again recovering)
    chronic_sigma: float = 0.25  # persistent per-station quality spread (lognormal)


@dataclass(frozen=True)
class TrainingProfile:
    """The closed loop's targeted training in the simulated province (only from a run's loop start):
    a station whose trouble spell held its plateau (full severity: the days a station is red) on at
    least `plateau_days` days of a month is trained on the 1st of the next; from then on the rest of
    that spell is `severity_factor` as severe. The simulator does not read the warehouse: the plateau
    stands in for the red days that put a station on the plan."""

    plateau_days: int = 8
    severity_factor: float = 0.6
    months_back: int = 4  # spells last weeks: a training further back belongs to an earlier one


@dataclass(frozen=True)
class StormProfile:
    daily_probability_by_month: tuple[float, ...] = (
        0.03, 0.03, 0.04, 0.06, 0.10, 0.18, 0.28, 0.26, 0.12, 0.05, 0.03, 0.03,
    )  # fmt: skip
    whole_city_share: float = 0.35  # otherwise 1-4 counties of the city
    intensity_range: tuple[float, float] = (2.5, 7.0)  # fault-report multiplier on the first day
    decay: float = 0.4  # remaining excess on the following days
    tail_days: int = 2


@dataclass(frozen=True)
class OrderProfile:
    # Primary (customer-initiated) orders per 10k customers per day at a healthy station,
    # before seasonality; urges and repeats are spawned on top of these.
    per_10k_per_day: dict[str, float] = field(
        default_factory=lambda: {
            "fault_repair": 0.44,
            "complaint": 0.0075,
            "report": 0.0011,
            "opinion": 0.045,
            "suggestion": 0.009,
            "praise": 0.016,
            "consult": 0.23,
            "service_request": 0.21,
        }
    )
    # How much a fully troubled station multiplies each type: (equipment, staffing).
    trouble_multiplier: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "fault_repair": (1.6, 0.2),
            "complaint": (1.0, 2.0),
            "report": (0.5, 2.0),
            "opinion": (1.5, 2.0),
            "suggestion": (0.3, 0.3),
            "praise": (0.0, -0.5),
            "consult": (0.2, 0.3),
            "service_request": (0.0, 0.2),
        }
    )
    summer_peak: dict[str, float] = field(
        default_factory=lambda: {"fault_repair": 1.0, "default": 0.15}
    )  # extra share at the late-July peak
    summer_peak_day_of_year: int = 205
    summer_peak_width_days: float = 28.0
    weekend_factor: float = 0.75  # non-fault orders on Saturday/Sunday
    storm_sensitive_types: tuple[str, ...] = ("fault_repair",)
    storm_other_type_share: float = 0.15  # share of the storm excess that other types also get
    # Category mix per order type (urges copy their parent's category).
    category_mix: dict[str, dict[str, float]] = field(
        default_factory=lambda: {
            "fault_repair": {"outage": 0.85, "power_quality": 0.15},
            "complaint": {
                "service_attitude": 0.3, "outage": 0.2, "billing": 0.15, "business_expansion": 0.1,
                "metering": 0.1, "power_quality": 0.1, "other": 0.05,
            },
            "report": {"other": 0.4, "service_attitude": 0.3, "billing": 0.3},
            "opinion": {
                "outage": 0.25, "power_quality": 0.15, "billing": 0.15, "business_expansion": 0.15,
                "service_attitude": 0.15, "metering": 0.05, "other": 0.1,
            },
            "suggestion": {"other": 0.5, "business_expansion": 0.2, "billing": 0.3},
            "praise": {"service_attitude": 0.6, "other": 0.4},
            "consult": {
                "billing": 0.35, "business_expansion": 0.25, "outage": 0.15, "metering": 0.1, "other": 0.15,
            },
            "service_request": {"business_expansion": 0.5, "metering": 0.25, "billing": 0.15, "other": 0.1},
        }
    )  # fmt: skip
    complaint_levels: tuple[float, float, float, float] = (0.01, 0.04, 0.25, 0.70)
    severe_complaint_staffing_multiplier: float = 2.0  # special/major share at full staff shortage
    online_app_share: float = 0.36  # the rest of the ordinary orders come by phone
    # Share of each type arriving through the regulators' hotlines (12398, 12345).
    hotline_shares: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "complaint": (0.03, 0.08),
            "report": (0.04, 0.08),
            "opinion": (0.002, 0.015),
            "default": (0.0001, 0.0006),
        }
    )
    hotline_staffing_multiplier: float = 2.0
    known_customer_share: float = 0.85  # appeals whose customer_no is known
    own_mobile_share: float = 0.85  # known customers calling from their registered mobile
    cancel_share: float = 0.01
    # Deadlines in working days (Saturday/Sunday off); 12398 orders get their own.
    deadline_working_days: dict[str, int] = field(
        default_factory=lambda: {
            "complaint": 4,
            "report": 9,
            "opinion": 5,
            "suggestion": 5,
            "service_request": 3,
            "consult": 1,
            "urge": 1,
        }
    )
    regulator_deadline_working_days: int = 10
    overdue_base: float = 0.02  # P(reply after the deadline) at a healthy station
    overdue_staffing: float = 0.30  # extra at full staff shortage
    return_base: float = 0.025
    return_staffing: float = 0.25
    urge_base: float = 0.035  # P(an eligible order gets urged)
    urge_staffing: float = 0.25
    urge_when_overdue: float = 0.35  # extra P for orders that will miss their deadline
    repeat_base: float = 0.03  # P(an appeal is followed by a repeat of the same customer)
    repeat_trouble: float = 0.25
    repeat_generations: int = 3  # repeats of repeats, with halving probability
    personal_data_in_content: float = 0.2


@dataclass(frozen=True)
class RepairProfile:
    arrival_limit_minutes: dict[str, int] = field(
        default_factory=lambda: {"urban": 45, "rural": 90, "remote": 120}
    )
    late_base: float = 0.015
    late_staffing: float = 0.30
    missing_arrival_base: float = 0.005
    missing_arrival_staffing: float = 0.05
    second_task_share: float = 0.05
    restore_median_minutes: float = 80.0


@dataclass(frozen=True)
class SurveyProfile:
    share_of_finished: float = 0.4
    unreachable: float = 0.12
    unsatisfied_base: float = 0.015
    unsatisfied_trouble: float = 0.22
    unsatisfied_if_overdue: float = 0.1
    basically_satisfied: float = 0.2


@dataclass(frozen=True)
class CallProfile:
    other_calls_per_10k_per_day: float = 1.2  # calls that create no order
    storm_call_share: float = 0.5  # share of the storm excess these calls also get
    unlocated_share: float = 0.1  # calls whose station could not be determined
    follow_up_base: float = 0.08  # P(a customer calls again about an open order)
    follow_up_staffing: float = 0.25
    agents: int = 600
    self_service_share: float = 0.2  # IVR-only calls: no agent


@dataclass(frozen=True)
class OutageProfile:
    feeder_outages_per_year: float = 0.7  # background non-arrears outages per feeder
    background_type_mix: dict[str, float] = field(
        default_factory=lambda: {"planned": 0.42, "temporary": 0.13, "fault": 0.45}
    )
    arrears_per_area_per_day: float = 0.009
    weak_area_share: float = 0.3  # of a station's areas, at full equipment trouble
    weak_area_outages_per_day: float = 0.2
    storm_feeder_faults_per_day: float = 0.02  # per feeder and unit of storm excess
    peak_load_feeder_outages_per_day: float = 0.001  # capacity_limit/orderly at the summer peak
    planned_notice_days: tuple[float, float] = (7.0, 10.0)
    temporary_notice_hours: tuple[float, float] = (24.0, 48.0)


@dataclass(frozen=True)
class SimulationProfile:
    hierarchy: HierarchyProfile = field(default_factory=HierarchyProfile)
    trouble: TroubleProfile = field(default_factory=TroubleProfile)
    training: TrainingProfile = field(default_factory=TrainingProfile)
    storms: StormProfile = field(default_factory=StormProfile)
    orders: OrderProfile = field(default_factory=OrderProfile)
    repairs: RepairProfile = field(default_factory=RepairProfile)
    surveys: SurveyProfile = field(default_factory=SurveyProfile)
    calls: CallProfile = field(default_factory=CallProfile)
    outages: OutageProfile = field(default_factory=OutageProfile)
    # Hourly weights (0-23 h, local time) of when events happen.
    appeal_hours: tuple[float, ...] = (
        0.5, 0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 2.5, 5.0, 6.5, 6.8, 6.5,
        5.5, 5.0, 5.5, 6.0, 6.0, 5.8, 5.5, 6.0, 6.0, 4.8, 3.0, 1.3,
    )  # fmt: skip
    planned_outage_hours: tuple[float, ...] = (
        0, 0, 0, 0, 0, 0, 1, 6, 8, 3, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    )  # fmt: skip
    office_hours: tuple[float, ...] = (
        0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0.5, 1, 1, 1, 1, 1, 0.5, 0, 0, 0, 0, 0,
    )  # fmt: skip


DEFAULT_PROFILE = SimulationProfile()
