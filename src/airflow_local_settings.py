"""Airflow imports this module in each of its processes (it is on the path through the package)."""

from service_risk.airflow_support import preload_task_libraries

preload_task_libraries()
