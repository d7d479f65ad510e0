"""Generate the fact rows caused by one interval of simulated time, vectorised with numpy.

`ActivityGenerator.generate(start, end)` returns, per fact table, the full
plans (see lifecycle.py) of every row that the interval causes: appeals
accepted in it with their whole lifecycle, and what they set off later:
repair tasks, callback surveys, urges, repeat appeals and the calls around
them. Children may lie after the interval (even after the simulated now);
the caller decides what is visible when.
"""

from __future__ import annotations

import numpy as np

from service_risk.simulator import fake
from service_risk.simulator.behaviour import Behaviour, DayConditions
from service_risk.simulator.clock import DAY, HOUR, MINUTE, NEVER, DayProfile, add_working_days, to_date
from service_risk.simulator.hierarchy import World
from service_risk.simulator.profile import (
    AREA_TYPES,
    CATEGORIES,
    CHANNELS,
    COMPLAINT_LEVELS,
    ORDER_TYPES,
    OUTAGE_TYPES,
    SURVEY_RESULTS,
    SimulationProfile,
)
from service_risk.simulator.schema import TABLES

Frame = dict[str, np.ndarray]
TYPE = {name: code for code, name in enumerate(ORDER_TYPES)}
CHANNEL = {name: code for code, name in enumerate(CHANNELS)}
OUTAGE = {name: code for code, name in enumerate(OUTAGE_TYPES)}
NO_DEADLINE = -1
LEAF_GENERATION = 99  # urges are never repeated
IVR_BY_CATEGORY = np.array(["1-1", "1-2", "2-1", "3-1", "2-3", "4-1", "9"], dtype=object)
SELF_SERVICE_IVR = np.array(["2-2", "2-4", "0-1"], dtype=object)
SURVEY_COMMENTS = {
    "satisfied": (None, "满意", "处理及时"),
    "basically_satisfied": (None, "基本满意", "希望再快一些"),
    "unsatisfied": ("处理不及时", "问题未解决", "服务态度差", "多次反映无人处理"),
    "unreachable": ("电话无人接听", "关机", "拒绝回访"),
}
OUTAGE_CAUSES = {
    "planned": ("计划检修", "线路改造", "设备预试"),
    "temporary": ("临时消缺", "配合市政施工"),
    "fault": ("线路故障", "配变故障", "树障", "外力破坏", "雷击跳闸"),
    "capacity_limit": ("配变重过载限电",),
    "arrears": ("欠费停电",),
    "orderly": ("有序用电",),
}
ID_PREFIX = {
    "work_order": "GD",
    "call_record": "CL",
    "callback_survey": "HF",
    "outage_event": "TD",
    "repair_task": "QX",
}


class IdAllocator:
    """Readable keys: prefix + generation date + running number (e.g. GD202407010000123)."""

    def __init__(self, counters: dict[str, int] | None = None):
        self.counters = dict(counters or {})

    def take(self, table: str, day: int, n: int) -> np.ndarray:
        key = f"{ID_PREFIX[table]}{to_date(day * DAY):%Y%m%d}"
        first = self.counters.get(key, 0) + 1
        self.counters[key] = first + n - 1
        return np.array([f"{key}{i:07d}" for i in range(first, first + n)], dtype=object)


def _uniform(rng: np.random.Generator, low, high, n: int) -> np.ndarray:
    return (low + rng.random(n) * (np.asarray(high) - np.asarray(low))).astype(np.int64)


def _pick_rows(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One category per row of a cumulative-probability matrix."""
    return (rng.random(len(cumulative))[:, None] > cumulative[:, :-1]).sum(axis=1)


def concat(frames: list[Frame], table: str) -> Frame:
    columns = [name for name, _ in TABLES[table].plan_columns]
    frames = [frame for frame in frames if len(frame[columns[0]])]
    if not frames:
        return {
            name: np.zeros(0, dtype=object if kind == "text" else np.int64)
            for name, kind in TABLES[table].plan_columns
        }
    return {name: np.concatenate([frame[name] for frame in frames]) for name in columns}


class ActivityGenerator:
    def __init__(self, world: World, behaviour: Behaviour, profile: SimulationProfile):
        self.world, self.behaviour, self.profile = world, behaviour, profile
        orders = profile.orders
        self.appeal_hours = DayProfile(profile.appeal_hours)
        self.planned_hours = DayProfile(profile.planned_outage_hours)
        self.office_hours = DayProfile(profile.office_hours)
        self.primary_types = np.array([TYPE[t] for t in orders.per_10k_per_day], dtype=np.int64)
        category_mix = np.zeros((len(ORDER_TYPES), len(CATEGORIES)))
        for order_type, mix in orders.category_mix.items():
            for category, share in mix.items():
                category_mix[TYPE[order_type], CATEGORIES.index(category)] = share
        category_mix[TYPE["urge"], -1] = 1.0  # never drawn: urges copy their parent's category
        self.category_cumulative = np.cumsum(category_mix / category_mix.sum(axis=1, keepdims=True), axis=1)
        self.hotline = np.array(
            [orders.hotline_shares.get(t, orders.hotline_shares["default"]) for t in ORDER_TYPES]
        )
        self.deadline_days = np.array(
            [orders.deadline_working_days.get(t, NO_DEADLINE) for t in ORDER_TYPES], dtype=np.int64
        )
        self.arrival_limit = np.array(
            [profile.repairs.arrival_limit_minutes[a] * MINUTE for a in AREA_TYPES], dtype=np.int64
        )
        self.ta_station = np.repeat(np.arange(world.n_stations), world.ta_count)

    # ------------------------------------------------------------------ orders
    def generate(self, start: int, end: int, rng: np.random.Generator, ids: IdAllocator) -> dict[str, Frame]:
        """Plans of every row caused by [start, end), an interval within one day."""
        day = start // DAY
        assert (end - 1) // DAY == day, "intervals must not cross midnight"
        conditions = self.behaviour.conditions(day)
        out: dict[str, list[Frame]] = {name: [] for name in ID_PREFIX}
        seeds = self._primary_appeals(start, end, rng, conditions)
        while seeds is not None:
            orders, facts = self._complete_orders(seeds, rng, conditions, ids, day)
            out["work_order"].append(orders)
            out["repair_task"].append(facts.pop("repair_task"))
            out["callback_survey"].append(self._surveys(orders, facts, rng, conditions, ids, day))
            out["call_record"].append(self._order_calls(orders, facts, rng, conditions, ids, day))
            seeds = self._children(orders, facts, rng, conditions)
        out["call_record"].append(self._other_calls(start, end, rng, conditions, ids, day))
        out["outage_event"].append(self._outages(start, end, rng, conditions, ids, day))
        return {table: concat(frames, table) for table, frames in out.items()}

    def _primary_appeals(self, start: int, end: int, rng, conditions: DayConditions) -> Frame:
        """Customer-initiated appeals of every station in the interval (Poisson per station and type)."""
        orders, world = self.profile.orders, self.world
        day_start = start - start % DAY
        share = self.appeal_hours.share(start - day_start, end - day_start)
        rates = np.empty((world.n_stations, len(self.primary_types)))
        for j, code in enumerate(self.primary_types.tolist()):
            order_type = ORDER_TYPES[code]
            by_equipment, by_staffing = orders.trouble_multiplier[order_type]
            trouble = np.maximum(
                0.1, 1 + by_equipment * conditions.equipment + by_staffing * conditions.staffing
            )
            if order_type in orders.storm_sensitive_types:
                storm = conditions.storm
            else:
                storm = 1 + orders.storm_other_type_share * (conditions.storm - 1)
            season = conditions.season(orders.summer_peak.get(order_type, orders.summer_peak["default"]))
            weekend = orders.weekend_factor if conditions.weekend and code != TYPE["fault_repair"] else 1.0
            rates[:, j] = (
                world.customers
                / 1e4
                * orders.per_10k_per_day[order_type]
                * trouble
                * storm
                * (season * weekend)
            )
        counts = rng.poisson(rates * share).ravel()
        station = np.repeat(np.repeat(np.arange(world.n_stations), len(self.primary_types)), counts)
        order_type = np.repeat(np.tile(self.primary_types, world.n_stations), counts)
        accept = day_start + self.appeal_hours.sample(rng, len(station), start - day_start, end - day_start)
        by_time = np.argsort(accept, kind="stable")
        station, order_type, accept = station[by_time], order_type[by_time], accept[by_time]
        n = len(station)
        known = rng.random(n) < orders.known_customer_share
        customer = np.where(
            known, world.pool_start[station] + (rng.random(n) * world.pool_count[station]), -1
        )
        customer = customer.astype(np.int64)
        area = np.where(known, world.customer_ta[np.maximum(customer, 0)], -1)
        fault_without_customer = ~known & (order_type == TYPE["fault_repair"])
        some_area = world.ta_start[station] + (rng.random(n) * world.ta_count[station]).astype(np.int64)
        area = np.where(fault_without_customer, some_area, area)
        own_mobile = known & (rng.random(n) < orders.own_mobile_share)
        caller = np.where(own_mobile, world.customer_mobile[np.maximum(customer, 0)], fake.mobiles(rng, n))
        return {
            "station": station,
            "type": order_type,
            "category": _pick_rows(rng, self.category_cumulative[order_type]),
            "channel": self._channels(rng, order_type, station, conditions),
            "customer": customer,
            "caller": caller,
            "area": area,
            "parent": np.full(n, None, dtype=object),
            "accept": accept,
            "generation": np.zeros(n, np.int64),
        }

    def _channels(self, rng, order_type: np.ndarray, station: np.ndarray, conditions: DayConditions):
        orders = self.profile.orders
        boost = 1 + (orders.hotline_staffing_multiplier - 1) * conditions.staffing[station]
        p12398 = self.hotline[order_type, 0] * boost
        p12345 = self.hotline[order_type, 1] * boost
        u = rng.random(len(order_type))
        ordinary = np.where(
            rng.random(len(order_type)) < orders.online_app_share,
            CHANNEL["online_app"],
            CHANNEL["95598_phone"],
        )
        return np.where(
            u < p12398, CHANNEL["12398"], np.where(u < p12398 + p12345, CHANNEL["12345"], ordinary)
        )

    def _complaint_levels(
        self, rng, order_type: np.ndarray, station, conditions: DayConditions
    ) -> np.ndarray:
        orders = self.profile.orders
        special, major, important, _ = orders.complaint_levels
        boost = 1 + (orders.severe_complaint_staffing_multiplier - 1) * conditions.staffing[station]
        u = rng.random(len(order_type))
        level = np.where(
            u < special * boost,
            0,
            np.where(
                u < (special + major) * boost, 1, np.where(u < (special + major) * boost + important, 2, 3)
            ),
        )
        return np.where(order_type == TYPE["complaint"], level, -1)

    def _complete_orders(self, seeds: Frame, rng, conditions: DayConditions, ids: IdAllocator, day: int):
        """Decide the whole lifecycle of these appeals; returns their plans and facts for the children."""
        orders, world = self.profile.orders, self.world
        station, order_type, accept = seeds["station"], seeds["type"], seeds["accept"]
        n = len(station)
        staffing, chronic = conditions.staffing[station], conditions.chronic[station]
        is_fault = order_type == TYPE["fault_repair"]
        order_no = ids.take("work_order", day, n)

        cancelled = rng.random(n) < orders.cancel_share
        cancel_time = np.where(cancelled, accept + _uniform(rng, 5 * MINUTE, 6 * HOUR, n), NEVER)
        working_days = self.deadline_days[order_type]
        regulator = (seeds["channel"] == CHANNEL["12398"]) & (working_days != NO_DEADLINE)
        working_days = np.where(regulator, orders.regulator_deadline_working_days, working_days)
        has_deadline = working_days != NO_DEADLINE
        deadline = np.where(has_deadline, add_working_days(accept, np.maximum(working_days, 0)), NEVER)

        office_delay = np.clip(rng.lognormal(np.log(40 * MINUTE), 0.8, n), 5 * MINUTE, 20 * HOUR)
        dispatch = accept + np.where(
            is_fault, _uniform(rng, MINUTE, 10 * MINUTE, n), office_delay.astype(np.int64)
        )
        dispatch = np.where(has_deadline, np.minimum(dispatch, accept + (deadline - accept) // 4), dispatch)
        process = dispatch + np.where(
            is_fault, _uniform(rng, MINUTE, 5 * MINUTE, n), _uniform(rng, 10 * MINUTE, 3 * HOUR, n)
        )
        repairs, restore, slow_repair = self._repairs(
            seeds, order_no, dispatch, cancelled, rng, conditions, ids, day
        )

        p_overdue = orders.overdue_base * chronic + orders.overdue_staffing * staffing
        overdue = has_deadline & (rng.random(n) < p_overdue)
        on_time = process + ((deadline - process) * rng.uniform(0.05, 0.85, n)).astype(np.int64)
        late = deadline + rng.exponential(1.5 * DAY, n).astype(np.int64) + MINUTE
        reply = np.where(overdue, late, on_time)
        reply = np.where(order_type == TYPE["praise"], process + _uniform(rng, HOUR, DAY, n), reply)
        reply = np.where(is_fault, restore + _uniform(rng, 5 * MINUTE, 40 * MINUTE, n), reply)
        reply = np.maximum(reply, process + MINUTE)
        finish = reply + np.where(
            is_fault, _uniform(rng, 10 * MINUTE, 6 * HOUR, n), _uniform(rng, HOUR, 3 * DAY, n)
        )
        p_return = orders.return_base * chronic + orders.return_staffing * staffing
        u = rng.random(n)
        return_1 = np.where(
            u < p_return, dispatch + ((reply - dispatch) * rng.uniform(0.1, 0.5, n)).astype(np.int64), NEVER
        )
        return_2 = np.where(u < p_return / 4, return_1 + ((reply - return_1) * 0.5).astype(np.int64), NEVER)
        lifecycle = {
            "dispatch_time": dispatch,
            "process_time": process,
            "reply_time": reply,
            "finish_time": finish,
            "return_1_time": return_1,
            "return_2_time": return_2,
        }
        for column, times in lifecycle.items():  # a withdrawn order stops where it was
            lifecycle[column] = np.where(cancelled & (times > cancel_time), NEVER, times)

        team_kind = np.where(is_fault, 0, np.where(rng.random(n) < 0.75, 1, 2))
        staff = world.team_staff_start[station, team_kind] + (
            rng.random(n) * world.team_staff_count[station, team_kind]
        ).astype(np.int64)
        customer, area = seeds["customer"], seeds["area"]
        known = customer >= 0
        address = np.where(
            known & (rng.random(n) < 0.5), world.customer_address[np.maximum(customer, 0)], None
        )
        content = fake.order_contents(
            rng, seeds["category"], address.tolist(), orders.personal_data_in_content
        )
        is_urge = order_type == TYPE["urge"]
        content = np.where(
            is_urge, [f"客户催办工单{p}，要求尽快处理" for p in seeds["parent"].tolist()], content
        )
        level = self._complaint_levels(rng, order_type, station, conditions)
        plan = {
            "order_no": order_no,
            "channel": np.array(CHANNELS, dtype=object)[seeds["channel"]],
            "order_type": np.array(ORDER_TYPES, dtype=object)[order_type],
            "category": np.array(CATEGORIES, dtype=object)[seeds["category"]],
            "complaint_level": np.array((*COMPLAINT_LEVELS, None), dtype=object)[level],
            "customer_no": np.where(known, world.customer_no[np.maximum(customer, 0)], None),
            "caller_phone": seeds["caller"],
            "station_code": world.station_code[station],
            "ta_code": np.where(area >= 0, world.ta_code[np.maximum(area, 0)], None),
            "parent_order_no": seeds["parent"],
            "accept_time": accept,
            "deadline_time": deadline,
            "status": np.full(n, None, dtype=object),
            "return_count": np.zeros(n, np.int64),
            "handler_team_code": world.team_code[station, team_kind],
            "handler_staff_id": world.staff_id[staff],
            "content": content.astype(object),
            "created_at": accept,
            "updated_at": accept,
            "cancel_time": cancel_time,
            **lifecycle,
        }
        facts = {
            "repair_task": repairs,
            "seeds": seeds,
            "cancelled": cancelled,
            "slow": overdue | slow_repair,
            "deadline": deadline,
        }
        return plan, facts

    def _repairs(self, seeds, order_no, dispatch, cancelled, rng, conditions, ids, day):
        """Repair tasks of fault orders; returns (tasks, restore time per order, slow arrival per order)."""
        repairs, world = self.profile.repairs, self.world
        n = len(order_no)
        restore_by_order = np.full(n, NEVER)
        slow = np.zeros(n, bool)
        index = np.flatnonzero((seeds["type"] == TYPE["fault_repair"]) & ~cancelled)
        station, accept = seeds["station"][index], seeds["accept"][index]
        m = len(index)
        staffing, chronic = conditions.staffing[station], conditions.chronic[station]
        limit = self.arrival_limit[world.area_type[station]]
        p_missing = repairs.missing_arrival_base + repairs.missing_arrival_staffing * staffing
        p_late = repairs.late_base * chronic + repairs.late_staffing * staffing
        u = rng.random(m)
        missing, late = u < p_missing, (u >= p_missing) & (u < p_missing + p_late)
        travel = limit * np.where(late, rng.uniform(1.05, 2.5, m), rng.uniform(0.25, 0.95, m))
        arrive = np.where(missing, NEVER, accept + travel.astype(np.int64))
        on_site = np.where(missing, accept + (limit * rng.uniform(0.5, 1.5, m)).astype(np.int64), arrive)
        work = np.maximum(rng.lognormal(np.log(repairs.restore_median_minutes * MINUTE), 0.6, m), 10 * MINUTE)
        restore = on_site + work.astype(np.int64)
        second = rng.random(m) < repairs.second_task_share
        dispatch_2 = on_site + _uniform(rng, 10 * MINUTE, HOUR, m)
        arrive_2 = dispatch_2 + _uniform(rng, 15 * MINUTE, HOUR, m)
        restore_2 = np.maximum(restore, arrive_2 + work.astype(np.int64) // 2)
        restore_by_order[index] = np.where(second, restore_2, restore)
        slow[index] = missing | late
        team = world.team_code[station, 0]
        first_dispatch = dispatch[index]
        tasks = {
            "task_id": ids.take("repair_task", day, m + int(second.sum())),
            "order_no": np.concatenate([order_no[index], order_no[index][second]]),
            "team_code": np.concatenate([team, team[second]]),
            "dispatch_time": np.concatenate([first_dispatch, dispatch_2[second]]),
            "arrive_time": np.concatenate([arrive, arrive_2[second]]),
            "restore_time": np.concatenate([restore, restore_2[second]]),
        }
        tasks["updated_at"] = tasks["dispatch_time"]
        return tasks, restore_by_order, slow

    def _surveys(self, orders: Frame, facts, rng, conditions, ids, day) -> Frame:
        surveys = self.profile.surveys
        station = facts["seeds"]["station"]
        chosen = np.flatnonzero(
            (orders["finish_time"] != NEVER) & (rng.random(len(station)) < surveys.share_of_finished)
        )
        station = station[chosen]
        m = len(chosen)
        trouble = np.maximum(conditions.staffing[station], 0.5 * conditions.equipment[station])
        p_unsatisfied = (
            surveys.unsatisfied_base * conditions.chronic[station]
            + surveys.unsatisfied_trouble * trouble
            + surveys.unsatisfied_if_overdue * facts["slow"][chosen]
        )
        u = rng.random(m)
        reached = rng.random(m) >= surveys.unreachable
        result = np.where(
            u < p_unsatisfied, 2, np.where(u < p_unsatisfied + surveys.basically_satisfied, 1, 0)
        )
        result = np.where(reached, result, 3)
        comment_pick = rng.random(m)
        comments = [
            SURVEY_COMMENTS[SURVEY_RESULTS[r]][int(c * len(SURVEY_COMMENTS[SURVEY_RESULTS[r]]))]
            for r, c in zip(result.tolist(), comment_pick.tolist(), strict=True)
        ]
        survey_time = orders["finish_time"][chosen] + _uniform(rng, 2 * HOUR, 2 * DAY, m)
        return {
            "survey_id": ids.take("callback_survey", day, m),
            "order_no": orders["order_no"][chosen],
            "survey_time": survey_time,
            "result": np.array(SURVEY_RESULTS, dtype=object)[result],
            "comment": np.array(comments, dtype=object),
            "updated_at": survey_time,
        }

    def _children(self, orders: Frame, facts, rng, conditions: DayConditions) -> Frame | None:
        """Urges of slow orders and repeat appeals of the same customer, as new appeals."""
        orders_profile = self.profile.orders
        seeds = facts["seeds"]
        station, order_type, generation = seeds["station"], seeds["type"], seeds["generation"]
        n = len(station)
        staffing, chronic = conditions.staffing[station], conditions.chronic[station]
        open_appeal = ~facts["cancelled"]

        urgeable = open_appeal & ~np.isin(order_type, [TYPE["fault_repair"], TYPE["praise"], TYPE["urge"]])
        slow = facts["slow"]
        p_urge = orders_profile.urge_base * chronic + orders_profile.urge_staffing * staffing
        p_urge = np.minimum(0.95, p_urge + orders_profile.urge_when_overdue * slow)
        earliest = np.where(
            slow,
            np.maximum(orders["accept_time"] + 2 * HOUR, facts["deadline"] - DAY),
            orders["accept_time"] + 2 * HOUR,
        )
        latest = orders["reply_time"]
        urged = np.flatnonzero(urgeable & (rng.random(n) < p_urge) & (latest > earliest))
        urge_time = earliest[urged] + ((latest[urged] - earliest[urged]) * rng.random(len(urged))).astype(
            np.int64
        )

        trouble = np.maximum(staffing, 0.6 * conditions.equipment[station])
        p_repeat = (
            orders_profile.repeat_base * chronic + orders_profile.repeat_trouble * trouble
        ) * 0.5**generation
        repeatable = open_appeal & ~np.isin(order_type, [TYPE["praise"], TYPE["urge"]])
        repeatable &= generation < orders_profile.repeat_generations
        repeated = np.flatnonzero(repeatable & (rng.random(n) < p_repeat))
        is_fault = order_type[repeated] == TYPE["fault_repair"]
        delay = np.where(
            is_fault,
            _uniform(rng, 30 * MINUTE, 23 * HOUR, len(repeated)),
            _uniform(rng, 2 * HOUR, 6 * DAY + 12 * HOUR, len(repeated)),
        )
        repeat_type = order_type[repeated].copy()
        u = rng.random(len(repeated))
        routine = np.isin(repeat_type, [TYPE["consult"], TYPE["service_request"]])
        repeat_type[routine & (u < 0.15)] = TYPE["opinion"]  # unanswered routine requests turn into opinions
        repeat_type[routine & (u >= 0.15) & (u < 0.18)] = TYPE["complaint"]

        if len(urged) + len(repeated) == 0:
            return None
        parent = np.concatenate([urged, repeated])
        child_type = np.concatenate([np.full(len(urged), TYPE["urge"]), repeat_type])
        child_station = station[parent]
        channel = self._channels(rng, child_type, child_station, conditions)
        urge_channel = np.where(rng.random(len(urged)) < 0.85, CHANNEL["95598_phone"], CHANNEL["online_app"])
        channel[: len(urged)] = urge_channel
        return {
            "station": child_station,
            "type": child_type,
            "category": seeds["category"][parent],
            "channel": channel,
            "customer": seeds["customer"][parent],
            "caller": seeds["caller"][parent],
            "area": seeds["area"][parent],
            "parent": np.concatenate([orders["order_no"][urged], np.full(len(repeated), None, dtype=object)]),
            "accept": np.concatenate([urge_time, orders["accept_time"][repeated] + delay]),
            "generation": np.concatenate([np.full(len(urged), LEAF_GENERATION), generation[repeated] + 1]),
        }

    # ------------------------------------------------------------------- calls
    def _order_calls(self, orders: Frame, facts, rng, conditions: DayConditions, ids, day) -> Frame:
        """The hotline call that created each phone order, and customers calling back about open ones."""
        calls = self.profile.calls
        seeds = facts["seeds"]
        station = seeds["station"]
        n = len(station)
        by_phone = np.flatnonzero(seeds["channel"] == CHANNEL["95598_phone"])
        p_follow = (
            calls.follow_up_base
            + calls.follow_up_staffing * conditions.staffing[station]
            + 0.2 * facts["slow"]
        )
        earliest = orders["accept_time"] + HOUR
        latest = np.minimum(orders["reply_time"], orders["accept_time"] + 5 * DAY)
        follow = np.flatnonzero(~facts["cancelled"] & (rng.random(n) < p_follow) & (latest > earliest))
        follow_time = earliest[follow] + (
            (latest[follow] - earliest[follow]) * rng.random(len(follow))
        ).astype(np.int64)
        index = np.concatenate([by_phone, follow])
        m = len(index)
        duration = np.clip(rng.lognormal(np.log(240), 0.6, m), 20, 1800).astype(np.int64)
        creating = np.arange(m) < len(by_phone)
        start = np.where(
            creating,
            orders["accept_time"][index] - duration - rng.integers(0, 20, m),
            np.concatenate([np.zeros(len(by_phone), np.int64), follow_time]),
        )
        return {
            "call_id": ids.take("call_record", day, m),
            "call_time": start,
            "caller_phone": orders["caller_phone"][index],
            "customer_no": orders["customer_no"][index],
            "station_code": orders["station_code"][index],
            "duration_s": duration,
            "ivr_path": IVR_BY_CATEGORY[seeds["category"][index]],
            "agent_id": self._agents(rng, m),
            "order_no": orders["order_no"][index],
            "updated_at": start + duration,
        }

    def _agents(self, rng, n: int) -> np.ndarray:
        return np.array(
            [f"A{k:04d}" for k in rng.integers(1, self.profile.calls.agents + 1, n).tolist()], dtype=object
        )

    def _other_calls(self, start, end, rng, conditions: DayConditions, ids, day) -> Frame:
        """Enquiries that create no order; some cannot be located to a station."""
        calls, world = self.profile.calls, self.world
        day_start = start - start % DAY
        share = self.appeal_hours.share(start - day_start, end - day_start)
        rate = (
            world.customers
            / 1e4
            * calls.other_calls_per_10k_per_day
            * (1 + calls.storm_call_share * (conditions.storm - 1))
        )
        station = np.repeat(np.arange(world.n_stations), rng.poisson(rate * share))
        m = len(station)
        call_time = np.sort(day_start + self.appeal_hours.sample(rng, m, start - day_start, end - day_start))
        known = rng.random(m) < 0.6
        customer = world.pool_start[station] + (rng.random(m) * world.pool_count[station]).astype(np.int64)
        located = rng.random(m) >= calls.unlocated_share
        self_service = rng.random(m) < calls.self_service_share
        duration = np.clip(rng.lognormal(np.log(150), 0.7, m), 10, 1800).astype(np.int64)
        ivr = np.where(
            self_service,
            SELF_SERVICE_IVR[rng.integers(0, len(SELF_SERVICE_IVR), m)],
            IVR_BY_CATEGORY[rng.integers(0, len(IVR_BY_CATEGORY), m)],
        )
        return {
            "call_id": ids.take("call_record", day, m),
            "call_time": call_time,
            "caller_phone": np.where(known, world.customer_mobile[customer], fake.mobiles(rng, m)),
            "customer_no": np.where(known, world.customer_no[customer], None),
            "station_code": np.where(located, world.station_code[station], None),
            "duration_s": duration,
            "ivr_path": ivr,
            "agent_id": np.where(self_service, None, self._agents(rng, m)),
            "order_no": np.full(m, None, dtype=object),
            "updated_at": call_time + duration,
        }

    # ----------------------------------------------------------------- outages
    def _outages(self, start, end, rng, conditions: DayConditions, ids, day) -> Frame:
        """Outage events: feeder-wide background/storm/peak-load ones, and single-area ones."""
        outages, world = self.profile.outages, self.world
        day_start = start - start % DAY
        sod = (start - day_start, end - day_start)
        hours_of = {
            "planned": self.planned_hours,
            "temporary": self.office_hours,
            "arrears": self.office_hours,
        }
        storm_excess = conditions.storm[world.feeder_station] - 1
        peak = outages.peak_load_feeder_outages_per_day * conditions.summer
        feeder_rates = {
            "planned": np.full(len(world.feeder_start), outages.feeder_outages_per_year / 365
                               * outages.background_type_mix["planned"]),
            "temporary": np.full(len(world.feeder_start), outages.feeder_outages_per_year / 365
                                 * outages.background_type_mix["temporary"]),
            "fault": outages.feeder_outages_per_year / 365 * outages.background_type_mix["fault"]
            + outages.storm_feeder_faults_per_day * storm_excess,
            "capacity_limit": np.full(len(world.feeder_start), peak / 2),
            "orderly": np.full(len(world.feeder_start), peak / 2),
        }  # fmt: skip
        weak_per_station = np.round(outages.weak_area_share * conditions.equipment * world.ta_count)
        weak = world.ta_weak_rank < weak_per_station[self.ta_station]
        area_rates = {
            "arrears": np.full(len(world.ta_code), outages.arrears_per_area_per_day),
            "fault": np.where(weak, outages.weak_area_outages_per_day, 0.0),
        }
        events: list[tuple[str, np.ndarray, np.ndarray, np.ndarray]] = []  # type, first area, n areas, start
        for outage_type, rates in feeder_rates.items():
            share = hours_of.get(outage_type, self.appeal_hours).share(*sod)
            feeder = np.repeat(np.arange(len(rates)), rng.poisson(rates * share))
            first, count = world.feeder_start[feeder], world.feeder_count[feeder]
            if outage_type == "fault":  # a fault trips part of the line
                part = 1 + (rng.random(len(feeder)) * count).astype(np.int64)
                first = first + (rng.random(len(feeder)) * (count - part + 1)).astype(np.int64)
                count = part
            events.append((outage_type, first, count, feeder))
        for outage_type, rates in area_rates.items():
            share = hours_of.get(outage_type, self.appeal_hours).share(*sod)
            area = np.repeat(np.arange(len(rates)), rng.poisson(rates * share))
            events.append((outage_type, area, np.ones(len(area), np.int64), world.ta_feeder[area]))

        frames = []
        for outage_type, first, count, feeder in events:
            m = len(first)
            if m == 0:
                continue
            hours = hours_of.get(outage_type, self.appeal_hours)
            begin = day_start + hours.sample(rng, m, *sod)
            begin = np.maximum(begin - begin % MINUTE, start)
            frames.append(self._outage_rows(outage_type, first, count, feeder, begin, rng, ids, day))
        return concat(frames, "outage_event")

    def _outage_rows(self, outage_type, first, count, feeder, begin, rng, ids, day) -> Frame:
        outages, world = self.profile.outages, self.world
        m = len(first)
        if outage_type == "planned":
            planned_end = begin + _uniform(rng, 3 * HOUR, 9 * HOUR, m) // (30 * MINUTE) * (30 * MINUTE)
            end = planned_end + _uniform(rng, -40 * MINUTE, 60 * MINUTE, m)
            notice = begin - (rng.uniform(*outages.planned_notice_days, m) * DAY).astype(np.int64)
        elif outage_type == "temporary":
            planned_end = begin + _uniform(rng, 2 * HOUR, 6 * HOUR, m)
            end = planned_end + _uniform(rng, -30 * MINUTE, 60 * MINUTE, m)
            notice = begin - (rng.uniform(*outages.temporary_notice_hours, m) * HOUR).astype(np.int64)
        elif outage_type == "arrears":
            planned_end = np.full(m, NEVER)
            end = begin + _uniform(rng, 2 * HOUR, 3 * DAY, m)
            notice = np.full(m, NEVER)
        else:  # fault, capacity_limit, orderly: an estimated end, no notice
            planned_end = begin + _uniform(rng, 2 * HOUR, 4 * HOUR, m)
            end = begin + np.maximum(rng.lognormal(np.log(100 * MINUTE), 0.6, m), 20 * MINUTE).astype(
                np.int64
            )
            notice = np.full(m, NEVER)
        end = np.maximum(end, begin + 20 * MINUTE)
        outage_id = ids.take("outage_event", day, m)
        causes = OUTAGE_CAUSES[outage_type]
        cause = np.array(causes, dtype=object)[rng.integers(0, len(causes), m)]
        # One row per affected transformer area.
        row_event = np.repeat(np.arange(m), count)
        offset = np.arange(len(row_event)) - np.repeat(np.cumsum(count) - count, count)
        area = first[row_event] + offset
        return {
            "outage_id": outage_id[row_event],
            "ta_code": world.ta_code[area],
            "outage_type": np.full(len(area), outage_type, dtype=object),
            "station_code": world.station_code[world.feeder_station[feeder[row_event]]],
            "feeder_name": world.feeder_name[feeder[row_event]],
            "start_time": begin[row_event],
            "planned_end_time": planned_end[row_event],
            "end_time": end[row_event],
            "notice_time": notice[row_event],
            "affected_customers": world.ta_customers[area],
            "cause": cause[row_event],
            "updated_at": begin[row_event],
        }
