"""A real headless browser (Debian's chromium) logged in to Superset through its own login form."""

from __future__ import annotations

import os

from service_risk.bi.config import ADMIN_USER, SupersetError, SupersetSettings

CHROMIUM = os.environ.get("SUPERSET_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless=new",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


def browser_login(page, base_url: str, username: str, password: str, attempts: int = 3) -> None:
    """Log in as a person would: a real session from the login form.

    Only once the login page is quiet, form filled: a request the page sent before the login (the
    language pack answers an anonymous page with a redirect and a fresh anonymous session) could
    otherwise land after the login's answer and replace the logged-in session cookie. "networkidle"
    alone is not enough on a loaded machine: the page's scripts may start that request later. Sent
    back to the form all the same, a person types it again: so does this, up to `attempts` times,
    and then says what each request was answered."""
    answers: list[str] = []
    pending: set = set()

    def note(response) -> None:
        try:
            cookie = " set-cookie" if "set-cookie" in response.all_headers() else ""
        except Exception:  # the page went away: its status is what matters
            cookie = ""
        answers.append(f"{response.request.method} {response.url} {response.status}{cookie}")

    listeners = {
        "request": pending.add,
        "requestfinished": pending.discard,
        "requestfailed": pending.discard,
        "response": note,
    }
    for event, listener in listeners.items():
        page.on(event, listener)
    try:
        for _ in range(attempts):
            page.goto(f"{base_url}/login/", wait_until="networkidle")
            page.fill("#username", username)
            page.fill("#password", password)
            _wait_until_quiet(page, pending)
            with page.expect_navigation():
                page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            if "/login" not in page.url:
                return
            answers.append(f"sent back to {page.url}")
    finally:
        for event, listener in listeners.items():
            page.remove_listener(event, listener)
    raise SupersetError(f"browser login as {username} failed {attempts} times: " + "\n".join(answers))


def _wait_until_quiet(page, pending: set, quiet_ms: int = 1000, timeout_ms: int = 30_000) -> None:
    """Until no request of the page has been in flight for `quiet_ms` (or `timeout_ms` passed)."""
    quiet = waited = 0
    while quiet < quiet_ms and waited < timeout_ms:
        page.wait_for_timeout(100)
        waited += 100
        quiet = 0 if pending else quiet + 100


def generate_query_contexts(base_url: str, settings: SupersetSettings, chart_ids: list[int]) -> None:
    """Open each chart in Explore once: the frontend then saves the chart's query_context.

    Superset stores a chart's query_context only when the frontend builds it; without
    it GET /api/v1/chart/{id}/data/ answers 400. Explore PUTs it for charts that lack it.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        browser_login(page, base_url, ADMIN_USER, settings.admin_password)
        for chart_id in chart_ids:
            with page.expect_response(
                lambda r, chart_id=chart_id: (
                    r.request.method == "PUT" and r.url.endswith(f"/api/v1/chart/{chart_id}")
                ),
                timeout=60_000,
            ) as saved:
                page.goto(f"{base_url}/explore/?slice_id={chart_id}")
            if saved.value.status != 200:
                raise SupersetError(f"chart {chart_id}: saving query_context answered {saved.value.status}")
        browser.close()
