"""Do the stack's dashboards answer? /health, then as admin every dashboard of the bundle and the data
of each of its charts (GET /api/v1/chart/{id}/data/, the request a dashboard makes per chart).
Exit 1 on any answer but 200. Run in the stack: docker/stack.sh run --rm cli python docker/scripts/check_superset.py"""

from __future__ import annotations

import os
import sys
import time

import requests

from service_risk.bi.client import SupersetClient
from service_risk.bi.config import ASSETS_DIR


def main() -> int:
    url = f"http://127.0.0.1:{os.environ['SUPERSET_PORT']}"
    health = requests.get(f"{url}/health", timeout=30)
    print(f"GET /health: {health.status_code} {health.text.strip()}")
    client = SupersetClient(url, "admin", os.environ["SUPERSET_ADMIN_PASSWORD"])
    dashboards = client.list_all("/api/v1/dashboard/", columns=["id", "dashboard_title", "slug"])
    expected = len(list((ASSETS_DIR / "dashboards").glob("*.yaml")))
    print(f"dashboards: {len(dashboards)} (the bundle has {expected})")
    failures, timings = [], []
    for dashboard in sorted(dashboards, key=lambda d: d["id"]):
        charts = client.get(f"/api/v1/dashboard/{dashboard['id']}/charts")["result"]
        answered = 0
        for chart in charts:
            started = time.monotonic()
            response = client.http.get(f"{url}/api/v1/chart/{chart['id']}/data/", timeout=120)
            timings.append(time.monotonic() - started)
            if response.status_code == 200:
                answered += 1
            else:
                failures.append(f"{dashboard['dashboard_title']} / {chart['slice_name']}: {response.status_code}")
        print(f"  {dashboard['dashboard_title']}: {answered}/{len(charts)} charts answered 200")
    if timings:
        timings.sort()
        print(
            f"chart data calls: {len(timings)}, median {timings[len(timings) // 2] * 1000:.0f} ms, "
            f"max {timings[-1] * 1000:.0f} ms"
        )
    for failure in failures:
        print(f"FAILED {failure}")
    ok = health.status_code == 200 and len(dashboards) >= expected and not failures
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
