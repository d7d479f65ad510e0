"""The closed loop's documents besides the risk sheets: a unit's list for a day (the Monday lists of
service_risk.closed_loop.weekly, the monthly training plan of service_risk.closed_loop.training).
Each is one A4 page rendered from the published marts, mailed as HTML with its PDF through the
sheets' outbox (ops.sheet_delivery, e-mail, exactly once per document and recipient) under the id
`<purpose>:<org_code>:<day>`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from email.message import EmailMessage

from service_risk.closed_loop import sheet as sheets_module


def parse_document_id(sheet_id: str) -> tuple[str, str, dt.date]:
    """(purpose, org code, day) of a document's outbox sheet id, `<purpose>:<org_code>:<day>`."""
    purpose, org_code, day = sheet_id.split(":")
    return purpose, org_code, dt.date.fromisoformat(day)


def is_published_before(conn, day: dt.date) -> bool:
    """Whether every day before `day` is published: the day before passed the gate (before the first
    publication there is no published table)."""
    if not conn.execute("select to_regclass('published.unit_risk_daily') is not null").fetchone()[0]:
        return False
    published_through = conn.execute("select max(risk_date) from published.unit_risk_daily").fetchone()[0]
    return published_through is not None and published_through >= day - dt.timedelta(days=1)


def headings(conn, sheet_ids: set[str]) -> dict[str, dict]:
    """What the outbox needs of each document before composing it: purpose, day and the unit's name."""
    documents = {}
    for sheet_id in sheet_ids:
        purpose, org_code, day = parse_document_id(sheet_id)
        [(unit_name,)] = conn.execute(
            "select org_name from published.org_unit where org_code = %s", (org_code,)
        )
        documents[sheet_id] = {"sheet_id": sheet_id, "purpose": purpose, "day": day, "unit_name": unit_name}
    return documents


def attach(
    message: EmailMessage, document: dict, title: str, text: str, render_html: Callable[[str], str]
) -> None:
    """Subject `title｜unit｜day`, a short text, the document as HTML and as a PDF attachment."""
    unit_name, day = document["unit_name"], document["day"]
    html, pdf = sheets_module.rendered(document["sheet_id"], render_html)
    message["Subject"] = f"{title}｜{unit_name}｜{day}"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message.add_attachment(
        pdf.read_bytes(), maintype="application", subtype="pdf", filename=f"{title}_{unit_name}_{day}.pdf"
    )
