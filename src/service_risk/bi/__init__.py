"""Superset provisioning: the dashboards, roles, row-level security, users and subscriptions as code.

    config         where the files are, the Superset facts of the environment (SupersetSettings)
    client         a logged-in REST API session (SupersetClient)
    bundle         the asset bundle of superset/assets: import (templated from the environment), export
    access         roles, RLS rules and region users from superset/access.yaml
    subscriptions  scheduled reports and alerts from superset/subscriptions.yaml
    ownership      which objects provisioning owns, and removing those no file asks for any more
    provision      everything above against a running server, in order (`service-risk superset provision`)
    prepare        metadata database, read-only warehouse role, then `superset_metadata` in Superset's venv
    browser        a real headless browser logged in to Superset (export, tests)

Only `superset_metadata` imports Superset itself (it runs in .venv/superset); this package and
`config` import nothing beyond the standard library, so that step can load them there.
"""
