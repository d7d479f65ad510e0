"""The closed loop (shared/spec/risk-model.md "The closed loop"): warning episodes, their sheets,
feedback and publication, on the simulated warehouse of tests/test_dbt_risk_model.py.

The dbt unit tests (models/marts/closed_loop/_closed_loop__models.yml) pin each transition on
hand-made rows; here the episodes dbt builds from a simulated province, with feedback answers stored
in the operational table, must equal an independent walk in Python over the published risk rows,
and publication must copy them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from decimal import ROUND_HALF_UP, Decimal
from email import message_from_bytes, policy
from unittest import mock

import httpx
import pytest

from service_risk.db import connect
from tests.conftest import ROOT, Sink, published_differences, query, run_dbt
from tests.test_dbt_risk_model import warehouse  # noqa: F401  (the module's fixture, reused)

CLOSED_LOOP = (
    "path:models/staging/closed_loop path:models/intermediate/closed_loop path:models/marts/closed_loop"
)
DEADLINE_HOURS = {"red": 24, "yellow": 72}
CLOSURE_GREEN_DAYS = 3


def expected_episodes(codes: dict[str, list[tuple[dt.date, str]]], answers: dict[str, list[dt.datetime]]):
    """The spec's rules walked in Python: {episode_id: [(day, state dict)]}."""
    severity = {"green": 1, "yellow": 2, "red": 3}
    episodes: dict[str, list[tuple[dt.date, dict]]] = {}
    for station, days in codes.items():
        current = None
        for day, code in sorted(days):
            if current is None or current["closed_on"]:
                if code == "green":
                    current = None
                    continue
                current = {
                    "id": f"{station}:{day}",
                    "opened_on": day,
                    "level": code,
                    "sheet_on": day,
                    "sheet_code": code,
                    "escalated_on": None,
                    "streak": 0,
                    "closed_on": None,
                }
            elif severity[code] > severity[current["level"]]:
                current.update(level=code, escalated_on=day, sheet_on=day, sheet_code=code)
            issued = dt.datetime.combine(current["sheet_on"] + dt.timedelta(days=1), dt.time())
            day_end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
            received = min((a for a in answers.get(current["id"], []) if issued <= a < day_end), default=None)
            fresh = current["opened_on"] == day
            current["streak"] = current["streak"] + 1 if code == "green" and received and not fresh else 0
            if current["streak"] == CLOSURE_GREEN_DAYS:
                current["closed_on"] = day
            due = issued + dt.timedelta(hours=DEADLINE_HOURS[current["sheet_code"]])
            state = (
                "closed"
                if current["closed_on"]
                else "awaiting_recovery"
                if received
                else "feedback_overdue"
                if due < day_end
                else "awaiting_feedback"
            )
            episodes.setdefault(current["id"], []).append(
                (
                    day,
                    {
                        "level_code": current["level"],
                        "escalated_on": current["escalated_on"],
                        "sheet_on": current["sheet_on"],
                        "feedback_received_at": received,
                        "closed_on": current["closed_on"],
                        "episode_state": state,
                    },
                )
            )
    return episodes


@pytest.fixture(scope="module")
def answered(warehouse):  # noqa: F811
    """Feedback stored for a sample of episodes: on time, late, amended, and one before escalation."""
    episodes = query(
        "select episode_id, last_sheet_on, escalated_on from marts.fct_risk_episode order by episode_id"
    )
    assert len(episodes) >= 10, "too few episodes in the simulated province to test the rules"
    with connect("warehouse") as conn:
        conn.execute("truncate ops.episode_feedback")
        for number, (episode_id, sheet_on, _) in enumerate(episodes[::2]):
            first = dt.datetime.combine(sheet_on + dt.timedelta(days=1 + number % 4), dt.time(9 + number % 8))
            for received_at in (first, first + dt.timedelta(hours=5)) if number % 3 == 0 else (first,):
                conn.execute(
                    "insert into ops.episode_feedback (episode_id, cause, measures, responsible_person,"
                    " expected_recovery_date, received_at) values (%s, %s, %s, %s, %s, %s at time zone"
                    " 'Asia/Shanghai')",
                    (
                        episode_id,
                        "线路老化",
                        f"第{number}次整改",
                        "张三",
                        sheet_on + dt.timedelta(days=7),
                        received_at,
                    ),
                )
    run_dbt("build", "--select", f"'{CLOSED_LOOP}'")
    return episodes


def test_episodes_follow_the_rules_on_the_simulated_province(answered):
    codes: dict[str, list] = {}
    for station, day, code in query(
        "select org_code, risk_date, risk_code from marts.fct_unit_risk_daily where org_level = 'station'"
    ):
        codes.setdefault(station, []).append((day, code))
    answers: dict[str, list] = {}
    for episode_id, received_at in query(
        "select episode_id, received_at at time zone 'Asia/Shanghai' from ops.episode_feedback"
    ):
        answers.setdefault(episode_id, []).append(received_at)
    expected = expected_episodes(codes, answers)

    built = {}
    for episode_id, day, level, escalated, sheet_on, received, closed, state in query(
        "select episode_id, risk_date, level_code, escalated_on, sheet_on, feedback_received_at, closed_on,"
        " episode_state from marts.fct_station_episode_daily"
    ):
        built.setdefault(episode_id, []).append(
            (
                day,
                {
                    "level_code": level,
                    "escalated_on": escalated,
                    "sheet_on": sheet_on,
                    "feedback_received_at": received,
                    "closed_on": closed,
                    "episode_state": state,
                },
            )
        )
    assert {k: sorted(v, key=lambda row: row[0]) for k, v in built.items()} == expected
    states = {state for days in expected.values() for _, row in days for state in [row["episode_state"]]}
    # the sample exercises the rules, not only the trivial path
    assert {"awaiting_recovery", "feedback_overdue"} <= states, states
    assert any(row["escalated_on"] for days in expected.values() for _, row in days)


def test_sheets_and_unit_counts_agree_with_the_episodes(answered):
    sheets = query(
        "select count(*), count(*) filter (where sheet_kind = 'escalation') from marts.fct_risk_sheet"
    )[0]
    episodes, escalated = query("select count(*), count(escalated_on) from marts.fct_risk_episode")[0]
    assert sheets == (episodes + escalated, escalated)  # one at opening, one at escalation
    # the province's open episodes each day are the stations' open episodes that day
    mismatched = query(
        """
        select province.risk_date from marts.fct_unit_episode_daily as province
        left join (
            select risk_date, count(*) filter (where closed_on is null) as open_episodes
            from marts.fct_station_episode_daily group by risk_date
        ) as stations on province.risk_date = stations.risk_date
        where province.org_level = 'province' and province.open_episodes <> coalesce(stations.open_episodes, 0)
        """
    )
    assert mismatched == []
    # no personal data reaches the marts: the person responsible stays in the operational table
    columns = query(
        "select table_name, column_name from information_schema.columns where table_schema = 'marts'"
        " and column_name like any (array['%%person%%', '%%phone%%', '%%staff%%'])"
        " and table_name like any (array['fct_risk_%%', 'fct_%%episode%%'])"
    )
    assert columns == []


def monday_after(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) + dt.timedelta(days=7)


def test_weekly_interview_list_follows_the_rule(answered):
    """每周约谈 walked in Python over the episode days: on each Monday after a whole week, the episodes
    whose feedback was overdue on a day of the week, or that were red for more than
    `interview_red_days` days in a row during it."""
    red_limit = query("select interview_red_days from staging.stg_closed_loop__parameters")[0][0]
    days = query(
        "select episode_id, risk_date, opened_on, risk_code, is_feedback_overdue"
        " from marts.fct_station_episode_daily order by episode_id, risk_date"
    )
    last_day = max(day for _, day, *_ in days)
    expected, last_not_red = set(), {}
    for episode_id, day, opened_on, code, overdue in days:
        if code != "red":
            last_not_red[episode_id] = day
        red_in_row = (
            (day - last_not_red.get(episode_id, opened_on - dt.timedelta(days=1))).days
            if code == "red"
            else 0
        )
        monday = monday_after(day)
        if monday - dt.timedelta(days=1) <= last_day and (overdue or red_in_row > red_limit):
            expected.add((episode_id, monday))
    listed = set(query("select episode_id, interview_on from marts.fct_weekly_interview"))
    assert listed == expected
    assert {monday for _, monday in listed} and any(  # both reasons occur in the simulated province
        stayed for (stayed,) in query("select stayed_red from marts.fct_weekly_interview")
    )


def month_after(day: dt.date) -> dt.date:
    """The 1st of the month after the day's."""
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def test_training_plans_follow_the_rules_on_the_simulated_province(answered):
    """滴灌式培训 walked in Python over the risk rows: on the 1st, every station and county company with
    more than 7 red days in the month before (a whole month held); its weak indicators are at most 3
    whose mean score over the 3 months before the plan is furthest above the province's mean on the
    same days (ties in catalogue order), above it only."""
    days = query(
        "select org_code, risk_date, risk_code from marts.fct_unit_risk_daily"
        " where org_level in ('station', 'county')"
    )
    last_day = max(day for _, day, _ in days)
    red_days: dict[tuple[str, dt.date], int] = {}
    for org_code, day, code in days:
        if code == "red":
            red_days[org_code, month_after(day)] = red_days.get((org_code, month_after(day)), 0) + 1
    expected = {
        key for key, count in red_days.items() if count > 7 and key[1] - dt.timedelta(days=1) <= last_day
    }
    plans = set(query("select org_code, plan_on from marts.fct_training_plan_unit"))
    assert plans == expected and plans, "no unit with more than 7 red days in a month to test the rule"

    scores: dict[str, dict[tuple[dt.date, str], Decimal]] = {}
    for org_code, day, indicator, score in query(
        "select org_code, risk_date, indicator_code, indicator_score from marts.fct_unit_indicator_daily"
        " where org_code = any(%s) or org_level = 'province'",
        ([org_code for org_code, _ in plans],),
    ):
        scores.setdefault(org_code, {})[day, indicator] = score
    [province] = [org for org in scores if org not in {org_code for org_code, _ in plans}]
    expected_weak = set()
    for org_code, plan_on in plans:
        months = plan_on.year * 12 + plan_on.month - 1 - 3  # the 3 whole months before the plan
        history_from = dt.date(months // 12, months % 12 + 1, 1)
        gaps: dict[str, list[Decimal]] = {}
        for (day, indicator), score in scores[org_code].items():
            if history_from <= day < plan_on:
                gaps.setdefault(indicator, []).append(score - scores[province][day, indicator])
        means = {indicator: sum(values) / len(values) for indicator, values in gaps.items()}
        ranked = sorted(
            (indicator for indicator in means if means[indicator] > 0), key=lambda i: (-means[i], i)
        )
        expected_weak |= {
            (f"{org_code}:{plan_on}", indicator, rank) for rank, indicator in enumerate(ranked[:3], 1)
        }
    built = set(
        query("select training_plan_id, indicator_code, weak_rank from marts.fct_training_weak_indicator")
    )
    assert built == expected_weak
    # the staff pushed courses are named by id in the marts only; what BI reads has counts
    assert query("select count(*) from marts.fct_training_assignment where staff_id is not null")[0][0] > 0


def test_satisfaction_follows_the_rule_on_the_simulated_province(answered):
    """满意率 counted again in Python from the surveys and their orders: per unit and month of the
    survey, satisfied or basically satisfied over the surveys that reached the customer, of orders
    that are not cancelled, at the order's station and every unit above it; the change since the
    month of a station's first episode in points."""
    ancestors = {
        station: {station, county, city, province}
        for station, county, city, province in query(
            "select org_code, county_code, city_code, province_code from marts.dim_org_unit"
            " where org_level = 'station'"
        )
    }
    counts: dict[tuple[str, dt.date], list[int]] = {}
    for station, survey_time, result in query(
        "select orders.station_code, surveys.survey_time, surveys.survey_result"
        " from staging.stg_appeals__callback_surveys as surveys"
        " inner join intermediate.int_work_order_facts as orders on orders.order_no = surveys.order_no"
        " where orders.order_status <> 'cancelled' and surveys.survey_result <> 'unreachable'"
    ):
        for unit in ancestors.get(station, ()):
            count = counts.setdefault((unit, survey_time.date().replace(day=1)), [0, 0])
            count[0] += 1
            count[1] += result in ("satisfied", "basically_satisfied")
    built = {
        (org_code, month): [reached, satisfied]
        for org_code, month, reached, satisfied in query(
            "select org_code, month_from, surveys_reached, surveys_satisfied from marts.fct_unit_satisfaction_monthly"
        )
    }
    assert built == counts and len(built) > 100
    first_episode = {
        unit: opened_on.replace(day=1)
        for unit, opened_on in query(
            "select station_code, min(opened_on) from marts.fct_risk_episode group by 1"
        )
    }
    for org_code, month, change in query(
        "select org_code, month_from, satisfaction_change_since_first_episode_pp"
        " from marts.fct_unit_satisfaction_monthly where org_code = any(%s)",
        (list(first_episode),),
    ):
        start = first_episode[org_code]
        if month < start or (org_code, start) not in counts:
            assert change is None
            continue
        rate = lambda key: Decimal(counts[key][1]) / counts[key][0]  # noqa: E731
        expected = (100 * (rate((org_code, month)) - rate((org_code, start)))).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
        assert change == expected, (org_code, month)


def one_decimal(value: float | None) -> Decimal | None:
    """PostgreSQL's round(x, 1): half away from zero."""
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def test_city_supervision_follows_the_episodes(answered):
    """省公司督办 recomputed in Python from the episodes: per city and whole week, the median hours from
    the opening sheet to the first answer, the median days to closure and the reopenings."""
    window = query("select reopen_window_days from staging.stg_closed_loop__parameters")[0][0]
    episodes = query(
        "select city_code, station_code, opened_on, first_feedback_at, closed_on from marts.fct_risk_episode"
    )
    hours, closure_days, reopened = {}, {}, {}
    for city, station, opened_on, first_answer, closed_on in episodes:
        if first_answer:
            issued = dt.datetime.combine(opened_on + dt.timedelta(days=1), dt.time())
            key = (city, monday_after(first_answer.date()) - dt.timedelta(days=7))
            hours.setdefault(key, []).append((first_answer - issued).total_seconds() / 3600)
        if closed_on:
            closure_days.setdefault((city, monday_after(closed_on) - dt.timedelta(days=7)), []).append(
                (closed_on - opened_on).days
            )
        if any(
            other_station == station
            and other_closed
            and opened_on - dt.timedelta(days=window) <= other_closed < opened_on
            for _, other_station, _, _, other_closed in episodes
        ):
            key = (city, monday_after(opened_on) - dt.timedelta(days=7))
            reopened[key] = reopened.get(key, 0) + 1
    rows = query(
        "select city_code, week_from, median_hours_to_feedback, median_days_to_closure, reopened_episodes"
        " from marts.fct_city_supervision_weekly"
    )
    assert rows
    for city, week_from, median_hours, median_days, reopenings in rows:
        key = (city, week_from)
        assert median_hours == (
            round(Decimal(str(statistics.median(hours[key]))), 1) if key in hours else None
        ), key
        assert median_days == (
            round(Decimal(str(statistics.median(closure_days[key]))), 1) if key in closure_days else None
        ), key
        assert reopenings == reopened.get(key, 0), key
    assert any(median is not None for _, _, median, _, _ in rows), "no episode answered in a whole week"


def test_each_sheet_lists_its_worst_indicators_and_their_latest_orders(answered):
    """fct_risk_sheet_order against the rule walked in Python: the three highest scores above zero of
    the sheet's day (ties by code), every order adding to each one's numerator in its window counted,
    the latest three listed."""
    scores: dict[tuple, list] = {}
    for station, day, code, score in query(
        "select org_code, risk_date, indicator_code, indicator_score from marts.fct_unit_indicator_daily"
        " where org_level = 'station' and indicator_score > 0"
    ):
        scores.setdefault((station, day), []).append((-score, code))
    windows = dict(query("select indicator_code, window_days from staging.stg_risk_model__indicators"))
    events: dict[tuple, list] = {}
    for station, code, day, order_no, accepted in query(
        "select events.station_code, events.indicator_code, events.event_date, events.order_no, orders.accept_time"
        " from intermediate.int_indicator_events as events"
        " inner join marts.fct_work_order as orders on events.order_no = orders.order_no where events.numerator > 0"
    ):
        events.setdefault((station, code), []).append((day, order_no, accepted))
    expected = set()
    for sheet_id, station, day in query("select sheet_id, station_code, risk_date from marts.fct_risk_sheet"):
        for rank, (_, code) in enumerate(sorted(scores.get((station, day), []))[:3], start=1):
            start = day - dt.timedelta(days=windows[code] - 1)
            behind = sorted(
                (
                    (-accepted.timestamp(), order_no)
                    for d, order_no, accepted in events.get((station, code), [])
                    if start <= d <= day
                )
            )
            listed = [order_no for _, order_no in behind[:3]] or [None]
            expected |= {(sheet_id, rank, code, len(behind), order_no) for order_no in listed}
    built = set(
        query(
            "select sheet_id, indicator_rank, indicator_code, orders_behind, order_no"
            " from marts.fct_risk_sheet_order"
        )
    )
    assert built == expected
    assert len(built) > 100


def publish_every_day() -> None:
    """The publication of every built day (the gate's part is tested in tests/test_quality_gates.py)."""
    from service_risk.quality import publication

    days = publication.DayRange(
        *query("select min(risk_date), max(risk_date) from marts.fct_unit_risk_daily")[0]
    )
    publication.build_published_models(days)
    publication.record_publication(days, run_id="test_closed_loop")


def test_publication_copies_the_episode_days(answered):
    publish_every_day()
    differences = published_differences()
    assert {
        table: differences[table]
        for table in (
            "published.station_episode_daily",
            "published.unit_episode_daily",
            "published.risk_sheet",
            "published.risk_sheet_order",
        )
    } == {
        "published.station_episode_daily": 0,
        "published.unit_episode_daily": 0,
        "published.risk_sheet": 0,
        "published.risk_sheet_order": 0,
    }
    assert query("select count(*) from published.risk_sheet")[0][0] > 0


# --- Delivery, exactly once ----------------------------------------------------------------------

SENDER = (
    "import sys; from service_risk.closed_loop import delivery; "
    "print(delivery.deliver(channels=tuple(sys.argv[1:])), flush=True)"
)


class HoldingSink(Sink):
    """The SMTP sink of conftest, able to hold its answer to DATA (the message already received)."""

    def __init__(self) -> None:
        super().__init__()
        self.received = threading.Event()
        self.release = threading.Event()
        self.release.set()

    async def handle_DATA(self, server, session, envelope):
        # parsed with the modern policy: decoded Chinese subjects, get_content()
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        answer = "250 OK"
        self.received.set()
        while not self.release.is_set():
            await asyncio.sleep(0.05)
        return answer

    def sheets(self) -> list:
        return [m for _, m in self.messages if str(m["Subject"]).startswith("风险报告单")]

    def alerts(self) -> list:
        return [m for _, m in self.messages if str(m["Subject"]).startswith("[service-risk]")]


@pytest.fixture(scope="module")
def published_sheets(answered):
    publish_every_day()
    day, count = query(
        "select risk_date, count(*) from published.risk_sheet group by risk_date order by count(*) desc, risk_date"
        " limit 1"
    )[0]
    return day, count


@pytest.fixture
def outbox(published_sheets, monkeypatch):
    """An empty outbox, the stand-in gateway and the mail sink wired in through the environment."""
    from aiosmtpd.controller import Controller

    from tests.sms_gateway import SmsGateway as GatewayStandIn

    # the generated key (scripts/env.sh loads it into every process, an Airflow task's included)
    key = os.environ.get("SMS_GATEWAY_KEY") or secrets.token_urlsafe(16)
    gateway = GatewayStandIn("service-risk-test", key).start()
    sink = HoldingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    for name, value in {
        "SMS_GATEWAY_URL": gateway.url,
        "SMS_GATEWAY_ACCOUNT": "service-risk-test",
        "SMS_GATEWAY_KEY": key,
        "SMS_GATEWAY_TIMEOUT_SECONDS": "1",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(sink.port),
        "SR_DELIVERY_RETRY_SECONDS": "0.1",
        "SR_DELIVERY_MAX_ATTEMPTS": "4",
    }.items():
        monkeypatch.setenv(name, value)
    with connect("warehouse") as conn:
        conn.execute("truncate ops.sheet_delivery, ops.sheet_delivery_attempt")
    try:
        yield gateway, sink
    finally:
        sink.release.set()
        controller.stop()
        gateway.stop()


def enqueue_day(day) -> int:
    from service_risk.closed_loop import delivery

    with connect("warehouse") as conn:
        return delivery.enqueue(conn, day, day)


def statuses(channel: str | None = None) -> dict[str, int]:
    return dict(
        query(
            "select status, count(*) from ops.sheet_delivery where channel = coalesce(%s, channel) group by status",
            (channel,),
        )
    )


def test_contacts_outlive_a_rebuild_of_their_base_models(outbox, published_sheets):
    """The hourly delivery reads the contacts while a daily build runs: rebuilding the base models
    upstream (as every build does, node by node) must leave them readable, as a dependent view is not
    (dropped by the cascade until its own node runs; a soak's sheets run failed on it)."""
    run_dbt("run", "--select", "base_marketing__unit_contacts", "base_marketing__staff_members")
    relations = ("staging.stg_marketing__unit_contacts", "staging.stg_marketing__staff_members")
    assert [query("select to_regclass(%s) is not null", (name,))[0][0] for name in relations] == [True, True]
    assert enqueue_day(published_sheets[0]) > 0  # the outbox is empty: every sheet of the day is added


def test_each_sheet_reaches_each_contact_once_per_channel_across_reruns(outbox, published_sheets):
    from service_risk.closed_loop import delivery

    gateway, sink = outbox
    day, sheets = published_sheets
    added = enqueue_day(day)
    contacts = query(
        "select sheets.sheet_id, contacts.staff_id from published.risk_sheet as sheets"
        " inner join staging.stg_marketing__unit_contacts as contacts on sheets.station_code = contacts.org_code"
        " where sheets.risk_date = %s",
        (day,),
    )
    assert added == 2 * len(contacts) and len(contacts) == 2 * sheets  # both roles, both channels
    report = delivery.deliver()
    assert report.sent == added and not report.failed and not report.unknown, report
    for _ in range(2):  # re-runs: nothing new to enqueue, nothing sent again
        assert enqueue_day(day) == 0
        assert delivery.deliver().sent == 0
    assert len(gateway.sent_to()) == len(contacts) == len(sink.sheets())
    assert statuses() == {"sent": added}
    # the SMS carries the link to the episode's form; the e-mail a stable Message-ID per row
    rows = query(
        "select sheet_id, recipient_staff_id, channel, address, client_message_id from ops.sheet_delivery"
    )
    by_client = {m["client_message_id"]: m for m in gateway.sent_to()}
    for sheet_id, staff_id, channel, address, client_id in rows:
        assert client_id == delivery.client_message_id(sheet_id, staff_id, channel)
        if channel == "sms":
            assert by_client[client_id]["to"] == address and "/feedback/" in by_client[client_id]["text"]
    assert {m["Message-ID"] for m in sink.sheets()} == {
        delivery.message_id(client_id) for *_, channel, _, client_id in rows if channel == "email"
    }


def test_gateway_errors_and_timeouts_are_retried_without_a_second_message(outbox, published_sheets):
    from service_risk.closed_loop import delivery

    gateway, _ = outbox
    day, _ = published_sheets
    added = enqueue_day(day)
    gateway.fail_next(2, status=500)  # refused
    gateway.fail_next(1, status=500, after_storing=True)  # sent, but the answer says 500
    gateway.hang_next(1, seconds=3, after_storing=True)  # sent, the answer never comes in time
    gateway.hang_next(1, seconds=3)  # dropped after a long wait
    report = delivery.deliver(channels=("sms",))
    assert report.retried == 5 and report.sent == added // 2 and not report.failed, report
    assert len(gateway.sent_to()) == added // 2  # one message per row, the lost answers included
    assert gateway.requests == added // 2 + 5
    assert query("select count(*) from ops.sheet_delivery_attempt where outcome = 'retry'")[0][0] == 5


def test_a_message_that_keeps_failing_is_alerted_once(outbox, published_sheets):
    from service_risk.closed_loop import delivery

    gateway, sink = outbox
    day, _ = published_sheets
    enqueue_day(day)
    gateway.fail_next(1000, status=500)
    started = time.monotonic()
    report = delivery.deliver(channels=("sms",))
    assert len(report.failed) == query("select count(*) from ops.sheet_delivery where channel = 'sms'")[0][0]
    assert time.monotonic() - started >= 0.1 + 0.2 + 0.4  # backoff between the 4 attempts
    assert gateway.sent_to() == [] and len(sink.alerts()) == 1
    assert "failed after 4 attempt(s)" in sink.alerts()[0].get_content()
    delivery.deliver(channels=("sms",))
    assert len(sink.alerts()) == 1  # reported once


def start_sender(*channels: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SENDER, *channels], cwd=ROOT, env=dict(os.environ))


def test_sms_killed_between_send_and_record_is_one_message(outbox, published_sheets):
    from service_risk.closed_loop import delivery

    gateway, _ = outbox
    day, _ = published_sheets
    enqueue_day(day)
    gateway.hold_answers()
    sender = start_sender("sms")
    assert gateway.received.wait(120), "the sender never reached the gateway"
    os.kill(sender.pid, signal.SIGKILL)  # the gateway has the message, the outbox does not know
    sender.wait(30)
    gateway.release.set()
    assert statuses("sms").get("sending") == 1
    report = delivery.deliver(channels=("sms",))
    assert report.recovered == 1 and not report.failed and not report.unknown, report
    sms_rows = query("select count(*) from ops.sheet_delivery where channel = 'sms'")[0][0]
    assert statuses("sms") == {"sent": sms_rows}
    # one message per row at the gateway; the killed row was found by the delivery report, not resent
    assert len(gateway.sent_to()) == sms_rows and gateway.requests == sms_rows


def test_email_killed_between_send_and_record_is_one_message_or_one_alert(outbox, published_sheets):
    from service_risk.closed_loop import delivery

    _, sink = outbox
    day, _ = published_sheets
    enqueue_day(day)
    sink.release.clear()
    sender = start_sender("email")
    assert sink.received.wait(120), "the sender never reached the mail server"
    os.kill(sender.pid, signal.SIGKILL)
    sender.wait(30)
    sink.release.set()
    [(sheet_id, message_id)] = query(
        "select sheet_id, client_message_id from ops.sheet_delivery where status = 'sending'"
    )
    report = delivery.deliver(channels=("email",))
    assert len(report.unknown) == 1 and report.recovered == 1 and not report.failed, report
    assert query("select status from ops.sheet_delivery where client_message_id = %s", (message_id,)) == [
        ("unknown",)
    ]
    # the one mail that did leave was not sent again; the data engineers were told, once
    assert [m["Message-ID"] for m in sink.sheets()].count(delivery.message_id(message_id)) == 1
    assert len(sink.alerts()) == 1 and sheet_id in sink.alerts()[0].get_content()
    delivery.deliver(channels=("email",))
    assert len(sink.alerts()) == 1
    assert [m["Message-ID"] for m in sink.sheets()].count(delivery.message_id(message_id)) == 1


def test_overdue_feedback_reminds_the_county_leader_once(outbox, published_sheets):
    from service_risk.closed_loop import delivery

    gateway, sink = outbox
    day = query("select max(risk_date) from published.station_episode_daily")[0][0]
    overdue = query(
        "select days.episode_id, contacts.staff_id from published.station_episode_daily as days"
        " inner join staging.stg_marketing__unit_contacts as contacts"
        "   on days.county_code = contacts.org_code and contacts.contact_role = 'leader_in_charge'"
        " where days.risk_date = %s and days.is_feedback_overdue",
        (day,),
    )
    assert overdue, "no overdue feedback on the last day to remind about"
    for _ in range(2):
        with connect("warehouse") as conn:
            delivery.enqueue_reminders(conn, day, day)
        delivery.deliver()
    reminders = [m for m in gateway.sent_to() if "已逾期" in m["text"]]
    assert len(reminders) == len(overdue)  # one per overdue sheet, across re-runs
    assert len([m for m in sink.messages if str(m[1]["Subject"]).startswith("反馈逾期提醒")]) == len(overdue)
    assert statuses() == {"sent": 2 * len(overdue)}


def test_the_dag_sends_every_published_sheet_once(outbox, dag_runner):
    """send_risk_sheets as Airflow runs it (airflow dags test), twice: everything published is sent
    once, the second run sends nothing."""
    gateway, sink = outbox
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    for run in range(2):
        result = dag_runner("send_risk_sheets", (moment + dt.timedelta(minutes=run)).isoformat())
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    rows = dict(query("select channel, count(*) from ops.sheet_delivery group by channel"))
    assert statuses() == {"sent": rows["sms"] + rows["email"]}
    assert len(gateway.sent_to()) == rows["sms"] and gateway.requests == rows["sms"]
    assert len([m for _, m in sink.messages if not str(m["Subject"]).startswith("[")]) == rows["email"]
    sheets = query("select count(*) from published.risk_sheet")[0][0]
    assert (
        query("select count(distinct sheet_id) from ops.sheet_delivery where purpose = 'sheet'")[0][0]
        == sheets
    )


def test_monday_lists_reach_city_and_province_leaders_once(outbox, dag_runner):
    """send_weekly_lists as Airflow runs it, for a Monday and again from that Thursday (which sends the
    Monday's lists): each city company with episodes to interview mails its list to both its leaders,
    the province's leaders get the supervision summary, each once; the list names every episode of
    the city's interview rows."""
    _, sink = outbox
    [(monday,)] = query("select max(interview_on) from published.weekly_interview")
    assert monday is not None and monday.weekday() == 0, "no published weekly interview list"
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)  # a run of its own, whatever ran before
    for run, conf in enumerate(
        ({"interview_on": str(monday)}, {"interview_on": str(monday + dt.timedelta(days=3))})
    ):
        result = dag_runner("send_weekly_lists", (moment + dt.timedelta(minutes=run)).isoformat(), conf)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    city_leaders = query(
        "select lists.city_code, lists.city_name, contacts.staff_id from"
        " (select distinct city_code, city_name from published.weekly_interview where interview_on = %s) as lists"
        " inner join staging.stg_marketing__unit_contacts as contacts on contacts.org_code = lists.city_code",
        (monday,),
    )
    province_leaders = query(
        "select contacts.staff_id from staging.stg_marketing__unit_contacts as contacts"
        " inner join published.org_unit as units on units.org_code = contacts.org_code"
        " where units.org_level = 'province'"
    )
    interview_mails = [m for _, m in sink.messages if str(m["Subject"]).startswith("每周约谈清单｜")]
    supervision_mails = [m for _, m in sink.messages if str(m["Subject"]).startswith("省公司督办周报｜")]
    assert len(interview_mails) == len(city_leaders) > 0
    assert len(supervision_mails) == len(province_leaders) > 0
    assert len({m["Message-ID"] for m in interview_mails + supervision_mails}) == len(city_leaders) + len(
        province_leaders
    )
    for city_code, city_name, _ in city_leaders:
        [mail, *_] = [m for m in interview_mails if city_name in str(m["Subject"])]
        html = mail.get_body(("html",)).get_content()
        episodes = query(
            "select episode_id from published.weekly_interview where city_code = %s and interview_on = %s",
            (city_code, monday),
        )
        assert all(episode_id in html for (episode_id,) in episodes)
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content().startswith(b"%PDF")
    cities = query(
        "select city_name from published.city_supervision_weekly where week_from = %s",
        (monday - dt.timedelta(days=7),),
    )
    summary = supervision_mails[0].get_body(("html",)).get_content()
    assert cities and all(city_name in summary for (city_name,) in cities)
    assert statuses() == {"sent": len(city_leaders) + len(province_leaders)}


def test_first_of_month_training_plans_reach_each_units_leader_once(outbox, dag_runner):
    """send_training_plans as Airflow runs it, for the 1st and again from the 15th (which sends the
    1st's plans): each unit on the plan mails it to its 分管领导 once, with its weak indicators, the
    courses and their learners, the PDF and the completion form's link."""
    _, sink = outbox
    [(plan_on,)] = query("select max(plan_on) from published.training_plan")
    assert plan_on is not None and plan_on.day == 1, "no published training plan"
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)  # a run of its own, whatever ran before
    for run, conf in enumerate(
        ({"plan_on": str(plan_on)}, {"plan_on": str(plan_on + dt.timedelta(days=14))})
    ):
        result = dag_runner("send_training_plans", (moment + dt.timedelta(minutes=run)).isoformat(), conf)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    leaders = query(
        "select plans.training_plan_id, plans.org_name, contacts.staff_id from"
        " (select distinct training_plan_id, org_code, org_name from published.training_plan where plan_on = %s)"
        " as plans inner join staging.stg_marketing__unit_contacts as contacts"
        "   on contacts.org_code = plans.org_code and contacts.contact_role = 'leader_in_charge'",
        (plan_on,),
    )
    mails = [m for _, m in sink.messages if str(m["Subject"]).startswith("滴灌式培训计划｜")]
    assert len(mails) == len(leaders) > 0
    assert len({m["Message-ID"] for m in mails}) == len(leaders)
    for plan_id, org_name, _ in leaders:
        [mail, *_] = [m for m in mails if f"｜{org_name}｜" in str(m["Subject"])]
        html = mail.get_body(("html",)).get_content()
        for label, courses in query(
            "select indicator_label, course_titles_zh from published.training_plan where training_plan_id = %s",
            (plan_id,),
        ):
            assert label in html and all(title in html for title in (courses or "").split("；"))
        learners = query(
            "select distinct staff.staff_name from published.training_assignment as assignments"
            " inner join staging.stg_marketing__staff_notification_addresses as staff using (staff_id)"
            " where assignments.training_plan_id = %s",
            (plan_id,),
        )
        assert all(name in html for (name,) in learners)
        assert "/training/" in mail.get_body(("plain",)).get_content()
        [attachment] = list(mail.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_content().startswith(b"%PDF")
    assert statuses() == {"sent": len(leaders)}


# --- The feedback form, in a real browser --------------------------------------------------------


@pytest.fixture(scope="module")
def feedback_form(published_sheets):
    """The form served by uvicorn as `make demo` serves it, on a free port."""
    from tests.superset_fixtures import free_port

    port = free_port()
    env = dict(os.environ, FEEDBACK_BASE_URL=f"http://127.0.0.1:{port}")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "service_risk.closed_loop.feedback_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        server.kill()
        pytest.fail("the feedback form did not start")
    try:
        yield base
    finally:
        server.terminate()
        server.wait(30)


ANSWERS = [
    ("台区线路老化，故障报修集中", "更换老旧导线，增派抢修人员", dt.date(2026, 7, 15)),
    ("台区线路老化", "已更换导线，并对抢修班组培训", None),
]


def publish_latest_day() -> None:
    """What the next daily run's publication does for the board: the published models over the
    latest published day (the day itself unchanged)."""
    from service_risk.quality import publication

    latest = publication.published_through()
    publication.build_published_models(publication.DayRange(latest, latest))


def tracked(episode_id: str) -> tuple:
    """The episode's row on the 风险预警跟踪 board (its dataset is this published table)."""
    return query(
        "select state_zh, is_overdue, feedback_received_at is not null, feedback_measures"
        " from published.episode_tracking_current where episode_id = %s",
        (episode_id,),
    )[0]


def test_feedback_form_in_a_real_browser(feedback_form):
    from service_risk.closed_loop import tokens
    from tests.offline import draws_chinese, intranet_browser

    episode_id, station_name = query(
        "select episode_id, station_name from published.episode_tracking_current"
        " where state_zh = '反馈逾期' order by episode_id limit 1"
    )[0]
    with connect("warehouse") as conn:
        conn.execute("delete from ops.episode_feedback where episode_id = %s", (episode_id,))
    publish_latest_day()
    assert tracked(episode_id) == ("反馈逾期", 1, False, None)
    link = f"{feedback_form}/feedback/{tokens.episode_token(episode_id)}"
    with intranet_browser("feedback_form") as (page, _):
        response = page.goto(link)
        assert response.status == 200
        assert station_name in page.content() and "已逾期" in page.content()
        # the first answer, then a second that amends it: both are kept and shown
        for cause, measures, recovery in ANSWERS:
            page.fill("#cause", cause)
            page.fill("#measures", measures)
            page.fill("#responsible_person", "王五")
            page.fill("#expected_recovery_date", recovery.isoformat() if recovery else "")
            page.click("button[type=submit]")
            page.wait_for_selector(".saved")
            assert measures in page.content()
        assert "补充/更正" in page.content()
        page.screenshot(path=str(ROOT / "artifacts" / "feedback_form.png"), full_page=True)
        assert draws_chinese(page), "no CJK font: Chinese shows as boxes (scripts/bootstrap.sh installs one)"

        tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
        response = page.goto(tampered)
        assert response.status == 403 and "链接无效" in page.content()
        with mock.patch("itsdangerous.timed.time.time", return_value=time.time() - 31 * 86400):
            expired = tokens.episode_token(episode_id)
        response = page.goto(f"{feedback_form}/feedback/{expired}")
        assert response.status == 410 and "链接已过期" in page.content()
    answers = query(
        "select cause, measures, responsible_person, expected_recovery_date from ops.episode_feedback"
        " where episode_id = %s order by feedback_id",
        (episode_id,),
    )
    assert answers == [(cause, measures, "王五", recovery) for cause, measures, recovery in ANSWERS]
    # after the next publication the board shows the answer: no longer overdue, the amended measures
    publish_latest_day()
    assert tracked(episode_id) == ("已反馈待消除", 0, True, ANSWERS[-1][1])
    # a post from another site (no cookie of the form's origin) is refused
    forged = httpx.post(
        link,
        data={"csrf": "guess", "cause": "x", "measures": "x", "responsible_person": "x"},
        headers={"Origin": "http://evil.invalid"},
    )
    assert forged.status_code == 403
    assert len(query("select 1 from ops.episode_feedback where episode_id = %s", (episode_id,))) == 2


def test_training_completion_form_in_a_real_browser(feedback_form):
    """The plan's link opens the completion form: ticking a course records it (who recorded it stays
    in ops), the form shows it at once, and after the next build and publication the board's plan
    counts it; a link of the feedback form does not open it."""
    from service_risk.closed_loop import tokens
    from tests.offline import intranet_browser

    plan_id, assignment_id, indicator, course = query(
        "select training_plan_id, assignment_id, indicator_code, course_title_zh from published.training_assignment"
        " where staff_id is not null order by plan_on desc, training_plan_id, staff_rank, assignment_id limit 1"
    )[0]
    with connect("warehouse") as conn:
        conn.execute("truncate ops.training_completion")
    completed = "select completed_count from published.training_plan where training_plan_id = %s"
    assert {count for (count,) in query(completed, (plan_id,))} == {0}
    link = f"{feedback_form}/training/{tokens.training_plan_token(plan_id)}"
    done_on = query("select least(current_date, plan_on + 9) from published.training_assignment limit 1")[0][
        0
    ]
    with intranet_browser("training_form") as (page, _):
        assert page.goto(link).status == 200
        assert course in page.content()
        page.check(f"input[name=completed][value='{assignment_id}']")
        page.fill(f"input[name='completed_on:{assignment_id}']", done_on.isoformat())
        page.fill("#recorded_by", "赵六")
        page.click("button[type=submit]")
        page.wait_for_selector(".saved")
        assert page.is_checked(f"input[name=completed][value='{assignment_id}']")
        page.screenshot(path=str(ROOT / "artifacts" / "training_form.png"), full_page=True)
        # the feedback form's link is not a training link
        episode_token = tokens.episode_token(plan_id)
        assert page.goto(f"{feedback_form}/training/{episode_token}").status == 403
    assert query(
        "select assignment_id, is_completed, completed_on, recorded_by from ops.training_completion"
    ) == [(assignment_id, True, done_on, "赵六")]
    run_dbt("build", "--select", "stg_closed_loop__training_completions+", "--exclude", "tag:publication")
    publish_latest_day()
    assert query(
        "select is_completed, completed_on from published.training_assignment where assignment_id = %s",
        (assignment_id,),
    ) == [(1, done_on)]
    assert query(completed + " and indicator_code = %s", (plan_id, indicator)) == [(1,)]


def test_tracking_dashboard_datasets_run_on_the_published_tables(published_sheets):
    """The 风险预警跟踪 datasets are published relations with rows and the region keys the
    provisioning's row-level security filters on (city_code, province_code); no personal data."""
    import yaml

    for name in ("episode_tracking_current", "episode_timeline"):
        config = yaml.safe_load((ROOT / "superset/assets/datasets/warehouse" / f"{name}.yaml").read_text())
        with connect("warehouse") as conn:
            assert config["sql"] is None and config["schema"] == "published", name  # physical, built by dbt
            cursor = conn.execute(f"select * from published.{config['table_name']}")
            rows = cursor.fetchall()
            columns = [c.name for c in cursor.description]
        assert rows, name
        assert {"city_code", "province_code"} <= set(columns)
        assert {c["column_name"] for c in config["columns"] if not c["expression"]} <= set(columns)
        assert not any("person" in c or "phone" in c or "mobile" in c for c in columns)
    current = query(
        "select count(*) from published.station_episode_daily"
        " where risk_date = (select max(risk_date) from published.station_episode_daily)"
    )[0][0]
    assert current > 0
