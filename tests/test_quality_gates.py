"""Great Expectations gates through real DAG runs: quarantine, publication pointer, alert e-mail.

The module simulates a small province with dirty rows, extracts it with a real extract_sources run
(landing gate), builds and gates the marts with a real daily_risk run, then breaks the next day's mart
(a station lost) and runs the gate for that new day: publication must stay at the last good day and
the data engineers must get an e-mail at a local SMTP sink the test runs.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import psycopg.sql
import pytest

from service_risk.db import connect, drop_database
from service_risk.quality.publication import PUBLISHED_FACTS as PUBLISHED_TABLES
from service_risk.settings import get_settings
from service_risk.setup_db import init_databases
from service_risk.sources import SOURCE_TABLES
from tests import odd_rows
from tests.conftest import ARTIFACTS, ROOT, Sink, published_differences, query, run_dag
from tests.offline import intranet_browser
from tests.superset_fixtures import free_port

END = dt.date(2026, 9, 30)  # last simulated day; the good run publishes through END - 1
DAYS = 35
RECIPIENT = "dq-oncall@example.com"
STAGING = {  # quarantine source_table -> (staging model, key expression as row_key spells it)
    "org_unit": ("stg_marketing__org_units", "org_code"),
    "transformer_area": ("stg_marketing__transformer_areas", "ta_code"),
    "customer": ("stg_marketing__customers", "customer_no"),
    "team": ("stg_marketing__teams", "team_code"),
    "staff": ("stg_marketing__staff_members", "staff_id"),
    "unit_contact": ("stg_marketing__unit_contacts", "org_code || '|' || role"),
    "work_order": ("stg_appeals__work_orders", "order_no"),
    "call_record": ("stg_appeals__call_records", "call_id"),
    "callback_survey": ("stg_appeals__callback_surveys", "survey_id"),
    "outage_event": ("stg_command__outage_events", "outage_id || '|' || ta_code"),
    "repair_task": ("stg_command__repair_tasks", "task_id"),
}


def assert_ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


@pytest.fixture(scope="module")
def smtp_sink():
    sink = Sink()
    sink.controller.start()
    with pytest.MonkeyPatch.context() as patch:  # the DAG runs inherit these (env.sh keeps them)
        patch.setenv("SMTP_HOST", "127.0.0.1")
        patch.setenv("SMTP_PORT", str(sink.port))
        patch.setenv("DATA_ENGINEER_EMAILS", RECIPIENT)
        yield sink
    sink.controller.stop()


@pytest.fixture(scope="module")
def good_run(smtp_sink) -> dict:
    """Fresh warehouse, simulated dirty sources, extraction + landing gate, dbt + mart gate + publish."""
    from service_risk.simulator import simulate

    drop_database("warehouse")
    init_databases()
    simulate(days=DAYS, end_date=END, scale=0.03, seed=23, dirty_rate=0.01)
    odd_rows.inject()
    shutil.rmtree(Path(os.environ["SR_STATE_DIR"]) / "data_docs", ignore_errors=True)
    timings = {}
    for dag_id, logical_date in (
        ("extract_sources", f"{END + dt.timedelta(days=1)}T00:00:00+08:00"),
        ("daily_risk", f"{END}T00:30:00+08:00"),  # the day that just ended: END - 1
    ):
        started = time.monotonic()
        result = run_dag(dag_id, logical_date)
        timings[dag_id] = time.monotonic() - started
        assert_ok(result)
    return timings


def test_good_run_publishes_through_the_last_day_and_keeps_results(good_run, smtp_sink):
    assert query("select max(published_through) from quality.publication")[0][0] == END - dt.timedelta(days=1)
    published = query("select max(risk_date), count(*) from published.unit_risk_daily")[0]
    assert published[0] == END - dt.timedelta(days=1)
    assert published[1] == query("select count(*) from marts.fct_unit_risk_daily")[0][0]
    for table in PUBLISHED_TABLES:  # a copy of the gated rows, not a view of the mart
        assert query("select relkind from pg_class where oid = %s::regclass", (table,)) == [("r",)]
    assert published_differences() == {table: 0 for table in PUBLISHED_TABLES}
    suites = dict(
        query("select suite, bool_and(success) from quality.validation_result where blocking group by suite")
    )
    assert suites["marts.fct_unit_risk_daily"] is True
    assert {f"landing.{t.landing_name}" for t in SOURCE_TABLES} <= set(suites)
    assert all(suites.values()), suites
    assert (Path(os.environ["SR_STATE_DIR"]) / "data_docs" / "index.html").is_file()
    assert smtp_sink.messages == []  # nothing to announce


def test_data_docs_work_offline_and_filter(good_run):
    """The site as a person opens it, with no route off the machine (issue 18): every library from
    the site's static/, the validation list filled and searchable, a validation page that filters."""
    assert open_data_docs("data-docs") == 0  # the good run's mart gate: nothing failed


def open_data_docs(name: str) -> int:
    """Open the Data Docs index and the latest mart gate's validation page in a browser on the
    intranet (tests/offline.py), check they render, search and filter; screenshots named `name`.
    Returns how many expectations failed."""
    site = Path(os.environ["SR_STATE_DIR"]) / "data_docs"
    ((run_id, expectations, failed),) = query(
        "select run_id, count(*), count(*) filter (where not success) from quality.validation_result"
        " where suite = 'marts.fct_unit_risk_daily' group by run_id order by max(checked_at) desc limit 1"
    )
    suites = query("select count(distinct suite) from quality.validation_result where run_id = %s", (run_id,))
    screenshots = ARTIFACTS / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    with intranet_browser(name, viewport={"width": 1400, "height": 1000}) as (page, intranet):
        intranet.page_label = "data docs index"
        page.goto((site / "index.html").as_uri())
        validations = page.locator("#section-1-content-block-2-1-body-table > tbody > tr")
        validations.first.wait_for(timeout=30_000)  # bootstrap-table fills the list from its JSON
        assert validations.count() == suites[0][0]
        page.screenshot(path=str(screenshots / f"{name}-index.png"))
        assert unloaded_files(page) == []
        search = page.locator("#Validation-Results .fixed-table-toolbar input.search-input")
        search.press_sequentially("no such suite")  # bootstrap-table searches as one types
        page.wait_for_selector("#section-1-content-block-2-1-body-table .no-records-found")
        search.fill("")
        search.press_sequentially("marts.fct_unit_risk_daily")
        page.wait_for_function(
            "document.querySelectorAll('#section-1-content-block-2-1-body-table > tbody > tr.clickable-row')"
            ".length === 1"
        )

        intranet.page_label = "data docs validation page"
        with page.expect_navigation():  # a row opens its validation page
            validations.first.locator("td").nth(1).click()
        assert "/validations/marts/fct_unit_risk_daily/" in page.url
        # One table per column (section 1 is the overview), one row per expectation.
        rows = page.locator(
            "table[id$='-content-block-2-body']:not(#section-1-content-block-2-body) > tbody > tr:visible"
        )
        rows.first.wait_for(timeout=30_000)
        assert rows.count() == expectations
        page.screenshot(path=str(screenshots / f"{name}-validation.png"))
        assert unloaded_files(page) == []
        page.get_by_text("Failed Only").click()
        page.wait_for_timeout(1000)  # jQuery fades the passed ones out
        assert rows.count() == failed
        page.get_by_text("Show All").click()
        page.wait_for_timeout(1000)
        assert rows.count() == expectations
    assert intranet.problems() == []
    assert any("/static/vendor/jquery/" in r["url"] for r in intranet.requests)
    return failed


def unloaded_files(page) -> list[str]:
    """Files a page links to that do not exist, including those headless Chromium does not fetch
    (the favicon)."""
    urls = page.evaluate(
        "[...document.querySelectorAll('link[href], script[src], img[src]')].map((e) => e.href || e.src)"
    )
    return [
        url
        for url in urls
        if url.startswith("file:") and not Path(urllib.request.url2pathname(urlsplit(url).path)).is_file()
    ]


@pytest.fixture
def airflow_ui():
    """Airflow's API server, which serves the UI, on a free port: the DAG runs above are in its database."""
    port = free_port()
    log = ARTIFACTS / "airflow-api-server.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("w") as output:
        server = subprocess.Popen(
            ["bash", "-c", f". scripts/env.sh && exec airflow api-server --host 127.0.0.1 --port {port}"],
            cwd=ROOT,
            env={**os.environ, "AIRFLOW_PORT": str(port)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5):
                    break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(2)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def test_airflow_ui_works_offline(good_run, airflow_ui):
    """The Airflow UI as a person opens it on the intranet: log in, home, a DAG's grid with its runs."""
    password = json.loads(Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).read_text())
    screenshots = ARTIFACTS / "screenshots"
    screenshots.mkdir(parents=True, exist_ok=True)
    with intranet_browser("airflow", viewport={"width": 1400, "height": 900}) as (page, intranet):
        intranet.page_label = "airflow login"
        page.goto(f"{airflow_ui}/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", password["admin"])
        intranet.page_label = "airflow home"
        page.click("button[type=submit]")
        page.wait_for_url(f"{airflow_ui}/", timeout=60_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / "airflow-home.png"))
        intranet.page_label = "airflow daily_risk grid"
        page.goto(f"{airflow_ui}/dags/daily_risk")
        # The grid: one link per task of the run this module made.
        page.locator("a[href*='/dags/daily_risk/runs/'][href*='/tasks/']").first.wait_for(timeout=60_000)
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(screenshots / "airflow-daily_risk-grid.png"))
    assert intranet.problems() == []
    assert {r["page"] for r in intranet.requests if r["type"] == "script"} >= {
        "airflow login",
        "airflow home",
    }


def test_every_dirty_kind_is_quarantined_and_good_rows_all_counted(good_run):
    settings = get_settings()
    injected = set()
    for system in ("marketing", "appeals", "command"):
        with psycopg.connect(settings.dsn(system)) as source:
            injected |= set(source.execute("select table_name, row_key, kind from sim.dirty_row").fetchall())
    quarantined = set(
        query(
            "select source_table, row_key, reason from quarantine.quarantine_marketing union "
            "select source_table, row_key, reason from quarantine.quarantine_appeals union "
            "select source_table, row_key, reason from quarantine.quarantine_command"
        )
    )
    assert len({kind for _, _, kind in injected}) >= 6, "the simulation injected too few kinds"
    assert injected <= quarantined, sorted(injected - quarantined)[:10]

    # The counts mart adds up to the quarantine tables, per table, reason and action.
    mart = dict(
        ((t, r, a), n)
        for t, r, a, n in query(
            "select source_table, reason, quarantine_action, sum(row_count) from quality.fct_quarantine_daily "
            "group by 1, 2, 3"
        )
    )
    views = dict(
        ((t, r, a), n)
        for t, r, a, n in query(
            "select source_table, reason, quarantine_action, count(*) from ("
            "select * from quarantine.quarantine_marketing union all select * from quarantine.quarantine_appeals "
            "union all select * from quarantine.quarantine_command) as q group by 1, 2, 3"
        )
    )
    assert mart == views and mart


QUARANTINE = (
    "(select * from quarantine.quarantine_marketing union all select * from quarantine.quarantine_appeals "
    "union all select * from quarantine.quarantine_command) as quarantined"
)


@pytest.mark.parametrize("case", odd_rows.CASES, ids=lambda case: f"{case.table}: {case.what}")
def test_odd_row_is_quarantined_and_the_day_published(good_run, case):
    """Rows odder than the spec lists: each lands, sits in quarantine with its reason, and publication
    reached the last day all the same (good_run asserts both DAG runs succeeded)."""
    index = odd_rows.CASES.index(case)
    key = odd_rows.odd_key(index) if case.new_key else None
    table = next(t for t in SOURCE_TABLES if (t.system, t.name) == (case.system, case.table))
    found = query(
        f"select reason, quarantine_action from {QUARANTINE} where source_table = %s and "
        + ("split_part(row_key, '|', 1) = %s" if key else "nullif(trim(row_key), '') is null"),
        (case.table, key) if key else (case.table,),
    )
    assert (case.reason, "repaired" if case.repaired else "dropped") in found, found
    model, key_sql = STAGING[case.table]
    if case.repaired:  # the row counts, with the reference nulled
        staged = query(
            f"select count(*) from staging.{model} where split_part({key_sql}, '|', 1) = %s", (key,)
        )
        assert staged == [(1,)], f"repaired {table.landing_name} row {key} is not in {model}"
    assert query("select max(published_through) from quality.publication")[0][0] == END - dt.timedelta(days=1)


@pytest.mark.parametrize("table", SOURCE_TABLES, ids=lambda table: table.landing_name)
def test_landed_versions_reconcile(good_run, table):
    """sources.md: landed versions = current valid + superseded + quarantined, for every landed table.

    Counted from landing, not from dbt's flags: the current version of each key (latest updated_at,
    then batch; a missing key is one key) is staged unless quarantined as dropped, every other version
    is superseded or quarantined, and every quarantined version is a landed row."""
    model, key_sql = STAGING[table.name]
    landed, keys = query(
        f"select count(*), count(distinct coalesce({key_sql}, '')) from landing.{table.landing_name}"
    )[0]
    dropped = f"from {QUARANTINE} where source_table = %s and quarantine_action = 'dropped'"
    dropped_versions = query(
        f"select count(distinct (row_key, batch_id, version_in_batch)) {dropped}", (table.name,)
    )[0][0]
    dropped_current = query(
        f"select count(distinct coalesce(row_key, '')) {dropped} and is_current_version", (table.name,)
    )[0][0]
    staged = query(f"select count(*) from staging.{model}")[0][0]
    superseded = (landed - keys) - (dropped_versions - dropped_current)
    assert staged == keys - dropped_current, (table.name, staged, keys, dropped_current)
    assert superseded >= 0 and landed == staged + superseded + dropped_versions
    unmatched = query(
        f"select count(*) {dropped} and not exists (select 1 from landing.{table.landing_name} as landed "
        f"where landed._batch_id = quarantined.batch_id and landed.updated_at is not distinct from quarantined.updated_at "
        f"and coalesce({key_sql}, '') = coalesce(quarantined.row_key, ''))",
        (table.name,),
    )[0][0]
    assert unmatched == 0, f"{unmatched} quarantined {table.name} versions match no landed row"


def test_broken_mart_blocks_publication_and_alerts(good_run, smtp_sink):
    """The next day's mart loses a station and a recomputed lookback day changes: the gate fails,
    the pointer and the published rows stay as they were."""
    last_good, new_day = END - dt.timedelta(days=1), END
    published_before = query("select * from published.unit_risk_daily order by unit_day_id")
    with connect("warehouse") as conn:
        lost = conn.execute(
            "select min(org_code) from marts.dim_org_unit where org_level = 'station'"
        ).fetchone()[0]
        # dbt recomputes the lookback days before the gate re-checks them: not visible meanwhile.
        conn.execute(
            "update marts.fct_unit_risk_daily set risk_score = risk_score + 1 where risk_date = %s and org_code = %s",
            (last_good, lost),
        )
        # The new day as dbt would have built it, but without one station.
        conn.execute(
            "create temp table next_day as select * from marts.fct_unit_risk_daily "
            "where risk_date = %s and org_code <> %s",
            (last_good, lost),
        )
        conn.execute(
            "update next_day set risk_date = %s, unit_day_id = org_code || ':' || %s", (new_day, str(new_day))
        )
        conn.execute("insert into marts.fct_unit_risk_daily select * from next_day")
        # dbt's own record of the days it built (what the gate validates): the lookback day and the new day.
        conn.execute(
            "update intermediate.int_station_indicator_daily set built_at = now() where risk_date = %s",
            (last_good,),
        )
        conn.execute(
            "insert into intermediate.int_station_indicator_daily (station_indicator_day_id, risk_date, station_code,"
            " indicator_code, numerator, denominator, model_version, built_from_high_water, landed_high_water,"
            " built_at) select station_indicator_day_id || ':next', %s, station_code, indicator_code, numerator,"
            " denominator, model_version, built_from_high_water, landed_high_water, now()"
            " from intermediate.int_station_indicator_daily where risk_date = %s",
            (new_day, last_good),
        )
    runs_before = query("select count(distinct run_id) from quality.validation_result")[0][0]

    started = time.monotonic()
    result = subprocess.run(  # a real daily_risk run whose dbt tasks are marked done: only the gate runs
        ["bash", "-c", ". scripts/env.sh && airflow dags test daily_risk \"$0\" --mark-success-pattern 'risk_model[.].*'",
         f"{END + dt.timedelta(days=1)}T00:30:00+08:00"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    gate_seconds = time.monotonic() - started
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "daily_risk-broken-mart.out").write_text(result.stdout + result.stderr)
    assert result.returncode != 0, "the run with a broken mart succeeded"

    assert query("select max(published_through) from quality.publication")[0][0] == last_good
    assert query("select * from published.unit_risk_daily order by unit_day_id") == published_before
    assert query("select count(*) from marts.fct_unit_risk_daily where risk_date = %s", (new_day,))[0][0] > 0
    failed = query(
        "select description, unexpected_count from quality.validation_result where blocking and not success "
        "and run_id not in (select run_id from quality.validation_result group by run_id "
        "order by min(checked_at) limit %s)",
        (runs_before,),
    )
    assert any("every unit" in (d or "") and n == 1 for d, n in failed), failed

    deadline = time.monotonic() + 10
    while not smtp_sink.messages and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(smtp_sink.messages) == 1
    recipients, message = smtp_sink.messages[0]
    assert recipients == [RECIPIENT] and message["To"] == RECIPIENT
    subject = " ".join(message["Subject"].split())  # unfold the long header
    assert "quality gate FAILED" in subject and f"held at {last_good}" in subject
    assert "every unit of dim_org_unit" in message.get_payload(decode=True).decode()
    print(f"\ngate timings: {good_run} broken-mart run {gate_seconds:.1f} s")
    # The failure as Data Docs show it: "Failed Only" keeps exactly the failed expectations.
    assert open_data_docs("data-docs-failed") >= 1


def run_only_dbt_node(node: str, retries: int) -> subprocess.CompletedProcess:
    """A real daily_risk run for the day after the good run in which only `node`'s task runs (the
    model, as after a dbt build that did not build it), then the group's tests; the build and the
    other dbt tasks are marked done."""
    return subprocess.run(
        ["bash", "-c", ". scripts/env.sh && airflow dags test daily_risk \"$0\" "
         f"--mark-success-pattern 'risk_model[.](?!{node}_run|dbt_project_test).*'",
         f"{END + dt.timedelta(days=2)}T00:30:00+08:00"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "SR_TASK_RETRIES": str(retries)},
    )  # fmt: skip


def test_failed_dbt_task_is_emailed_and_publishes_nothing(good_run, smtp_sink):
    """A base model whose landing table is gone: its dbt task fails for good (no retries here),
    the on_failure_callback e-mails the data engineers, nothing downstream publishes."""
    pointer = query("select max(published_through) from quality.publication")[0][0]
    published_before = query("select count(*), max(risk_date) from published.unit_risk_daily")
    mails_before = len(smtp_sink.messages)
    with connect("warehouse") as conn:
        conn.execute("alter table landing.appeals__callback_survey rename to appeals__callback_survey_away")
    try:
        result = run_only_dbt_node("base_appeals__callback_surveys", retries=0)
    finally:
        with connect("warehouse") as conn:
            conn.execute(
                "alter table landing.appeals__callback_survey_away rename to appeals__callback_survey"
            )
    (ARTIFACTS / "daily_risk-failed-dbt-task.out").write_text(result.stdout + result.stderr)
    assert result.returncode != 0, "the run with a failing dbt model succeeded"
    assert query("select max(published_through) from quality.publication")[0][0] == pointer
    assert query("select count(*), max(risk_date) from published.unit_risk_daily") == published_before

    deadline = time.monotonic() + 10
    while len(smtp_sink.messages) == mails_before and time.monotonic() < deadline:
        time.sleep(0.2)
    new = smtp_sink.messages[mails_before:]
    assert len(new) == 1, [m["Subject"] for _, m in new]
    recipients, message = new[0]
    assert recipients == [RECIPIENT]
    subject = " ".join(message["Subject"].split())
    assert "task FAILED: daily_risk.risk_model.base_appeals__callback_surveys_run" in subject, subject
    body = message.get_payload(decode=True).decode()
    assert "callback_survey" in body and "/dags/daily_risk/runs/" in body  # the error and the log link


def test_failed_data_test_is_not_retried(good_run, smtp_sink):
    """A data test's result cannot change on retry: the task of the group's tests fails for good on
    its first try (retries are on), mails once, and publishes nothing. The failure is provoked as a
    bug would (no source row can cause it: the quarantine rules stand in front of the tests): the
    base table under staging holds one order twice, which staging's unique test catches."""
    pointer = query("select max(published_through) from quality.publication")[0][0]
    mails_before = len(smtp_sink.messages)
    base = "staging.base_appeals__work_orders"
    [(order_no,)] = query("select order_no from staging.stg_appeals__work_orders limit 1")
    with connect("warehouse") as conn:
        copies = conn.execute(
            f"insert into {base} select * from {base} where order_no = %s returning ctid::text", (order_no,)
        ).fetchall()
    try:
        result = run_only_dbt_node("stg_appeals__work_orders", retries=2)
    finally:
        with connect("warehouse") as conn:
            conn.execute(f"delete from {base} where ctid::text = any(%s)", ([ctid for (ctid,) in copies],))
    (ARTIFACTS / "daily_risk-failed-data-test.out").write_text(result.stdout + result.stderr)
    assert result.returncode != 0, "the run with a failing data test succeeded"
    assert query("select max(published_through) from quality.publication")[0][0] == pointer
    deadline = time.monotonic() + 10
    while len(smtp_sink.messages) == mails_before and time.monotonic() < deadline:
        time.sleep(0.2)
    new = smtp_sink.messages[mails_before:]
    assert len(new) == 1, [m["Subject"] for _, m in new]
    body = new[0][1].get_payload(decode=True).decode()
    assert "risk_model.dbt_project_test of daily_risk failed after 1 tries" in body, body[:500]
    assert "unique_stg_appeals__work_orders_order_no" in body, body[:2000]


def test_next_good_run_recomputes_and_publishes_the_held_days(good_run, smtp_sink):
    """Once the cause is gone, the next real run rebuilds the held day and the lookback days, the gate
    passes and publication replaces exactly those days: published equals the marts again."""
    mails_before = len(smtp_sink.messages)
    assert_ok(run_dag("daily_risk", f"{END + dt.timedelta(days=1)}T00:30:00+08:00"))
    assert query("select max(published_through) from quality.publication")[0][0] == END
    assert published_differences() == {table: 0 for table in PUBLISHED_TABLES}
    stations = query("select count(*) from marts.dim_org_unit where org_level = 'station'")[0][0]
    assert (
        query(
            "select count(*) from published.unit_risk_daily where risk_date = %s and org_level = 'station'",
            (END,),
        )[0][0]
        == stations
    )
    assert len(smtp_sink.messages) == mails_before
