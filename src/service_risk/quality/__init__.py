"""Great Expectations gates: landed batches after extraction, marts after dbt, and publication.

`suites` turns the suites as code in `expectations/` into GX suites; `gate` validates them through
an ephemeral GX context, keeps the results in `quality.validation_result`, builds Data Docs into
`$SR_STATE_DIR/data_docs/`, advances the publication pointer and announces blocking failures by
e-mail (`alert`). The DAG tasks only call these functions.
"""
