"""Pages opened as on an isolated intranet (issue 18): a real headless Chromium in which every
request that would leave the machine is blocked, and every asset that fails to load is counted.

`Intranet` watches a Playwright browser context: a request to a host other than the loopback is
aborted and recorded, so are a local asset (document, stylesheet, script, image, font, media) that
failed to load or answered 400 or more, each with the page that asked for it. A request that the
page's own content security policy refused never reaches the network: it is recorded apart, as
refused, and is no failure. `write` keeps the record in artifacts/offline/; `intranet_browser`
opens a browser watched so, `mail_as_page` turns a mail into the page a mail client shows.
"""

from __future__ import annotations

import base64
import ipaddress
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from service_risk.bi.browser import CHROMIUM, CHROMIUM_ARGS
from tests.conftest import ARTIFACTS

RECORDS = ARTIFACTS / "offline"
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome-error"}
# What a page needs to show itself; an API answer such as a 401 before logging in is no asset.
ASSET_TYPES = {"document", "stylesheet", "script", "image", "font", "media", "manifest", "texttrack"}


def is_local(url: str) -> bool:
    """A URL this machine answers itself: loopback hosts, files, data and blob URLs."""
    parts = urlsplit(url)
    if parts.scheme in LOCAL_SCHEMES:
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Intranet:
    """Requests of a browser context: all of them, the blocked ones and the failed local ones."""

    name: str
    requests: list[dict] = field(default_factory=list)
    blocked: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)  # every page opened, in order

    @property
    def page_label(self) -> str:
        """What the test is opening now; set before each page."""
        return self.pages[-1] if self.pages else ""

    @page_label.setter
    def page_label(self, label: str) -> None:
        self.pages.append(label)

    def attach(self, context) -> Intranet:
        context.route("**/*", self._route)
        context.on("request", self._request)
        context.on("requestfailed", self._failed)
        context.on("response", self._response)
        return self

    def _entry(self, request, **extra) -> dict:
        return {"page": self.page_label, "url": request.url, "type": request.resource_type, **extra}

    def _route(self, route) -> None:
        if is_local(route.request.url):
            route.continue_()
        else:
            self.blocked.append(self._entry(route.request))
            route.abort("blockedbyclient")

    def _request(self, request) -> None:
        self.requests.append(self._entry(request))

    def _failed(self, request) -> None:
        if _local_asset(request) and not _cancelled(request.failure):
            self.missing.append(self._entry(request, error=request.failure))

    def _response(self, response) -> None:
        if _local_asset(response.request) and response.status >= 400:
            self.missing.append(self._entry(response.request, status=response.status))

    def refused(self) -> list[dict]:
        """Requests for another host that never reached the network (the browser refused them)."""
        sent = {(b["page"], b["url"]) for b in self.blocked}
        return [r for r in self.requests if not is_local(r["url"]) and (r["page"], r["url"]) not in sent]

    def problems(self) -> list[str]:
        return [f"{b['page']}: blocked {b['type']} {b['url']}" for b in self.blocked] + [
            f"{m['page']}: missing {m['type']} {m['url']} ({m.get('status') or m.get('error')})"
            for m in self.missing
        ]

    def write(self) -> None:
        """artifacts/offline/<name>.json: per page, what it asked for, what was blocked, refused or missing."""
        RECORDS.mkdir(parents=True, exist_ok=True)
        kinds = {
            "requests": self.requests,
            "blocked": self.blocked,
            "refused": self.refused(),
            "missing": self.missing,
        }
        pages: dict[str, dict] = {label: {name: [] for name in kinds} for label in self.pages}
        for kind, entries in kinds.items():
            for entry in entries:
                page = pages.setdefault(entry["page"], {name: [] for name in kinds})
                page[kind].append({k: v for k, v in entry.items() if k != "page"})
        (RECORDS / f"{self.name}.json").write_text(json.dumps(pages, ensure_ascii=False, indent=1))


def _local_asset(request) -> bool:
    return request.resource_type in ASSET_TYPES and is_local(request.url)


def _cancelled(failure: str | None) -> bool:
    """A request the page itself gave up on (navigated away, a superseded fetch) is no missing asset."""
    return bool(failure) and "ERR_ABORTED" in failure


@contextmanager
def intranet_browser(name: str, **context_options) -> Iterator[tuple[object, Intranet]]:
    """A page of Debian's headless Chromium (as the Superset tests use it) on the intranet; the
    record is written when the block ends."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(**context_options)
        intranet = Intranet(name).attach(context)
        try:
            yield context.new_page(), intranet
        finally:
            intranet.write()
            browser.close()


def draws_chinese(page) -> bool:
    """Two Chinese characters drawn on a canvas differ; without a CJK font both are the same box."""
    return page.evaluate(
        """() => {
            const draw = (text) => {
                const canvas = document.createElement('canvas');
                canvas.width = 64;
                canvas.height = 32;
                const context = canvas.getContext('2d');
                context.font = '24px sans-serif';
                context.fillText(text, 4, 26);
                return canvas.toDataURL();
            };
            return draw('风') !== draw('险');
        }"""
    )


def mail_as_page(message) -> str:
    """A mail's HTML as a mail client shows it: its inline parts (cid:) in place, as data: URLs."""
    html = next(part for part in message.walk() if part.get_content_type() == "text/html").get_content()
    for part in message.walk():
        if content_id := part.get("Content-ID"):
            data = base64.b64encode(part.get_payload(decode=True)).decode()
            html = html.replace(
                f"cid:{content_id.strip('<>')}", f"data:{part.get_content_type()};base64,{data}"
            )
    return html
