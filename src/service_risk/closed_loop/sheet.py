"""The risk report sheet (风险报告单) of an episode's opening or escalation: one A4 page in Chinese,
rendered by a Jinja template from the published marts (HTML), printed to PDF by Debian's headless
chromium. It shows the unit, its code and R, the ten indicators against the province, the last
`sheet_trend_days` days of R, the orders behind the worst indicators (no personal data: order
numbers, types, dates and states only), the feedback deadline and the link to answer.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from psycopg.rows import dict_row

from service_risk.closed_loop import tokens
from service_risk.db import connect
from service_risk.published_labels import risk_model_context

CHROMIUM = os.environ.get("SR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]

_environment = Environment(
    loader=PackageLoader("service_risk.closed_loop", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def rows(conn, sql: str, params) -> list[dict]:
    found = conn.cursor(row_factory=dict_row).execute(sql, params).fetchall()
    # numbers are for display only: floats keep the template's arithmetic simple
    return [{name: float(v) if isinstance(v, Decimal) else v for name, v in row.items()} for row in found]


def code_labels(conn) -> dict[str, dict[str, str]]:
    """Chinese names of the risk codes and of the overrides that raise them (dim_risk_code, as
    published), so the sheet names them as the dashboards do."""
    names: dict[str, dict[str, str]] = {"risk_code": {}, "override_reason": {}}
    for code, name, override, override_text in conn.execute(
        "select risk_code, risk_code_name_zh, override_reason, override_description_zh from published.risk_code"
    ):
        names["risk_code"][code] = name
        if override:
            names["override_reason"][override] = override_text
    return names


def context(conn, sheet_id: str) -> dict:
    """Everything the template shows, from the published tables: the sheet, the unit's indicators
    against the province, its trend and what the sheet lists behind its worst indicators
    (published.risk_sheet_order: order facts only, no personal data)."""
    [sheet] = rows(conn, "select * from published.risk_sheet where sheet_id = %s", (sheet_id,))
    parameters = rows(conn, "select * from staging.stg_closed_loop__parameters", ())[0]
    day, station = sheet["risk_date"], sheet["station_code"]
    indicators = rows(
        conn,
        """
        select catalogue.indicator_code, catalogue.indicator_name_zh, catalogue.measure_kind,
               catalogue.window_days, catalogue.upper_limit, unit.indicator_value, unit.indicator_score,
               unit.numerator, unit.denominator, province.indicator_value as province_value,
               province.indicator_score as province_score
        from published.risk_indicator as catalogue
        inner join published.unit_indicator_daily as unit
            on unit.indicator_code = catalogue.indicator_code and unit.org_code = %(station)s
            and unit.risk_date = %(day)s
        inner join published.unit_indicator_daily as province
            on province.indicator_code = catalogue.indicator_code and province.org_level = 'province'
            and province.risk_date = %(day)s
        order by catalogue.indicator_code
        """,
        {"station": station, "day": day},
    )
    listed = rows(
        conn,
        "select * from published.risk_sheet_order where sheet_id = %s order by indicator_rank, order_rank",
        (sheet_id,),
    )
    by_code = {indicator["indicator_code"]: indicator for indicator in indicators}
    orders: dict[str, dict] = {}
    for row in listed:
        group = orders.setdefault(
            row["indicator_code"],
            {"indicator": by_code[row["indicator_code"]], "orders": [], "total": row["orders_behind"]},
        )
        if row["order_no"] is not None:
            group["orders"].append(row)
    for indicator in indicators:
        indicator["is_worst"] = indicator["indicator_code"] in orders
        indicator["above_province"] = indicator["indicator_score"] > indicator["province_score"]
    trend = rows(
        conn,
        "select risk_date, risk_score, risk_code from published.unit_risk_daily"
        " where org_code = %s and risk_date between %s and %s order by risk_date",
        (station, day - dt.timedelta(days=parameters["sheet_trend_days"] - 1), day),
    )
    unit = rows(
        conn, "select * from published.unit_risk_daily where org_code = %s and risk_date = %s", (station, day)
    )[0]
    thresholds = {
        row["risk_code"]: row["min_risk_score"]
        for row in rows(conn, "select risk_code, min_risk_score from published.risk_code", ())
    }
    model = risk_model_context(conn)
    return {
        "sheet": sheet,
        "unit": unit,
        "risk_model": model["risk_model"],
        "dimensions": model["dimensions"],
        "code_name": sheet["risk_code_name_zh"],
        "indicators": indicators,
        "worst": [group["indicator"] for group in orders.values()],
        "trend": trend,
        "chart": trend_chart(trend, thresholds),
        "trend_days": parameters["sheet_trend_days"],
        "orders": list(orders.values()),
        "labels": code_labels(conn),
        "feedback_url": tokens.feedback_url(sheet["episode_id"]),
        "hours_to_answer": int((sheet["feedback_due_at"] - sheet["issued_at"]).total_seconds() // 3600),
    }


def trend_chart(trend: list[dict], thresholds: dict, width: int = 660, height: int = 105) -> dict:
    """Coordinates of the R line and the code thresholds for an inline SVG (R from 0 to 100)."""
    left, right, top, bottom = 34, 8, 8, 22
    plot_w, plot_h = width - left - right, height - top - bottom

    def y(score) -> float:
        return round(top + plot_h * (1 - min(float(score), 100) / 100), 1)

    step = plot_w / max(len(trend) - 1, 1)
    points = [
        {
            "x": round(left + n * step, 1),
            "y": y(day["risk_score"]),
            "code": day["risk_code"],
            "day": day["risk_date"],
        }
        for n, day in enumerate(trend)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "bottom": height - bottom,
        "points": points,
        "line": " ".join(f"{p['x']},{p['y']}" for p in points),
        "thresholds": [
            {"code": code, "score": score, "y": y(score)} for code, score in thresholds.items() if score > 0
        ],
        "ticks": [points[n] for n in sorted({0, len(points) // 2, len(points) - 1})] if points else [],
    }


def template(name: str):
    """A template of the closed loop's documents (templates/)."""
    return _environment.get_template(name)


def render_html(sheet_id: str, conn=None) -> str:
    if conn is None:
        with connect("warehouse", duty="closed_loop") as conn:
            return render_html(sheet_id, conn)
    return template("risk_sheet.html.j2").render(**context(conn, sheet_id))


class Printer:
    """Debian's headless chromium, started once for many sheets (Playwright drives it; page.pdf is
    chromium's print to PDF). Everything the sheet shows is inline, so the page loads nothing."""

    def __enter__(self) -> Printer:
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        self._browser = self._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self._page = self._browser.new_page()
        return self

    def __exit__(self, *exc) -> None:
        self._browser.close()
        self._playwright.stop()

    def pdf(self, html: str, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._page.set_content(html, wait_until="load")
        self._page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
        return path


_printer: Printer | None = None


def close_printer() -> None:
    global _printer
    if _printer is not None:
        _printer.__exit__(None, None, None)
        _printer = None


def printing() -> Printer:
    """The printer of this process, started at first use (the sender prints every sheet it mails)."""
    global _printer
    if _printer is None:
        _printer = Printer().__enter__()
    return _printer


def sheet_dir() -> Path:
    return Path(os.environ.get("SR_STATE_DIR", ".")) / "sheets"


def rendered(sheet_id: str, render=render_html) -> tuple[str, Path]:
    """A document's HTML and PDF (a risk sheet, or a weekly list with its `render`), rendered once and
    kept in SR_STATE_DIR/sheets (a published document never changes)."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", sheet_id)
    html_path, pdf_path = sheet_dir() / f"{stem}.html", sheet_dir() / f"{stem}.pdf"
    if not (html_path.exists() and pdf_path.exists()):
        html = render(sheet_id)
        printing().pdf(html, pdf_path)
        html_path.write_text(html, encoding="utf-8")
    return html_path.read_text(encoding="utf-8"), pdf_path


def summary_text(sheet: dict) -> str:
    return "\n".join(
        [
            f"{sheet['city_name']} {sheet['county_name']} {sheet['station_name']}",
            f"{sheet['risk_date']} {sheet['sheet_kind_name_zh']}：{sheet['risk_code_name_zh']}，"
            f"综合风险值 R = {sheet['risk_score']}",
            f"请于 {sheet['feedback_due_at']:%Y-%m-%d %H:%M} 前反馈整改情况：{tokens.feedback_url(sheet['episode_id'])}",
            "",
            "风险报告单见附件（PDF）。",
        ]
    )


def fill_email(message: EmailMessage, sheet: dict) -> None:
    """Text, the sheet as HTML, and the sheet as a PDF attachment."""
    html, pdf = rendered(sheet["sheet_id"])
    message.set_content(summary_text(sheet))
    message.add_alternative(html, subtype="html")
    message.add_attachment(
        pdf.read_bytes(),
        maintype="application",
        subtype="pdf",
        filename=f"风险报告单_{sheet['station_name']}_{sheet['risk_date']}.pdf",
    )
