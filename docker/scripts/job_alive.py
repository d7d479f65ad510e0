"""Health check of an Airflow component that has no server: its job row (this container's hostname)
heartbeated within the last minute. One query; `airflow jobs check` costs seconds of CPU per run.
Runs outside the entrypoint, so it builds the connection from the env files' variables.
Usage: job_alive.py DagProcessorJob|TriggererJob"""

import os
import socket
import sys

import psycopg2

connection = psycopg2.connect(
    host="127.0.0.1",
    port=os.environ["SR_POSTGRES_PORT"],
    dbname=f"{os.environ.get('SR_DB_PREFIX', '')}airflow",
    user=f"{os.environ.get('SR_DB_PREFIX', '')}airflow_metadata",
    password=os.environ["SR_AIRFLOW_METADATA_PASSWORD"],
    connect_timeout=10,
)
with connection, connection.cursor() as cursor:
    cursor.execute(
        "select 1 from job where job_type = %s and hostname = %s and state = 'running'"
        " and latest_heartbeat > now() - interval '60 seconds'",
        (sys.argv[1], socket.gethostname()),
    )
    sys.exit(0 if cursor.fetchone() else 1)
