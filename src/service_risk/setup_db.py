"""Create the project's databases and the warehouse's schemas (idempotent)."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlparse

from psycopg import sql

from service_risk.db import connect, ensure_database
from service_risk.published_labels import BI_SCHEMAS
from service_risk.settings import DUTIES, SYSTEM_DATABASES, Settings, duty_role, get_settings

WAREHOUSE_SCHEMAS = ("landing", "staging", "intermediate", "marts", "ops", "quality", "published")
# The schemas dbt builds into, owned by the transformer role (quality also holds the gates' tables).
DBT_SCHEMAS = ("staging", "quarantine", "intermediate", "marts", "published", "risk_model")
PII_SALT_VARIABLE = "SR_PII_HASH_SALT"

OPS_DDL = """
create sequence if not exists ops.extract_batch_id_seq;

create table if not exists ops.extract_watermark (
    landing_table text primary key,
    high_water timestamp not null,
    last_batch_id bigint not null,
    updated_at timestamptz not null default now()
);
comment on table ops.extract_watermark is
    'Per landed table: source updated_at up to which every row has been landed.';

create table if not exists ops.extract_batch (
    batch_id bigint primary key,
    landing_table text not null,
    low_water timestamp,
    high_water timestamp not null,
    row_count bigint,
    run_id text,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);
-- Issue 17: the source window read (read_from, high_water] reaches a lag behind the previous
-- watermark (low_water); rows_read counts what was read, row_count the new versions landed.
alter table ops.extract_batch
    add column if not exists read_from timestamp,
    add column if not exists rows_read bigint;
comment on table ops.extract_batch is
    'One row per committed extraction batch: the source updated_at window read (read_from, high_water] '
    '(null read_from: everything up to high_water), the previous watermark low_water, rows read and '
    'new versions landed (row_count = landed rows with this _batch_id).';
"""

# The closed loop's operational tables (service_risk.closed_loop): written by the package, read by dbt.
CLOSED_LOOP_DDL = """
create table if not exists ops.episode_feedback (
    feedback_id bigserial primary key,
    episode_id text not null,
    cause text not null,
    measures text not null,
    responsible_person text not null,
    expected_recovery_date date,
    received_at timestamptz not null default now()
);
create index if not exists episode_feedback_episode on ops.episode_feedback (episode_id, received_at);
comment on table ops.episode_feedback is
    'Feedback form answers (跟踪反馈), append-only: a later answer for an episode amends the earlier ones.';

create table if not exists ops.training_completion (
    completion_id bigserial primary key,
    assignment_id text not null,
    is_completed boolean not null,
    completed_on date,
    recorded_by text not null,
    received_at timestamptz not null default now()
);
create index if not exists training_completion_assignment
    on ops.training_completion (assignment_id, received_at);
comment on table ops.training_completion is
    'Training completion form answers (滴灌式培训), append-only: a later answer for an assignment amends.';

create table if not exists ops.sheet_delivery (
    sheet_id text not null,
    recipient_staff_id text not null,
    channel text not null check (channel in ('sms', 'email')),
    purpose text not null default 'sheet',
    recipient_role text not null,
    address text not null,
    client_message_id text not null unique,
    status text not null default 'pending'
        check (status in ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    gateway_message_id text,
    last_error text,
    enqueued_at timestamptz not null default now(),
    sent_at timestamptz,
    alerted_at timestamptz,
    primary key (sheet_id, recipient_staff_id, channel, purpose)
);
-- The purposes: a sheet, its reminder, the Monday lists and the monthly training plan (named here so
-- an existing outbox gains them).
alter table ops.sheet_delivery drop constraint if exists sheet_delivery_purpose_check;
alter table ops.sheet_delivery add constraint sheet_delivery_purpose_check
    check (purpose in ('sheet', 'reminder', 'interview', 'supervision', 'training'));
comment on table ops.sheet_delivery is
    'Outbox of risk report sheets: one row per sheet, recipient, channel and purpose (the sheet to the '
    'station''s contacts, the one reminder of overdue feedback to the county''s leader in charge, or a '
    'Monday list: a city''s interview list or the province''s supervision summary, to their leaders; or '
    'a unit''s monthly training plan to its leader in charge), '
    'whatever the re-runs. status sending = handed to the gateway or SMTP, not yet recorded (a crash leaves it).';

create table if not exists ops.sheet_delivery_attempt (
    attempt_id bigserial primary key,
    sheet_id text not null,
    recipient_staff_id text not null,
    channel text not null,
    purpose text not null,
    attempted_at timestamptz not null default now(),
    outcome text not null,
    detail text
);
comment on table ops.sheet_delivery_attempt is 'Every delivery attempt of ops.sheet_delivery and its answer.';

"""

QUALITY_DDL = """
create table if not exists quality.validation_result (
    result_id bigserial primary key,
    run_id text not null,
    suite text not null,
    batch text not null,
    expectation text not null,
    column_name text,
    description text,
    blocking boolean not null,
    success boolean not null,
    observed_value text,
    unexpected_count bigint,
    checked_at timestamptz not null default now()
);
comment on table quality.validation_result is
    'One row per expectation per gate run (Great Expectations); blocking failures hold publication.';
create table if not exists quality.publication (
    publication_id bigserial primary key,
    published_through date not null,
    run_id text,
    published_at timestamptz not null default now()
);
alter table quality.publication add column if not exists run_started_at timestamptz;
comment on table quality.publication is
    'Publication pointer, append-only, a row per publication: the latest row''s published_through is the '
    'last day dashboards show; run_started_at is when the run that built it started (what it may have missed '
    'landed later).';
"""


# The salt of the personal-data hashes (macros/landing.sql `hash_personal`), where only the transformer
# reads it: the staging views call private.pii_hash_salt(), so the value is in no view definition,
# compiled file or log, and a BI or loader login cannot read it to reverse the hashes by enumeration.
PRIVATE_DDL = """
create schema if not exists private;
revoke all on schema private from public;
create table if not exists private.pii_hash_salt (
    only_row boolean primary key default true check (only_row),
    salt text not null check (char_length(salt) >= 32)
);
revoke all on private.pii_hash_salt from public;
comment on table private.pii_hash_salt is
    'The salt of the personal-data hashes (SR_PII_HASH_SALT, set by service-risk init-db); transformer only.';
create or replace function private.pii_hash_salt() returns text
language plpgsql stable as $$
declare
    value text;
begin
    select salt into value from private.pii_hash_salt;
    if value is null then
        raise exception 'no PII hash salt: run `service-risk init-db` with SR_PII_HASH_SALT set (scripts/secrets.sh)';
    end if;
    return value;
end
$$;
revoke all on function private.pii_hash_salt() from public;
"""


def store_pii_salt(conn) -> None:
    """Keep this install's salt (scripts/secrets.sh) in the private table; fail without one."""
    salt = os.environ.get(PII_SALT_VARIABLE)
    if not salt:
        raise RuntimeError(
            f"{PII_SALT_VARIABLE} is not set: run scripts/secrets.sh and source scripts/env.sh"
        )
    conn.execute(PRIVATE_DDL)
    conn.execute(  # a parameter, so the value is not in the statement text (nor in a statement log)
        "insert into private.pii_hash_salt (salt) values (%s) on conflict (only_row) do update set salt = excluded.salt",
        (salt,),
    )


def ensure_login_role(conn, role: str, password: str) -> None:
    """A login role without any attribute beyond login, with this install's password."""
    if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    conn.execute(
        sql.SQL(
            "alter role {} with login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password {}"
        ).format(sql.Identifier(role), sql.Literal(password))
    )


def own_schema(conn, schema: str, role: str) -> None:
    """Make `role` own the schema and every table, view and free sequence in it (an install whose dbt
    ran as the superuser before the roles existed: dbt must replace those relations)."""
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("alter schema {} owner to {}").format(sql.Identifier(schema), sql.Identifier(role)))
    own_relations(conn, schema, role, ("r", "p", "v", "m", "S"))


def own_relations(
    conn, schema: str, role: str, relkinds: tuple[str, ...], keep: tuple[str, ...] = ()
) -> None:
    """Make `role` own the schema's relations of these kinds but those in `keep` (sequences of a
    column follow their table)."""
    relations = conn.execute(
        """
        select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = %s and c.relkind = any(%s)
          and pg_get_userbyid(c.relowner) <> %s and c.relname <> all(%s)
          and not exists (select from pg_depend d where d.classid = 'pg_class'::regclass
                          and d.objid = c.oid and d.deptype in ('a', 'i'))
        """,
        (schema, list(relkinds), role, list(keep)),
    ).fetchall()
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view", "S": "sequence"}
    for name, kind in relations:
        conn.execute(
            sql.SQL("alter {} {} owner to {}").format(
                sql.SQL(kinds[kind]), sql.Identifier(schema, name), sql.Identifier(role)
            )
        )


def metadata_role(database: str, db_prefix: str | None = None) -> str:
    """The login Airflow's or Superset's metadata database is owned by and used through
    (`SR_<DATABASE>_METADATA_ROLE`, default `<prefix><database>_metadata`, scripts/env.sh)."""
    prefix = os.environ.get("SR_DB_PREFIX", "") if db_prefix is None else db_prefix
    return os.environ.get(f"SR_{database.upper()}_METADATA_ROLE") or f"{prefix}{database}_metadata"


def own_metadata_database(database: str, settings: Settings | None = None) -> str:
    """Give Airflow's or Superset's metadata database its own login, with this install's password
    (`SR_<DATABASE>_METADATA_PASSWORD`), as owner of the database and of what an earlier version
    created in it as the administrator; nobody else may connect. Return the role."""
    settings = settings or get_settings()
    role = metadata_role(database, settings.db_prefix)
    variable = f"SR_{database.upper()}_METADATA_PASSWORD"
    password = os.environ.get(variable)
    if not password:
        raise RuntimeError(f"{variable} is not set: run scripts/secrets.sh and source scripts/env.sh")
    with connect(database, settings, autocommit=True) as conn:
        ensure_login_role(conn, role, password)
        name, owner = sql.Identifier(settings.database(database)), sql.Identifier(role)
        conn.execute(sql.SQL("alter database {} owner to {}").format(name, owner))
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(name))
        own_relations(conn, "public", role, ("r", "p", "v", "m", "S"))
        types = conn.execute(
            "select t.typname from pg_type t join pg_namespace n on n.oid = t.typnamespace"
            " where n.nspname = 'public' and t.typtype in ('e', 'd') and pg_get_userbyid(t.typowner) <> %s",
            (role,),
        ).fetchall()
        for (type_name,) in types:
            conn.execute(
                sql.SQL("alter type {} owner to {}").format(sql.Identifier("public", type_name), owner)
            )
    return role


def ensure_duty_roles(settings: Settings) -> dict[str, str]:
    """The logins of settings.DUTIES and their privileges; {duty: role}.

    Re-applied on every init-db: passwords follow .local/secrets.env, and objects created since (the
    simulator's source tables, landing tables) are covered by grants and default privileges."""
    roles = {duty: duty_role(duty, settings.db_prefix) for duty in DUTIES}
    loader, transformer, closed_loop = (sql.Identifier(roles[d]) for d in DUTIES)
    admin = sql.Identifier(settings.user)
    with connect("warehouse", settings, autocommit=True) as conn:
        for duty, role in roles.items():
            ensure_login_role(conn, role, settings.as_duty(duty).password)
    for system in SYSTEM_DATABASES:  # the loader reads the sources; nobody else logs in there
        with connect(system, settings, autocommit=True) as conn:
            database = sql.Identifier(settings.database(system))
            conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(database))
            conn.execute(sql.SQL("grant connect on database {} to {}").format(database, loader))
            conn.execute(sql.SQL("grant usage on schema public to {}").format(loader))
            conn.execute(sql.SQL("grant select on all tables in schema public to {}").format(loader))
            conn.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema public grant select on tables to {}"
                ).format(admin, loader)
            )
    with connect("warehouse", settings, autocommit=True) as conn:
        database = sql.Identifier(settings.database("warehouse"))
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(database))
        conn.execute(
            sql.SQL("grant connect, temporary on database {} to {}, {}").format(database, loader, transformer)
        )
        conn.execute(sql.SQL("grant connect on database {} to {}").format(database, closed_loop))
        # dbt creates a schema it finds missing (a test drops one); the private one it only reads.
        conn.execute(sql.SQL("grant create on database {} to {}").format(database, transformer))
        for schema in DBT_SCHEMAS:
            own_schema(conn, schema, roles["transformer"])
        # Landing: the loader creates and fills its tables; the transformer reads them, also those an
        # administrator landed (tests, benchmarks).
        own_schema(conn, "landing", roles["loader"])
        conn.execute(sql.SQL("grant usage on schema landing to {}").format(transformer))
        conn.execute(sql.SQL("grant select on all tables in schema landing to {}").format(transformer))
        for creator in (loader, admin):
            conn.execute(
                sql.SQL(
                    "alter default privileges for role {} in schema landing grant select on tables to {}"
                ).format(creator, transformer)
            )
        # ops: the loader keeps the extraction's watermarks and batches; dbt reads every ops table.
        conn.execute(sql.SQL("grant usage on schema ops to {}, {}").format(loader, transformer))
        conn.execute(
            sql.SQL("grant select, insert, update on ops.extract_watermark, ops.extract_batch to {}").format(
                loader
            )
        )
        conn.execute(sql.SQL("grant usage, select on sequence ops.extract_batch_id_seq to {}").format(loader))
        conn.execute(sql.SQL("grant select on all tables in schema ops to {}").format(transformer))
        # quality: the gates record results and publication advances the pointer (lock: update);
        # dbt builds the quality views beside the tables.
        conn.execute(sql.SQL("grant usage, create on schema quality to {}").format(transformer))
        # What dbt built there (an install whose dbt ran as the superuser), not the gates' tables.
        own_relations(
            conn, "quality", roles["transformer"], ("r", "v", "m"), keep=("validation_result", "publication")
        )
        conn.execute(
            sql.SQL(
                "grant select, insert on quality.validation_result, quality.publication to {0}; "
                "grant update on quality.publication to {0}; "
                "grant usage on all sequences in schema quality to {0}"
            ).format(transformer)
        )
        store_pii_salt(conn)
        conn.execute(
            sql.SQL(
                "grant usage on schema private to {0}; grant select on private.pii_hash_salt to {0}; "
                "grant execute on function private.pii_hash_salt() to {0}"
            ).format(transformer)
        )
        # The closed loop: its outbox and the answers in ops; what is published and the contacts in
        # staging it reads through dbt's grants (the published folder, the models it reads).
        conn.execute(sql.SQL("grant usage on schema ops, published, staging to {}").format(closed_loop))
        conn.execute(
            sql.SQL(
                "grant select, insert, update on ops.sheet_delivery, ops.sheet_delivery_attempt to {0}; "
                "grant select, insert on ops.episode_feedback, ops.training_completion to {0}"
            ).format(closed_loop)
        )
        for table, column in (
            ("ops.episode_feedback", "feedback_id"),
            ("ops.training_completion", "completion_id"),
            ("ops.sheet_delivery_attempt", "attempt_id"),
        ):
            [sequence] = conn.execute("select pg_get_serial_sequence(%s, %s)", (table, column)).fetchone()
            conn.execute(sql.SQL("grant usage on sequence {} to {}").format(sql.SQL(sequence), closed_loop))
        reader = sql.Identifier(bi_reader_role(settings))
        ensure_bi_reader_role(conn, bi_reader_role(settings))
        conn.execute(sql.SQL("grant connect on database {} to {}").format(database, reader))
        # Its tables are granted by dbt alone (`grants:` of the folders BI reads), as it builds them.
        conn.execute(
            sql.SQL("grant usage on schema {} to {}").format(
                sql.SQL(", ").join(sql.Identifier(schema) for schema in BI_SCHEMAS), reader
            )
        )
    return roles


def bi_reader_role(settings: Settings | None = None) -> str:
    """The role BI tools read the warehouse as (`SUPERSET_WAREHOUSE_ROLE`, per database prefix)."""
    settings = settings or get_settings()
    return os.environ.get("SUPERSET_WAREHOUSE_ROLE") or f"{settings.db_prefix}superset_reader"


def ensure_bi_reader_role(conn, role: str) -> None:
    """Create the BI reader role without login if it is missing: dbt grants it select on the published
    models, so it must exist before the first publication; Superset's setup gives it a password."""
    if not conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone():
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(role)))


def init_databases(settings: Settings | None = None) -> list[str]:
    """Create every project database and the warehouse schemas; return the names created."""
    settings = settings or get_settings()
    created = [
        settings.database(name)
        for name in (*SYSTEM_DATABASES, "warehouse", "airflow")
        if ensure_database(name, settings)
    ]
    with connect("warehouse", settings) as conn:
        for schema in WAREHOUSE_SCHEMAS:
            conn.execute(f"create schema if not exists {schema}")
        conn.execute(OPS_DDL)
        conn.execute(CLOSED_LOOP_DDL)
        conn.execute(QUALITY_DDL)  # gate results and the publication pointer
    ensure_duty_roles(settings)
    own_metadata_database("airflow", settings)
    return created


def redis_problem() -> str | None:
    """Why Redis (Superset's cache and Celery broker) is unreachable, or None."""
    url = urlparse(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    try:
        with socket.create_connection((url.hostname, url.port or 6379), timeout=2):
            return None
    except OSError as exc:
        return (
            f"Redis is not reachable at {url.hostname}:{url.port or 6379} ({exc}); start it with "
            "`redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no` "
            "or set REDIS_URL"
        )


def register(subparsers) -> None:
    parser = subparsers.add_parser("init-db", help="create the databases and warehouse schemas")
    parser.set_defaults(handler=_run)


def _run(args) -> int:
    created = init_databases()
    print("databases created: " + (", ".join(created) if created else "none (all exist)"))
    if problem := redis_problem():
        print(f"warning: {problem}")
    return 0
