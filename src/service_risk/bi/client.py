"""A logged-in Superset REST API session."""

from __future__ import annotations

from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from service_risk.bi.config import SupersetError

# Superset's rate limit (RATELIMIT_APPLICATION) answers 429 before it handles a request, so any
# method can be sent again; provisioning makes bursts of calls that meet it.
RATE_LIMITED = Retry(
    total=8,
    status_forcelist=(429,),
    allowed_methods=None,
    backoff_factor=0.5,
    backoff_max=4,
    respect_retry_after_header=True,
    raise_on_status=False,
)


def rison(value) -> str:
    """Just enough Rison for Superset's `q` parameter (dicts, lists, ints, strings)."""
    if isinstance(value, dict):
        return "(" + ",".join(f"{k}:{rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list):
        return "!(" + ",".join(rison(v) for v in value) + ")"
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("!", "!!").replace("'", "!'") + "'"


class SupersetClient:
    """JWT for the API, session cookie + CSRF token for writes."""

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 120):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.mount(self.base_url, HTTPAdapter(max_retries=RATE_LIMITED))
        response = self.http.post(
            f"{self.base_url}/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
            timeout=timeout,
        )
        if response.status_code != 200:
            raise SupersetError(f"login as {username} failed: {response.status_code} {response.text[:200]}")
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        token = self.get("/api/v1/security/csrf_token/")["result"]
        self.http.headers.update({"X-CSRFToken": token, "Referer": self.base_url})

    def request(self, method: str, path: str, expect: tuple[int, ...] = (200, 201), **kwargs):
        response = self.http.request(method, self.base_url + path, timeout=self.timeout, **kwargs)
        if response.status_code not in expect:
            raise SupersetError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else {}

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path: str, payload=None, **kwargs):
        return self.request("POST", path, json=payload, **kwargs)

    def put(self, path: str, payload=None, **kwargs):
        return self.request("PUT", path, json=payload, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.request("DELETE", path, **kwargs)

    def list_all(self, path: str, **query) -> list[dict]:
        rows: list[dict] = []
        page = 0
        while True:
            q = rison({**query, "page": page, "page_size": 100})
            body = self.get(f"{path}?q={quote(q)}")
            rows.extend(body["result"])
            if len(rows) >= body.get("count", 0) or not body["result"]:
                return rows
            page += 1

    def ids_by(self, path: str, key: str) -> dict[str, int]:
        """key -> id of every object of a collection (e.g. roles by name, reports by name)."""
        # The roles API answers with its own fixed columns.
        columns = {} if path.startswith("/api/v1/security/roles") else {"columns": ["id", key]}
        return {row[key]: row["id"] for row in self.list_all(path, **columns)}

    def upsert(self, path: str, existing: dict[str, int], key: str, body: dict) -> int:
        """Update the object named `key` in place, or create it; `existing` learns the new id."""
        if key in existing:
            self.put(f"{path}{existing[key]}", body)
        else:
            existing[key] = self.post(path, body)["id"]
        return existing[key]
