"""Airflow assets the DAGs produce and schedule on: one per landed table."""

from __future__ import annotations

from airflow.sdk import Asset

from service_risk.sources import SOURCE_TABLES, SourceTable


def landing_asset(table: SourceTable) -> Asset:
    return Asset(name=f"landing.{table.landing_name}", uri=f"warehouse://landing/{table.landing_name}")


LANDING_ASSETS: tuple[Asset, ...] = tuple(landing_asset(table) for table in SOURCE_TABLES)


# daily_risk's publish emits it; send_risk_sheets schedules on it.
PUBLISHED_RISK_SHEETS = Asset(name="published.risk_sheet", uri="warehouse://published/risk_sheet")
