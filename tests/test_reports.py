"""Scheduled e-mail reports and alerts (issue 6): a real Superset with its Celery worker and
beat, the subscriptions of superset/subscriptions.yaml, and a local SMTP sink.

Reports are triggered by switching their crontab to every minute through the API (the beat
then schedules them as it would at 08:00). Mails land in an aiosmtpd sink on a free port.
"""

from __future__ import annotations

import email
import os
import re
import threading
import time
from email import policy

import psycopg
import pytest
import yaml
from aiosmtpd.controller import Controller

from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ACCESS_FILE, ADMIN_USER, SUBSCRIPTIONS_FILE
from tests.conftest import ARTIFACTS, query
from tests.offline import intranet_browser, mail_as_page
from tests.personal_data import PersonalDataScan
from tests.superset_fixtures import SupersetServer, build_test_warehouse, free_port, region_username

pytestmark = pytest.mark.slow

DATA_ENGINEERS = "de-oncall@service-risk.invalid,de-lead@service-risk.invalid"
SUBJECT_PREFIX = "[风险看板]"
MAIL_WAIT = 240  # seconds: up to a minute until the beat's next tick, then the render


class Sink:
    """Collects every message: (arrival time, envelope recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[float, list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((time.time(), list(envelope.rcpt_tos), message))
        return "250 OK"

    def wait_for(self, subject: str, timeout: float = MAIL_WAIT, count: int = 1):
        """The first `count` mails whose subject starts with `subject` (Superset appends
        ': <dashboard title>' to a dashboard report's name)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [m for m in self.messages if str(m[2]["Subject"]).startswith(subject)]
            if len(found) >= count:
                return found[:count] if count > 1 else found[0]
            time.sleep(1)
        with self.lock:
            seen = [m["Subject"] for _, _, m in self.messages]
        raise AssertionError(f"no mail {subject!r} within {timeout} s; got {seen}")


@pytest.fixture(scope="module")
def sink():
    handler = Sink()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield handler, controller.port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def superset(sink):
    _, port = sink
    build_test_warehouse()
    server = SupersetServer()
    server.env.update(
        {
            "SUPERSET_CELERY_WORKER": "1",  # worker + beat
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_FROM": "superset-test@service-risk.invalid",
            "DATA_ENGINEER_EMAILS": DATA_ENGINEERS,
        }
    )
    try:
        server.prepare()
        server.start()
        server.provision("reports-provision-1")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def admin(superset):
    return SupersetClient(superset.url, ADMIN_USER, os.environ["SUPERSET_ADMIN_PASSWORD"])


def metadata(sql: str, params=()) -> list[tuple]:
    with psycopg.connect(
        host=os.environ["PGHOST"], user=os.environ["PGUSER"], dbname=os.environ["SR_DB_PREFIX"] + "superset"
    ) as conn:
        return conn.execute(sql, params).fetchall()


def leaders(org_code: str) -> set[str]:
    """The unit's contacts' work e-mails, straight from the marketing staging models."""
    rows = query(
        "select staff.email from staging.stg_marketing__unit_contacts as contact "
        "join staging.stg_marketing__staff_members as staff using (staff_id) "
        "where contact.org_code = %s and contact.contact_role in ('leader_in_charge', 'department_head')",
        (org_code,),
    )
    return {email_ for (email_,) in rows if email_}


def reports(client) -> dict[str, dict]:
    return {
        r["name"]: r
        for r in client.list_all("/api/v1/report/", columns=["id", "name", "type", "crontab", "timezone"])
    }


@pytest.fixture(scope="module")
def city():
    """(code, name) of the city with the most red stations on the latest day (alert has a list)."""
    return query(
        "with latest as (select max(risk_date) as d from published.unit_risk_daily) "
        "select o.org_code, o.org_name from marts.dim_org_unit as o "
        "left join published.unit_risk_daily as r on r.city_code = o.org_code "
        "and r.org_level = 'station' and r.risk_code = 'red' and r.risk_date = (select d from latest) "
        "where o.org_level = 'city' group by 1, 2 order by count(r.org_code) desc, 1 limit 1"
    )[0]


def test_subscriptions_applied_idempotently(superset, admin):
    cities = query("select org_code, org_name from marts.dim_org_unit where org_level = 'city'")
    first = reports(admin)
    assert first["省级总览周报"]["crontab"] == "0 8 * * 1"
    for code, name in cities:
        assert first[f"地市风险钻取日报 {name}"]["crontab"] == "0 8 * * *", code
        assert first[f"红码供电所增加 {name}"]["type"] == "Alert"
    assert {r["timezone"] for r in first.values()} == {"Asia/Shanghai"}
    superset.provision("reports-provision-2")
    assert reports(admin) == first


def test_alert_sql_counts_red_increase(admin, city):
    """The alert's number is today's red stations minus yesterday's, per city."""
    code, name = city
    alert = admin.get(f"/api/v1/report/{reports(admin)[f'红码供电所增加 {name}']['id']}")["result"]
    (expected,) = query(
        "with latest as (select max(risk_date) as d from published.unit_risk_daily) "
        "select (select count(*) from published.unit_risk_daily, latest where risk_date = d "
        "and city_code = %(c)s and org_level = 'station' and risk_code = 'red') - "
        "(select count(*) from published.unit_risk_daily, latest where risk_date = d - 1 "
        "and city_code = %(c)s and org_level = 'station' and risk_code = 'red')",
        {"c": code},
    )
    assert query(alert["sql"]) == [expected]
    assert alert["validator_type"] == "operator"


def _payload(message, subtype: str) -> bytes:
    for part in message.walk():
        if part.get_content_type() == subtype:
            return part.get_payload(decode=True)
    return b""


def test_city_report_alert_and_failure_reach_the_mailbox(superset, admin, sink, city):
    handler, _ = sink
    code, name = city
    all_reports = reports(admin)
    report_name, alert_name = f"地市风险钻取日报 {name}", f"红码供电所增加 {name}"
    report_id, alert_id = all_reports[report_name]["id"], all_reports[alert_name]["id"]
    dashboard_id = next(
        d["id"]
        for d in admin.list_all("/api/v1/dashboard/", columns=["id", "slug"])
        if d["slug"] == "risk-drill-down"
    )
    alert = admin.get(f"/api/v1/report/{alert_id}")["result"]
    # A failing alert, owned like the standing ones: its error must reach the data engineers.
    failing = admin.post(
        "/api/v1/report/",
        {
            "type": "Alert",
            "name": "故障演练",
            "crontab": "* * * * *",
            "timezone": "Asia/Shanghai",
            "database": alert["database"]["id"],
            "sql": "select no_such_column from marts.dim_org_unit",
            "validator_type": "operator",
            "validator_config_json": {"op": ">", "threshold": 0},
            "chart": alert["chart"]["id"],
            "report_format": "TEXT",
            # Not "charts": Superset allows one chart-menu report per chart.
            "creation_method": "alerts_reports",
            "owners": [o["id"] for o in alert["owners"]],
            "recipients": [
                {"type": "Email", "recipient_config_json": {"target": "nobody@service-risk.invalid"}}
            ],
        },
    )["id"]
    (last_log,) = metadata("select coalesce(max(id), 0) from logs")[0]
    triggered = time.time()
    admin.put(f"/api/v1/report/{report_id}", {"crontab": "* * * * *"})
    # Fire now whatever the day's numbers: the condition itself is tested above.
    admin.put(
        f"/api/v1/report/{alert_id}",
        {"crontab": "* * * * *", "validator_config_json": {"op": ">", "threshold": -1000000}},
    )
    try:
        arrived, rcpt, message = handler.wait_for(f"{SUBJECT_PREFIX} {report_name}: ")
        mails = {"report mail": message}
        print(
            f"city report mailed {arrived - triggered:.1f} s after the trigger, "
            f"{arrived % 60:.1f} s after the beat's minute"
        )
        assert set(rcpt) == leaders(code) and rcpt
        png = _payload(message, "image/png")
        assert png.startswith(b"\x89PNG") and len(png) > 20_000, len(png)

        arrived, rcpt, message = handler.wait_for(f"{SUBJECT_PREFIX} {alert_name}")
        print(f"city alert mailed {arrived - triggered:.1f} s after the trigger")
        assert set(rcpt) == leaders(code)
        mails["alert mail"] = message
        body = _payload(message, "text/html").decode()
        stations = query(
            "select org_name, city_code from published.unit_risk_daily where org_level = 'station' "
            "and risk_code = 'red' and risk_date = (select max(risk_date) from published.unit_risk_daily)"
        )
        own = {station for station, station_city in stations if station_city == code}
        others = {station for station, station_city in stations if station_city != code} - own
        assert own, "the test data has no red station on the latest day"
        assert {s for s in own if s in body} == own
        assert {s for s in others if s in body} == set()

        # One mail per owner: the admin and each data engineer.
        failures = handler.wait_for(f"{SUBJECT_PREFIX} Error occurred for Alert: 故障演练", count=3)
        print(f"failure mailed {max(f[0] for f in failures) - triggered:.1f} s after the trigger")
        assert set(DATA_ENGINEERS.split(",")) <= {r for f in failures for r in f[1]}
        states = {row["state"] for row in admin.get(f"/api/v1/report/{failing}/log/")["result"]}
        assert "Error" in states, states
    finally:
        for report in (report_id, alert_id):
            admin.put(f"/api/v1/report/{report}", {"active": False})
        admin.request("DELETE", f"/api/v1/report/{failing}")

    # No personal data in what the mails say (their text; the PNG draws the dashboard's data, which
    # tests/test_security.py scans as the BI reader): no mobile, ID number, address or person's name.
    scan = PersonalDataScan()
    for label, mail in mails.items():
        text = " ".join(part.get_content() for part in mail.walk() if part.get_content_maintype() == "text")
        # the inline image's Content-ID is random digits (once an 18-digit run that looked like an ID number)
        text = re.sub(r"cid:[^\"'>\s]+", "cid:", text)
        assert text and scan.kinds(text) == [], label

    # Opened as a manager would on the intranet: what the mails show comes with them (issue 18).
    (ARTIFACTS / "screenshots").mkdir(parents=True, exist_ok=True)
    shown = {}
    with intranet_browser("report-mails", viewport={"width": 1200, "height": 1600}) as (page, intranet):
        for label, mail in mails.items():
            intranet.page_label = label
            page.set_content(mail_as_page(mail), wait_until="load")
            images = "[...document.images].map((i) => i.complete && i.naturalWidth > 0)"
            shown[label] = page.evaluate(images)
            page.screenshot(path=str(ARTIFACTS / "screenshots" / f"{label.replace(' ', '-')}.png"))
    assert all(all(images) for images in shown.values()), shown
    assert len(shown["report mail"]) >= 1  # the dashboard's PNG, inline
    assert intranet.problems() == []

    # Execution log: success, and the dashboard's data was read as the city user only (RLS).
    assert "Success" in {row["state"] for row in admin.get(f"/api/v1/report/{report_id}/log/")["result"]}
    readers = metadata(
        "select distinct u.username from logs as l join ab_user as u on u.id = l.user_id "
        "where l.id > %s and l.action = 'ChartDataRestApi.data' and l.dashboard_id = %s",
        (last_log, dashboard_id),
    )
    assert readers == [(region_username(code),)]


def names(client, path: str, key: str = "name") -> set[str]:
    return set(client.ids_by(path, key))


def test_entries_removed_from_the_files_are_removed_from_superset(superset, admin, tmp_path):
    """As code means reconciled: a report, an RLS rule, a role and a data engineer dropped from
    the files (and the environment) are gone after the next provision, hand-made objects stay,
    and putting the entries back brings the objects back. Dropped here: the province's weekly
    report, the cities' alerts (with their charts), the province's RLS rule and region role (its
    login keeps viewer and subscriber)."""
    province_report = reports(admin)["省级总览周报"]["id"]
    kept_engineer, dropped_engineer = (address.split("@")[0] for address in DATA_ENGINEERS.split(","))
    # Made by hand: provisioning must not touch them.
    hand_role = admin.post("/api/v1/security/roles/", {"name": "区县观察员"})["id"]
    dashboards = admin.ids_by("/api/v1/dashboard/", "slug")
    hand_report = admin.post(
        "/api/v1/report/",
        {
            "type": "Report",
            "name": "手工订阅 省级总览",
            "crontab": "0 9 * * 1",
            "timezone": "Asia/Shanghai",
            "dashboard": dashboards["province-overview"],
            "report_format": "PNG",
            "creation_method": "alerts_reports",
            "owners": [admin.ids_by("/api/v1/security/users/", "username")[ADMIN_USER]],
            "recipients": [
                {"type": "Email", "recipient_config_json": {"target": "hand@service-risk.invalid"}}
            ],
        },
    )["id"]
    before = {
        "reports": set(reports(admin)),
        "charts": names(admin, "/api/v1/chart/", "slice_name"),
        "rls": names(admin, "/api/v1/rowlevelsecurity/"),
        "roles": names(admin, "/api/v1/security/roles/"),
        "users": names(admin, "/api/v1/security/users/", "username"),
    }
    alerts = {name for name, report in reports(admin).items() if report["type"] == "Alert"}
    alert_charts = {
        admin.get(f"/api/v1/report/{reports(admin)[name]['id']}")["result"]["chart"]["slice_name"]
        for name in alerts
    }
    assert alerts and alert_charts <= before["charts"]
    assert {"sr_rls_sr_province", "sr_province", "区县观察员"} <= before["rls"] | before["roles"]
    assert {f"de_{kept_engineer}", f"de_{dropped_engineer}"} <= before["users"]

    access = yaml.safe_load(ACCESS_FILE.read_text(encoding="utf-8"))
    access["row_level_security"] = [
        r for r in access["row_level_security"] if r["name"] != "sr_rls_sr_province"
    ]
    access["roles"] = [r for r in access["roles"] if r["name"] != "sr_province"]
    for user in access["users"] + list(access["managers"]["levels"].values()):
        user["roles"] = [role for role in user["roles"] if role != "sr_province"]
    subscriptions = yaml.safe_load(SUBSCRIPTIONS_FILE.read_text(encoding="utf-8"))
    subscriptions["reports"] = [r for r in subscriptions["reports"] if r["name"] != "省级总览周报"]
    subscriptions["alerts"] = []
    (tmp_path / "access.yaml").write_text(yaml.safe_dump(access, allow_unicode=True), encoding="utf-8")
    (tmp_path / "subscriptions.yaml").write_text(
        yaml.safe_dump(subscriptions, allow_unicode=True), encoding="utf-8"
    )
    try:
        output = superset.provision(
            "reports-provision-reconciled",
            "--access",
            str(tmp_path / "access.yaml"),
            "--subscriptions",
            str(tmp_path / "subscriptions.yaml"),
            env={"DATA_ENGINEER_EMAILS": DATA_ENGINEERS.split(",")[0]},
        )
        assert "removed reports no longer in the files: 省级总览周报" in output
        after = {
            "reports": set(reports(admin)),
            "charts": names(admin, "/api/v1/chart/", "slice_name"),
            "rls": names(admin, "/api/v1/rowlevelsecurity/"),
            "roles": names(admin, "/api/v1/security/roles/"),
            "users": names(admin, "/api/v1/security/users/", "username"),
        }
        assert after == {
            "reports": before["reports"] - {"省级总览周报"} - alerts,
            "charts": before["charts"] - alert_charts,
            "rls": before["rls"] - {"sr_rls_sr_province"},
            "roles": before["roles"] - {"sr_province"},
            "users": before["users"] - {f"de_{dropped_engineer}"},
        }
        # The removed report no longer sends: its schedule is gone, the beat has nothing to run.
        gone = admin.http.get(f"{admin.base_url}/api/v1/report/{province_report}", timeout=30)
        assert gone.status_code == 404, gone.text[:300]
        assert metadata("select count(*) from report_schedule where id = %s", (province_report,)) == [(0,)]
        # The province's login lost the removed role with it.
        province_user = admin.ids_by("/api/v1/security/users/", "username")[region_username(province_code())]
        roles = {r["name"] for r in admin.get(f"/api/v1/security/users/{province_user}")["result"]["roles"]}
        assert roles == {"sr_viewer", "sr_subscriber"}

        superset.provision("reports-provision-restored")
        assert names(admin, "/api/v1/chart/", "slice_name") == before["charts"]
        assert names(admin, "/api/v1/rowlevelsecurity/") == before["rls"]
        assert names(admin, "/api/v1/security/roles/") == before["roles"]
        assert names(admin, "/api/v1/security/users/", "username") == before["users"]
        restored = reports(admin)
        assert set(restored) == before["reports"]
        assert restored["省级总览周报"]["crontab"] == "0 8 * * 1"
    finally:
        admin.delete(f"/api/v1/report/{hand_report}")
        admin.delete(f"/api/v1/security/roles/{hand_role}")


def province_code() -> str:
    return query("select org_code from marts.dim_org_unit where org_level = 'province'")[0][0]
