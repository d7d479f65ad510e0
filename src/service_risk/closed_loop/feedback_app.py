"""The closed loop's forms, no login needed: the feedback form (跟踪反馈) the link in a risk report
sheet opens, and the training completion form (滴灌式培训完成登记) the link in a monthly training plan
opens. The links' tokens are signed and expire (service_risk.closed_loop.tokens); a tampered or
expired link gets a page that says so. The forms are protected against cross-site posts by a
double-submit token (a random value in a SameSite=Strict cookie and in the form, compared on submit)
and an Origin check. Each submission is appended (ops.episode_feedback, ops.training_completion):
a later answer amends, the earlier one stays.

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

from service_risk.closed_loop import sheet as sheets_module
from service_risk.closed_loop import tokens, training
from service_risk.db import connect
from service_risk.published_labels import risk_model_context

CSRF_COOKIE = "feedback_csrf"
# Each form's fields and their longest answers.
FEEDBACK_LIMITS = {"cause": 2000, "measures": 4000, "responsible_person": 100}
TRAINING_LIMITS = {"recorded_by": 100}
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
            text="该链接已超过有效期。请联系市公司营销部（客户服务中心）重新获取链接。",
        )
    return _page(
        "feedback_refused.html.j2",
        403,
        title="链接无效",
        text="该链接不完整或已被修改，无法打开。请使用短信或邮件中的原始链接。",
    )


def _same_site(request: Request, csrf: str) -> bool:
    """The post comes from the form this site served: its token matches the cookie's, and the Origin
    (when the browser sends one) is this host."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    origin = request.headers.get("origin")
    return bool(cookie and hmac.compare_digest(cookie, csrf)) and not (
        origin and urlparse(origin).netloc != request.headers.get("host")
    )


def _too_long(values: dict, limits: dict, labels: dict | None = None) -> list[str]:
    """An error per answer longer than its form's limit, named by its label (or field name)."""
    labels = labels or {}
    return [
        f"{labels.get(name, name)} 过长（最多 {limit} 字）"
        for name, limit in limits.items()
        if len(values[name]) > limit
    ]


def _cross_site() -> HTMLResponse:
    return _page(
        "feedback_refused.html.j2",
        403,
        title="提交未被接受",
        text="页面已失效或提交来源不明。请重新打开链接后再提交。",
    )


def _csrf_page(
    request: Request, path: str, template: str, limits: dict, status: int = 200, **values
) -> HTMLResponse:
    """A form page with its double-submit token (the cookie's, or a new one set for `path`)."""
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = _page(template, status, csrf=csrf, limits=limits, today=dt.date.today(), **values)
    response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path=path)
    return response


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
    return _csrf_page(
        request,
        "/feedback/",
        "feedback_form.html.j2",
        FEEDBACK_LIMITS,
        status,
        episode=episode,
        token=token,
        errors=list(errors),
        values=values or {},
        saved=saved,
    )


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
    if not _same_site(request, csrf):
        return _cross_site()
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
    errors += _too_long(values, FEEDBACK_LIMITS)
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


def _training_plan(plan_id: str) -> dict | None:
    """A published training plan: its weak points and its assignments, with each assignment's latest
    answer so far (the operational table: an answer shows before the next publication)."""
    with connect("warehouse", duty="closed_loop") as conn:
        weak = sheets_module.rows(
            conn,
            "select * from published.training_plan where training_plan_id = %s order by weak_rank",
            (plan_id,),
        )
        if not weak:
            return None
        assignments = training.assignments(conn, plan_id)
        answers = {
            assignment_id: (is_completed, completed_on)
            for assignment_id, is_completed, completed_on in conn.execute(
                "select distinct on (assignment_id) assignment_id, is_completed, completed_on"
                " from ops.training_completion where assignment_id = any(%s)"
                " order by assignment_id, received_at desc, completion_id desc",
                ([item["assignment_id"] for item in assignments],),
            )
        }
    for item in assignments:
        if item["assignment_id"] in answers:
            item["is_completed"], item["completed_on"] = answers[item["assignment_id"]]
    return {"plan": weak[0], "weak": weak, "assignments": assignments}


def _training_form(request: Request, token: str, plan: dict, status=200, errors=(), values=None, saved=False):
    values = values or {
        "completed": {item["assignment_id"] for item in plan["assignments"] if item["is_completed"]},
        "dates": {item["assignment_id"]: item["completed_on"] for item in plan["assignments"]},
        "recorded_by": "",
    }
    return _csrf_page(
        request,
        "/training/",
        "training_form.html.j2",
        TRAINING_LIMITS,
        status,
        token=token,
        errors=list(errors),
        values=values,
        saved=saved,
        **plan,
    )


def _training_plan_of(token: str) -> tuple[str | None, HTMLResponse | None]:
    try:
        return tokens.training_plan_of(token), None
    except tokens.InvalidToken as error:
        return None, _refused(error)


NOT_PUBLISHED = {"title": "培训计划尚未发布", "text": "该培训计划尚未在看板发布，请稍后再打开此链接。"}


@app.get("/training/{token}", response_class=HTMLResponse)
def show_training(request: Request, token: str, saved: int = 0) -> HTMLResponse:
    plan_id, refused = _training_plan_of(token)
    if refused:
        return refused
    plan = _training_plan(plan_id)
    if plan is None:
        return _page("feedback_refused.html.j2", 404, **NOT_PUBLISHED)
    return _training_form(request, token, plan, saved=bool(saved))


@app.post("/training/{token}", response_class=HTMLResponse)
async def submit_training(request: Request, token: str):
    """Record the state of every assignment whose answer changes: ticked or not, and the day."""
    plan_id, refused = _training_plan_of(token)
    if refused:
        return refused
    form = await request.form()
    if not _same_site(request, str(form.get("csrf", ""))):
        return _cross_site()
    plan = _training_plan(plan_id)
    if plan is None:
        return _page("feedback_refused.html.j2", 404, **NOT_PUBLISHED)
    listed = {item["assignment_id"]: item for item in plan["assignments"]}
    values = {
        "completed": {str(value) for value in form.getlist("completed")} & listed.keys(),
        "dates": {
            assignment_id: str(form.get(f"completed_on:{assignment_id}", "")).strip()
            for assignment_id in listed
        },
        "recorded_by": str(form.get("recorded_by", "")).strip(),
    }
    errors = [] if values["recorded_by"] else ["请填写登记人"]
    errors += _too_long(values, TRAINING_LIMITS, {"recorded_by": "登记人"})
    answers = []
    for assignment_id, item in listed.items():
        done, day = assignment_id in values["completed"], None
        if done:
            try:
                day = (
                    dt.date.fromisoformat(values["dates"][assignment_id])
                    if values["dates"][assignment_id]
                    else dt.date.today()
                )
            except ValueError:
                errors.append(f"{item['course_title_zh']}：完成日期格式不正确")
                continue
            if day > dt.date.today() or day < item["plan_on"] - dt.timedelta(days=31):
                errors.append(f"{item['course_title_zh']}：完成日期应在计划月份前后且不晚于今天")
                continue
        if (done, day) != (bool(item["is_completed"]), item["completed_on"] if done else None):
            answers.append((assignment_id, done, day, values["recorded_by"]))
    if errors:
        return _training_form(request, token, plan, 422, errors, values)
    with connect("warehouse", duty="closed_loop") as conn:
        conn.cursor().executemany(
            "insert into ops.training_completion (assignment_id, is_completed, completed_on, recorded_by)"
            " values (%s, %s, %s, %s)",
            answers,
        )
    return RedirectResponse(f"/training/{token}?saved=1", status_code=303)


@app.get("/healthz")
def health() -> dict:
    return {"status": "ok"}
