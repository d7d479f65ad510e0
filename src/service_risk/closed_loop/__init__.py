"""The closed loop (shared/spec/risk-model.md): risk report sheets delivered exactly once by SMS and
e-mail, the feedback form and its reminders. Episodes and sheets themselves are dbt models
(dbt_project/models/marts/closed_loop); this package acts on the published ones."""
