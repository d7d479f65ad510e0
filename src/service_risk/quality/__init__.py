"""Great Expectations gates and publication: landed batches after extraction, marts after dbt.

`suites` turns the suites as code in `expectations/` into GX suites; `validation` runs them through an
ephemeral GX context, keeps the results in `quality.validation_result` and builds Data Docs;
`publication` says which days a run built, builds the published dbt models over them and advances
the pointer; `notification` e-mails the data engineers. The DAG tasks only call these functions
(`service_risk.airflow_support.enforce_gate`: validate, record, announce, fail).
"""
