"""Least privilege and personal data (issue 13), on the simulated warehouse of tests/test_dbt_risk_model.py.

Each role connects (or, for the BI reader, which may have no login before Superset's setup, is
assumed with SET ROLE) and must be able to do its duty and nothing beyond it. The PII salt is in no
view or function definition and no file of the state directory. The personal-data scan samples the
values of every column the BI reader can read, as that role, and looks for the names, mobiles,
ID numbers and addresses the source systems hold.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from service_risk.db import DatabaseUnavailable, connect
from service_risk.settings import get_settings
from service_risk.setup_db import bi_reader_role, metadata_role
from service_risk.sources import SOURCE_TABLES
from tests.conftest import query, run_dbt
from tests.personal_data import PersonalDataScan, landing_table
from tests.test_dbt_risk_model import warehouse  # noqa: F401  (the module's fixture, reused)

# Schemas whose rows are personal or raw: the BI reader must not read a single relation in them.
NOT_FOR_BI = ("landing", "staging", "quarantine", "intermediate", "marts", "risk_model", "ops", "private")
SAMPLE_ROWS = 5000
# A feedback answer as a station writes it: the person responsible and a phone number in the text.
FEEDBACK_PHONE = "13912345678"


def denied(conn: psycopg.Connection, statement: str) -> bool:
    """True when the statement fails for lack of privilege (rolled back either way)."""
    try:
        with conn.transaction():
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        return True
    return False


def as_duty(duty: str, database: str = "warehouse") -> psycopg.Connection:
    return connect(database, duty=duty)


@pytest.fixture
def bi_reader():
    """An administrator's connection that has become the BI reader role (SET ROLE: its privileges only)."""
    with connect("warehouse") as conn:
        conn.execute(sql.SQL("set role {}").format(sql.Identifier(bi_reader_role())))
        yield conn


def relations(schema: str) -> list[str]:
    return [
        name
        for (name,) in query(
            "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
            "where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') order by 1",
            (schema,),
        )
    ]


def test_every_pipeline_object_belongs_to_its_role_not_the_superuser(warehouse):  # noqa: F811
    owners = dict(
        query(
            "select n.nspname || '.' || c.relname, pg_get_userbyid(c.relowner) from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where c.relkind in ('r', 'p', 'v', 'm') "
            "and n.nspname in ('landing', 'staging', 'quarantine', 'intermediate', 'marts', 'published', "
            "'risk_model')"
        )
    )
    loader, transformer = os.environ["SR_LOADER_ROLE"], os.environ["SR_TRANSFORMER_ROLE"]
    assert len(owners) > 60
    wrong = {
        relation: owner
        for relation, owner in owners.items()
        if owner != (loader if relation.startswith("landing.") else transformer)
    }
    assert not wrong
    attributes = query(
        "select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = any(%s)",
        ([loader, transformer, os.environ["SR_CLOSED_LOOP_ROLE"], bi_reader_role()],),
    )
    assert len(attributes) == 4 and all(not any(flags) for _, *flags in attributes)


def test_airflow_metadata_is_owned_and_used_by_its_own_login():
    """Airflow's metadata database (migrated by scripts/run_tests.sh, as every component uses it):
    every table belongs to its login, which is no superuser and may not enter the warehouse or a
    source database; nobody but it and the administrator may connect."""
    role = metadata_role("airflow")
    assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].split("://", 1)[1].startswith(f"{role}:")
    with connect("airflow") as conn:
        owners = dict(
            conn.execute(
                "select c.relname, pg_get_userbyid(c.relowner) from pg_class c"
                " join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'"
            ).fetchall()
        )
        database_owner = conn.execute(
            "select pg_get_userbyid(datdba) from pg_database where datname = current_database()"
        ).fetchone()[0]
    assert "dag_run" in owners and set(owners.values()) == {role} and database_owner == role
    flags = query(
        "select rolsuper, rolcreaterole, rolcreatedb, rolbypassrls from pg_roles where rolname = %s", (role,)
    )
    assert flags == [(False, False, False, False)]
    password = os.environ["SR_AIRFLOW_METADATA_PASSWORD"]
    settings = get_settings()
    for database in ("warehouse", "appeals"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(replace(settings, user=role, password=password).dsn(database))
    for duty in ("loader", "transformer", "closed_loop"):
        with pytest.raises(psycopg.OperationalError, match="permission denied"):
            psycopg.connect(settings.as_duty(duty).dsn("airflow"))


def test_bi_reader_reads_published_and_nothing_raw(warehouse, bi_reader):  # noqa: F811
    assert bi_reader.execute("select count(*) from published.unit_risk_daily").fetchone()[0] > 0
    readable_raw = []
    for schema in NOT_FOR_BI:
        for name in relations(schema):
            if not denied(bi_reader, f'select 1 from {schema}."{name}" limit 1'):
                readable_raw.append(f"{schema}.{name}")
    assert not readable_raw
    assert sum(len(relations(schema)) for schema in NOT_FOR_BI) > 60  # the probe reached the raw schemas
    assert denied(bi_reader, "select private.pii_hash_salt()")
    assert denied(bi_reader, "create table published.bi_was_here (x int)")
    assert denied(bi_reader, "delete from published.unit_risk_daily")
    # who is pushed which training course (staff ids) is the closed loop's; BI has the counts
    assert not denied(bi_reader, "select 1 from published.training_plan limit 1")
    assert denied(bi_reader, "select 1 from published.training_assignment limit 1")


def test_loader_reads_the_sources_and_writes_only_landing_and_extraction_bookkeeping(warehouse):  # noqa: F811
    for system in ("marketing", "appeals", "command"):
        [table] = [t for t in SOURCE_TABLES if t.system == system][:1]
        with as_duty("loader", system) as source:
            assert source.execute(f"select count(*) from public.{table.name}").fetchone()[0] > 0
            assert denied(source, f"delete from public.{table.name}")
    with as_duty("loader") as conn:
        landing = landing_table("staff")
        assert conn.execute(f"select count(*) from {landing}").fetchone()[0] > 0
        assert not denied(conn, "update ops.extract_watermark set high_water = high_water")
        assert not denied(conn, "create table landing.loader_probe (x int)")
        for statement in (
            "create table staging.loader_probe (x int)",
            "select 1 from staging.stg_marketing__staff_members limit 1",
            "select 1 from marts.dim_org_unit limit 1",
            "select 1 from published.unit_risk_daily limit 1",
            "insert into quality.publication (published_through) values (current_date)",
            "select 1 from ops.episode_feedback limit 1",
            "select private.pii_hash_salt()",
            "select salt from private.pii_hash_salt",
        ):
            assert denied(conn, statement), statement


def test_closed_loop_reads_what_sheets_show_and_writes_only_its_outbox_and_answers(warehouse):  # noqa: F811
    """The sheets' sender and the feedback form: published rows, the units' contacts (recipients) and
    the closed loop's numbers; its outbox and the stations' answers. No staff register, no raw or
    intermediate row, no salt, and an answer once stored is not changed."""
    with pytest.raises(DatabaseUnavailable, match="may not connect"):
        as_duty("closed_loop", "marketing").close()
    with as_duty("closed_loop") as conn:
        assert conn.execute("select count(*) from published.unit_risk_daily").fetchone()[0] > 0
        assert conn.execute("select count(*) from staging.stg_marketing__unit_contacts").fetchone()[0] > 0
        assert len(conn.execute("select * from staging.stg_closed_loop__parameters").fetchall()) == 1
        assert not denied(conn, "update ops.sheet_delivery set attempts = attempts")
        assert conn.execute("select count(*) from ops.episode_feedback").fetchone()[0] >= 0
        assert conn.execute("select count(*) from published.training_assignment").fetchone()[0] >= 0
        assert conn.execute("select count(*) from ops.training_completion").fetchone()[0] >= 0
        for statement in (
            f"select 1 from {landing_table('staff')} limit 1",
            "update ops.training_completion set is_completed = is_completed",
            "delete from ops.training_completion",
            "select 1 from staging.stg_marketing__staff_members limit 1",
            "select 1 from intermediate.int_station_indicator_daily limit 1",
            "select 1 from marts.dim_org_unit limit 1",
            "select 1 from quarantine.quarantine_marketing limit 1",
            "update ops.extract_watermark set high_water = high_water",
            "update ops.episode_feedback set cause = cause",
            "delete from ops.episode_feedback",
            "delete from published.risk_sheet",
            "create table published.closed_loop_probe (x int)",
            "insert into quality.publication (published_through) values (current_date)",
            "select private.pii_hash_salt()",
        ):
            assert denied(conn, statement), statement


def test_transformer_reads_landing_never_the_sources_nor_writes_landing(warehouse):  # noqa: F811
    for system in ("marketing", "appeals", "command"):
        with pytest.raises(DatabaseUnavailable, match="may not connect"):
            as_duty("transformer", system).close()
    with as_duty("transformer") as conn:
        landing = landing_table("staff")
        assert conn.execute(f"select count(*) from {landing}").fetchone()[0] > 0
        assert conn.execute("select count(*) from ops.episode_feedback").fetchone()[0] >= 0
        assert len(conn.execute("select private.pii_hash_salt()").fetchone()[0]) >= 32
        for statement in (
            f"delete from {landing}",
            f"insert into {landing} (_batch_id) values (0)",
            "update ops.extract_watermark set high_water = high_water",
            "delete from ops.episode_feedback",
            "update private.pii_hash_salt set salt = salt",
        ):
            assert denied(conn, statement), statement


def test_the_salt_is_in_no_definition_and_no_file_of_the_state_directory(warehouse):  # noqa: F811
    salt = os.environ["SR_PII_HASH_SALT"]
    assert len(salt) >= 32 and salt != "service-risk"
    assert query("select salt from private.pii_hash_salt") == [(salt,)]
    # The hashes do use it: the staging hash of a landed mobile is the salted SHA-256.
    mobile, staff_id = query(
        f"select mobile::text, staff_id::text from {landing_table('staff')} where mobile ~ '^1[3-9][0-9]{{9}}$' limit 1"
    )[0]
    [(hashed,)] = query(
        "select mobile_hash from staging.stg_marketing__staff_members where staff_id::text = %s", (staff_id,)
    )
    assert hashed == query("select encode(sha256(convert_to(%s || %s, 'UTF8')), 'hex')", (salt, mobile))[0][0]
    definitions = query(
        "select schemaname || '.' || viewname from pg_views where position(%s in definition) > 0 "
        "union all select schemaname || '.' || matviewname from pg_matviews where position(%s in definition) > 0 "
        "union all select proname from pg_proc where position(%s in prosrc) > 0",
        (salt, salt, salt),
    )
    assert definitions == []
    state_dir = Path(os.environ["SR_STATE_DIR"])
    files = [path for path in state_dir.rglob("*") if path.is_file()]
    # The compiled base models call the salt's function: the scan below would find a salt inlined there.
    assert (
        len([path for path in files if path.suffix == ".sql" and b"pii_hash_salt()" in path.read_bytes()])
        >= 4
    )
    assert [path for path in files if salt.encode() in path.read_bytes()] == []


@pytest.fixture(scope="module")
def feedback_with_personal_data(warehouse):  # noqa: F811
    """Feedback answers as stations write them, naming the person responsible (a station staff member)
    and a phone number in the free text, built and published like every day's feedback."""
    from tests.test_closed_loop import CLOSED_LOOP, publish_every_day

    episodes = query(
        "select episode_id, last_sheet_on from marts.fct_risk_episode order by episode_id limit 5"
    )
    assert episodes, "no warning episode in the simulated province"
    [(person,)] = query(
        f"select staff_name from {landing_table('staff')} where char_length(staff_name) = 3 limit 1"
    )
    with connect("warehouse") as conn:
        for episode_id, sheet_on in episodes:
            conn.execute(
                "insert into ops.episode_feedback (episode_id, cause, measures, responsible_person,"
                " expected_recovery_date, received_at) values (%s, %s, %s, %s, %s, %s at time zone 'Asia/Shanghai')",
                (
                    episode_id,
                    f"线路老化，{person}巡视发现",
                    f"已由{person}负责整改，联系电话{FEEDBACK_PHONE}",
                    person,
                    sheet_on + dt.timedelta(days=7),
                    dt.datetime.combine(sheet_on + dt.timedelta(days=1), dt.time(10)),
                ),
            )
    run_dbt("build", "--select", f"'{CLOSED_LOOP}'")
    publish_every_day()
    assert (
        query("select count(*) from published.episode_timeline where feedback_measures is not null")[0][0] > 0
    )
    return person


def test_no_personal_data_in_any_value_the_bi_reader_can_read(feedback_with_personal_data, bi_reader):
    scan = PersonalDataScan()
    assert feedback_with_personal_data in scan.names and len(scan.names) > 1000
    # By attribute number: a column's name checked against another schema's namesake relation (the
    # planner may test it before the schema join) raises instead of answering false.
    columns = bi_reader.execute(
        "select n.nspname, r.relname, a.attname from pg_class r "
        "join pg_namespace n on n.oid = r.relnamespace "
        "join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped "
        "where r.relkind in ('r', 'v', 'm', 'p', 'f') and has_column_privilege(r.oid, a.attnum, 'select') "
        "and n.nspname not in ('pg_catalog', 'information_schema') order by 1, 2, 3"
    ).fetchall()
    assert {schema for schema, _, _ in columns} <= {"published", "quality"}
    assert len(columns) > 100
    findings = []
    for schema, table, column in columns:
        values = bi_reader.execute(
            sql.SQL("select distinct {}::text from {} where {} is not null limit {}").format(
                sql.Identifier(column), sql.Identifier(schema, table), sql.Identifier(column), SAMPLE_ROWS
            )
        ).fetchall()
        for (value,) in values:
            if kinds := scan.kinds(value):
                findings.append(f"{schema}.{table}.{column}: {'/'.join(kinds)} in {value[:60]!r}")
    assert not findings, "\n".join(findings[:30])
