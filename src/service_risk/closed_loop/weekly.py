"""The Monday mails of the closed loop: each city company's weekly interview list (每周约谈清单) to its
leaders, and the province supervision summary (省公司督办周报) to the province's leaders. Both are
built by dbt (published.weekly_interview, published.city_supervision_weekly); this renders them as
one A4 page and names the outbox rows that carry them (service_risk.closed_loop.documents)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from service_risk.closed_loop import documents
from service_risk.closed_loop import sheet as sheets_module
from service_risk.db import connect
from service_risk.published_labels import risk_model_context

INTERVIEW = "interview"
SUPERVISION = "supervision"
PURPOSES = (INTERVIEW, SUPERVISION)
TITLES = {INTERVIEW: "每周约谈清单", SUPERVISION: "省公司督办周报"}


def enqueue(conn, interview_on: dt.date) -> int:
    """Add the missing outbox rows of the Monday's lists: each city company with episodes to interview
    to its current leaders, and the province's summary to its leaders (e-mail). Rows added."""
    week_from = interview_on - dt.timedelta(days=7)
    return conn.execute(
        """
        insert into ops.sheet_delivery
            (sheet_id, recipient_staff_id, channel, purpose, recipient_role, address, client_message_id)
        select
            lists.purpose || ':' || lists.org_code || ':' || %(interview_on)s::date::text, contacts.staff_id,
            'email', lists.purpose, contacts.contact_role, coalesce(staff.email, ''),
            md5(lists.purpose || ':' || lists.org_code || ':' || %(interview_on)s::date::text || '|'
                || contacts.staff_id || '|email|' || lists.purpose)::uuid::text
        from (
            select distinct %(interview)s::text as purpose, city_code as org_code
            from published.weekly_interview where interview_on = %(interview_on)s
            union
            select distinct %(supervision)s::text, province_code
            from published.city_supervision_weekly where week_from = %(week_from)s
        ) as lists
        inner join staging.stg_marketing__unit_contacts as contacts
            on lists.org_code = contacts.org_code and contacts.contact_role = any(%(roles)s)
        left join staging.stg_marketing__staff_notification_addresses as staff
            on staff.staff_id = contacts.staff_id
        on conflict (sheet_id, recipient_staff_id, channel, purpose) do nothing
        """,
        {
            "interview_on": interview_on,
            "week_from": week_from,
            "interview": INTERVIEW,
            "supervision": SUPERVISION,
            "roles": ["leader_in_charge", "department_head"],
        },
    ).rowcount


def _interview_context(conn, city_code: str, interview_on: dt.date) -> dict:
    items = sheets_module.rows(
        conn,
        "select * from published.weekly_interview where city_code = %s and interview_on = %s"
        " order by is_feedback_overdue desc, most_red_days_in_row desc, county_name, station_name, episode_id",
        (city_code, interview_on),
    )
    answers: dict[str, list[dict]] = {}
    for answer in sheets_module.rows(
        conn,
        "select episode_id, answer_number, received_at, measures from published.episode_feedback"
        " where episode_id = any(%s) and received_at < %s::timestamp at time zone 'Asia/Shanghai'"
        " order by episode_id, answer_number",
        ([item["episode_id"] for item in items], interview_on),
    ):
        answers.setdefault(answer["episode_id"], []).append(answer)
    leaders: dict[str, list[dict]] = {}
    for leader in sheets_module.rows(
        conn,
        "select contacts.org_code, roles.name_zh as role_zh, staff.staff_name"
        " from staging.stg_marketing__unit_contacts as contacts"
        " inner join staging.stg_risk_model__source_value_labels as roles"
        "   on roles.enumeration = 'contact_role' and roles.value = contacts.contact_role"
        " left join staging.stg_marketing__staff_notification_addresses as staff"
        "   on staff.staff_id = contacts.staff_id"
        " where contacts.org_code = any(%s) order by contacts.org_code, contacts.contact_role desc",
        ([item["station_code"] for item in items],),
    ):
        leaders.setdefault(leader["org_code"], []).append(leader)
    return {
        "items": items,
        "answers": answers,
        "leaders": leaders,
        "city_name": items[0]["city_name"] if items else city_code,
    }


def _supervision_context(conn, province_code: str, interview_on: dt.date) -> dict:
    cities = sheets_module.rows(
        conn,
        "select * from published.city_supervision_weekly where province_code = %s and week_from = %s"
        " order by open_red_episodes desc, feedback_overdue_episodes desc, city_code",
        (province_code, interview_on - dt.timedelta(days=7)),
    )
    totals = {
        name: sum(city[name] or 0 for city in cities)
        for name in (
            "open_episodes",
            "open_red_episodes",
            "open_yellow_episodes",
            "feedback_overdue_episodes",
            "closed_episodes",
            "reopened_episodes",
        )
    }
    return {"cities": cities, "totals": totals}


def context(conn, sheet_id: str) -> dict:
    purpose, org_code, interview_on = documents.parse_document_id(sheet_id)
    builder = _interview_context if purpose == INTERVIEW else _supervision_context
    model = risk_model_context(conn)
    return {
        "purpose": purpose,
        "title": TITLES[purpose],
        "sheet_id": sheet_id,
        "interview_on": interview_on,
        "week_from": interview_on - dt.timedelta(days=7),
        "week_to": interview_on - dt.timedelta(days=1),
        "risk_model": model["risk_model"],
        "labels": sheets_module.code_labels(conn),
        "parameters": sheets_module.rows(conn, "select * from staging.stg_closed_loop__parameters", ())[0],
        **builder(conn, org_code, interview_on),
    }


def render_html(sheet_id: str) -> str:
    with connect("warehouse", duty="closed_loop") as conn:
        data = context(conn, sheet_id)
    return sheets_module.template(f"{data['purpose']}_list.html.j2").render(**data)


def fill_email(message: EmailMessage, document: dict) -> None:
    title, unit_name, monday = TITLES[document["purpose"]], document["unit_name"], document["day"]
    text = f"{unit_name}：{monday - dt.timedelta(days=7)} 至 {monday - dt.timedelta(days=1)} 的{title}见附件（PDF）。"
    documents.attach(message, document, title, text, render_html)
