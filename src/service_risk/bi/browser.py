"""A real headless browser (Debian's chromium) logged in to Superset through its own login form."""

from __future__ import annotations

import os
import re

from service_risk.bi.config import ADMIN_USER, SupersetError, SupersetSettings

# The beacon of Superset's frontend event log (navigator.sendBeacon as a page unloads).
ANONYMOUS_EVENT_LOG = re.compile(r"/superset/log/")
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

    Superset answers an anonymous page's own requests (the language pack, and the event log beacon
    the page sends as it unloads, i.e. while the login is posted) with "access denied": a redirect
    and a fresh anonymous session cookie. Landing after the login's answer, that cookie replaces the
    logged-in one and the browser is sent back to the form (seen in CI: three tries in a row). So the
    form is posted only once the page is quiet ("networkidle" alone is not enough on a loaded
    machine: the scripts may ask for the language pack later) and the login page's beacon is
    dropped (an anonymous page's event log is refused anyway). Sent back all the same, this types
    it again, up to `attempts` times, and then says what each request was answered."""
    answers: list[str] = []
    pending: set = set()

    def note(response) -> None:
        try:
            cookie = " set-cookie" if "set-cookie" in response.all_headers() else ""
        except Exception:  # the page went away: its status is what matters
            cookie = ""
        answers.append(f"{response.request.method} {response.url} {response.status}{cookie}")

    def started(request) -> None:
        pending.add(request)

    def ended(request) -> None:
        pending.discard(request)

    # Functions of their own: Playwright marks a listener to remove it later, a builtin it cannot mark.
    listeners = {"request": started, "requestfinished": ended, "requestfailed": ended, "response": note}
    for event, listener in listeners.items():
        page.on(event, listener)
    page.route(ANONYMOUS_EVENT_LOG, _drop)
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
        page.unroute(ANONYMOUS_EVENT_LOG, _drop)
        for event, listener in listeners.items():
            page.remove_listener(event, listener)
    raise SupersetError(f"browser login as {username} failed {attempts} times: " + "\n".join(answers))


def _drop(route) -> None:
    route.abort("aborted")


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
