"""Every 15 minutes (SR_EXTRACT_CRON): land what changed in the source systems since the last watermark.

One task per source table; each reads the rows with updated_at in (watermark - lag, end of the run's
data interval] and lands the versions not landed yet (service_risk.extract), then emits the table's
asset, on which the daily risk DAG is scheduled. A catch-up after downtime is one run. Then the
landed batches are validated with Great Expectations (expectations/landing.yml,
service_risk.quality): a blocking failure (missing columns, a short batch) is e-mailed to the data
engineers and fails the run; row-level dirt only warns (dbt staging quarantines it).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import CronTriggerTimetable, dag, task

from service_risk.airflow_support import EXTRACT_CRON, task_defaults
from service_risk.assets import landing_asset
from service_risk.sources import SOURCE_TABLES


@task
def extract(system: str, name: str, data_interval_end=None, dag_run=None, run_id=None) -> dict:
    from service_risk.airflow_support import dsn_from_connection, run_moment
    from service_risk.extract import extract_table
    from service_risk.sources import source_table
    from service_risk.timeutil import to_local_naive

    high_water = to_local_naive(data_interval_end or run_moment(dag_run))
    result = extract_table(
        source_table(system, name),
        high_water,
        source_dsn=dsn_from_connection(system),
        warehouse_dsn=dsn_from_connection("warehouse"),
        run_id=run_id,
    )
    print(
        f"{result.landing_table}: {result.row_count} rows landed of {result.rows_read} read, batch "
        f"{result.batch_id}, source window ({result.read_from}, {result.high_water}], "
        f"{result.rows_per_second:,.0f} rows/s"
    )
    return {"landing_table": result.landing_table, "batch_id": result.batch_id, "rows": result.row_count}


@task(retries=1, retry_delay=timedelta(seconds=10))
def validate_landing(batches: list[dict], run_id=None) -> None:
    from service_risk.airflow_support import enforce_gate
    from service_risk.quality import validation

    enforce_gate(validation.validate_landing(batches, run_id), run_id)


@dag(
    dag_id="extract_sources",
    schedule=CronTriggerTimetable(EXTRACT_CRON, timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=task_defaults(retry_delay=timedelta(minutes=1)),
    tags=["extraction", "landing"],
    doc_md=__doc__,
)
def extract_sources():
    batches = [
        extract.override(task_id=f"extract_{table.landing_name}", outlets=[landing_asset(table)])(
            system=table.system, name=table.name
        )
        for table in SOURCE_TABLES
    ]
    validate_landing(batches)


extract_sources()
