"""The feedback form (跟踪反馈): the link in a risk report sheet opens it, no login needed. The link's
token is signed and expires (service_risk.closed_loop.tokens); a tampered or expired link gets a page
that says so. The form is protected against cross-site posts by a double-submit token (a random
value in a SameSite=Strict cookie and in the form, compared on submit) and an Origin check.
Each submission is appended to ops.episode_feedback: a second answer amends, the first stays.

    uvicorn service_risk.closed_loop.feedback_app:app --host 127.0.0.1 --port $FEEDBACK_PORT
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from urllib.parse import urlparse

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from psycopg.rows import dict_row

from service_risk.closed_loop import tokens
from service_risk.db import connect
from service_risk.published_labels import risk_model_context

CSRF_COOKIE = "feedback_csrf"
LIMITS = {"cause": 2000, "measures": 4000, "responsible_person": 100}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # the token is in the path: never sent to another site (no-referrer would make the Origin "null")
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

app = FastAPI(title="风险预警跟踪反馈", docs_url=None, redoc_url=None, openapi_url=None)
_templates = Environment(
    loader=PackageLoader("service_risk.closed_loop", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
)


def _page(template: str, status: int = 200, **values) -> HTMLResponse:
    response = HTMLResponse(_templates.get_template(template).render(**values), status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _refused(error: tokens.InvalidToken) -> HTMLResponse:
    if error.expired:
        return _page(
            "feedback_refused.html.j2",
            410,
            title="链接已过期",
            text="该反馈链接已超过有效期。请联系市公司营销部（客户服务中心）重新获取链接。",
        )
    return _page(
        "feedback_refused.html.j2",
        403,
        title="链接无效",
        text="该反馈链接不完整或已被修改，无法打开。请使用短信或邮件中的原始链接。",
    )


def _episode(episode_id: str) -> dict | None:
    """The episode as last published (its latest day), and its answers so far (oldest first)."""
    with connect("warehouse", duty="closed_loop") as conn:
        episode = (
            conn.cursor(row_factory=dict_row)
            .execute(
                "select * from published.station_episode_daily where episode_id = %s"
                " order by risk_date desc limit 1",
                (episode_id,),
            )
            .fetchone()
        )
        if episode is None:
            return None
        episode["answers"] = conn.execute(
            "select cause, measures, responsible_person, expected_recovery_date,"
            " received_at at time zone 'Asia/Shanghai' from ops.episode_feedback where episode_id = %s"
            " order by received_at, feedback_id",
            (episode_id,),
        ).fetchall()
        episode["risk_model"] = risk_model_context(conn)["risk_model"]  # names of the codes, closure rule
    return episode


def _form(
    request: Request,
    token: str,
    episode: dict,
    status: int = 200,
    errors=(),
    values=None,
    saved: bool = False,
) -> HTMLResponse:
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _page(
        "feedback_form.html.j2",
        status,
        episode=episode,
        token=token,
        csrf=csrf,
        errors=list(errors),
        values=values or {},
        saved=saved,
        limits=LIMITS,
        today=dt.date.today(),
    )
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/feedback/")
    return response


@app.get("/feedback/{token}", response_class=HTMLResponse)
def show(request: Request, token: str, saved: int = 0) -> HTMLResponse:
    try:
        episode_id = tokens.episode_of(token)
    except tokens.InvalidToken as error:
        return _refused(error)
    episode = _episode(episode_id)
    if episode is None:
        return _page(
            "feedback_refused.html.j2",
            404,
            title="预警尚未发布",
            text="该预警尚未在看板发布，请稍后再打开此链接。",
        )
    return _form(request, token, episode, saved=bool(saved))


@app.post("/feedback/{token}", response_class=HTMLResponse)
def submit(
    request: Request,
    token: str,
    csrf: str = Form(""),
    cause: str = Form(""),
    measures: str = Form(""),
    responsible_person: str = Form(""),
    expected_recovery_date: str = Form(""),
):
    try:
        episode_id = tokens.episode_of(token)
    except tokens.InvalidToken as error:
        return _refused(error)
    cookie = request.cookies.get(CSRF_COOKIE, "")
    origin = request.headers.get("origin")
    if not (cookie and hmac.compare_digest(cookie, csrf)) or (
        origin and urlparse(origin).netloc != request.headers.get("host")
    ):
        return _page(
            "feedback_refused.html.j2",
            403,
            title="提交未被接受",
            text="页面已失效或提交来源不明。请重新打开反馈链接后再提交。",
        )
    episode = _episode(episode_id)
    if episode is None:
        return _page("feedback_refused.html.j2", 404, title="预警尚未发布", text="该预警尚未在看板发布。")
    values = {
        "cause": cause.strip(),
        "measures": measures.strip(),
        "responsible_person": responsible_person.strip(),
        "expected_recovery_date": expected_recovery_date,
    }
    errors = [
        f"请填写{label}"
        for name, label in (("cause", "原因"), ("measures", "整改措施"), ("responsible_person", "责任人"))
        if not values[name]
    ]
    errors += [
        f"{name} 过长（最多 {limit} 字）" for name, limit in LIMITS.items() if len(values[name]) > limit
    ]
    recovery = None
    if expected_recovery_date:
        try:
            recovery = dt.date.fromisoformat(expected_recovery_date)
        except ValueError:
            errors.append("预计恢复日期格式不正确")
    if errors:
        return _form(request, token, episode, 422, errors, values)
    with connect("warehouse", duty="closed_loop") as conn:
        conn.execute(
            "insert into ops.episode_feedback (episode_id, cause, measures, responsible_person,"
            " expected_recovery_date) values (%s, %s, %s, %s, %s)",
            (episode_id, values["cause"], values["measures"], values["responsible_person"], recovery),
        )
    return RedirectResponse(f"/feedback/{token}?saved=1", status_code=303)


@app.get("/healthz")
def health() -> dict:
    return {"status": "ok"}
