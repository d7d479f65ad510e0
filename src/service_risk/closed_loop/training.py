"""The monthly targeted-training plan (滴灌式培训计划) of a unit, mailed on the 1st to its leader in
charge (分管领导): the month's red days, the weak indicators (短板) against the province, who is pushed
which course, last month's plan with what was completed and whether its weak indicators improved, and
the link to the completion form. Built by dbt (published.training_plan, published.training_assignment);
rendered and mailed like the Monday lists (service_risk.closed_loop.documents)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage

from service_risk.closed_loop import documents, tokens
from service_risk.closed_loop import sheet as sheets_module
from service_risk.db import connect
from service_risk.published_labels import risk_model_context

TRAINING = "training"
PURPOSES = (TRAINING,)
TITLE = "滴灌式培训计划"
RECIPIENT_ROLE = "leader_in_charge"


def plan_month(day: dt.date) -> dt.date:
    """The plan a day belongs to: the 1st of its month."""
    return day.replace(day=1)


def previous_month(plan_on: dt.date) -> dt.date:
    return (plan_on - dt.timedelta(days=1)).replace(day=1)


def training_plan_id(sheet_id: str) -> str:
    """The plan (`<org_code>:<plan_on>`, fct_training_plan_unit) a plan's outbox sheet id names."""
    _, org_code, plan_on = documents.parse_document_id(sheet_id)
    return f"{org_code}:{plan_on}"


def enqueue(conn, plan_on: dt.date) -> int:
    """Add the missing outbox rows of the month's plans: each unit on the plan to its current leader in
    charge (e-mail). Rows added."""
    return conn.execute(
        """
        insert into ops.sheet_delivery
            (sheet_id, recipient_staff_id, channel, purpose, recipient_role, address, client_message_id)
        select
            plans.sheet_id, contacts.staff_id, 'email', %(purpose)s, contacts.contact_role,
            coalesce(staff.email, ''),
            md5(plans.sheet_id || '|' || contacts.staff_id || '|email|' || %(purpose)s)::uuid::text
        from (
            select distinct org_code, %(purpose)s || ':' || org_code || ':' || plan_on::text as sheet_id
            from published.training_plan where plan_on = %(plan_on)s
        ) as plans
        inner join staging.stg_marketing__unit_contacts as contacts
            on plans.org_code = contacts.org_code and contacts.contact_role = %(role)s
        left join staging.stg_marketing__staff_notification_addresses as staff
            on staff.staff_id = contacts.staff_id
        on conflict (sheet_id, recipient_staff_id, channel, purpose) do nothing
        """,
        {"plan_on": plan_on, "purpose": TRAINING, "role": RECIPIENT_ROLE},
    ).rowcount


def assignments(conn, plan_id: str) -> list[dict]:
    """Who is pushed which course in a plan, by name (the closed loop's contacts), most orders first;
    the courses for the unit's leader to assign (no staff) last."""
    return sheets_module.rows(
        conn,
        "select assignments.*, staff.staff_name from published.training_assignment as assignments"
        " left join staging.stg_marketing__staff_notification_addresses as staff"
        "   on staff.staff_id = assignments.staff_id"
        " where assignments.training_plan_id = %s"
        " order by assignments.staff_id is null, assignments.staff_rank, assignments.staff_id,"
        "   assignments.indicator_code, assignments.course_code",
        (plan_id,),
    )


def by_learner(assignments: list[dict]) -> list[dict]:
    """The assignments grouped per person (in their order), the unit's own last."""
    learners: dict[str | None, dict] = {}
    for item in assignments:
        learners.setdefault(item["staff_id"], {**item, "courses": []})["courses"].append(item)
    return list(learners.values())


def context(conn, sheet_id: str) -> dict:
    _, org_code, plan_on = documents.parse_document_id(sheet_id)
    plan_id, last_plan_id = training_plan_id(sheet_id), f"{org_code}:{previous_month(plan_on)}"
    weak_points = "select * from published.training_plan where training_plan_id = %s order by weak_rank"
    weak = sheets_module.rows(conn, weak_points, (plan_id,))
    return {
        "title": TITLE,
        "sheet_id": sheet_id,
        "plan_on": plan_on,
        "plan": weak[0],
        "weak": weak,
        "learners": by_learner(assignments(conn, plan_id)),
        "last_weak": sheets_module.rows(conn, weak_points, (last_plan_id,)),
        "last_assignments": assignments(conn, last_plan_id),
        "completion_url": tokens.training_url(plan_id),
        "risk_model": risk_model_context(conn)["risk_model"],
        "parameters": sheets_module.rows(conn, "select * from staging.stg_closed_loop__parameters", ())[0],
    }


def render_html(sheet_id: str) -> str:
    with connect("warehouse", duty="closed_loop") as conn:
        data = context(conn, sheet_id)
    return sheets_module.template("training_plan.html.j2").render(**data)


def fill_email(message: EmailMessage, document: dict) -> None:
    unit_name, plan_on = document["unit_name"], document["day"]
    text = (
        f"{unit_name}：{plan_on:%Y年%m月}的{TITLE}见附件（PDF）。请组织所列人员完成培训，"
        f"并在此登记完成情况：{tokens.training_url(training_plan_id(document['sheet_id']))}"
    )
    documents.attach(message, document, TITLE, text, render_html)
