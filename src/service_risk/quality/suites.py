"""The suites as code in `expectations/*.yml`, built into Great Expectations 1.x objects.

Each expectation carries `meta.blocking`: a failed blocking expectation stops publication, a failed
non-blocking one only warns.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import great_expectations as gx
import yaml

ROOT = Path(os.environ.get("ROOT") or Path(__file__).resolve().parents[3])
EXPECTATIONS_DIR = ROOT / "expectations"
DBT_PROJECT_FILE = ROOT / "dbt_project" / "dbt_project.yml"


@cache
def load(name: str) -> dict:
    return yaml.safe_load((EXPECTATIONS_DIR / f"{name}.yml").read_text())


@cache
def dbt_vars() -> dict:
    """The dbt project's vars: the enumerations staging applies, the incremental lookback (one place)."""
    return yaml.safe_load(DBT_PROJECT_FILE.read_text())["vars"]


def source_enumerations() -> dict[str, list[str]]:
    return dbt_vars()["source_enumerations"]


def _expectation(type_: str, blocking: bool, **kwargs) -> gx.expectations.Expectation:
    class_name = "".join(part.capitalize() for part in type_.split("_"))
    meta = {"blocking": blocking}
    if "description" in kwargs:
        meta["description"] = kwargs["description"]
    return getattr(gx.expectations, class_name)(meta=meta, **kwargs)


def landing_suite(landing_table: str, batch_rows: int, high_water) -> gx.ExpectationSuite:
    """The suite of one landed batch: `batch_rows` as recorded in ops.extract_batch, `high_water` the
    end of its updated_at window (no source timestamp may lie after it)."""
    config, spec = load("landing"), load("landing")["tables"][landing_table]
    mostly = config["row_rule_mostly"]
    expectations: list[gx.expectations.Expectation] = []
    add = expectations.append
    add(_expectation("expect_table_row_count_to_equal", True, value=batch_rows))
    add(
        _expectation(
            "expect_table_columns_to_match_set",
            True,
            column_set=[*spec["keys"], *spec["columns"]],
            exact_match=False,
        )
    )
    # A row without its key is row-level dirt like any other (staging quarantines it as `missing_value`):
    # it only warns, when more than `mostly` allows are missing.
    for column in [*spec["keys"], *spec.get("not_null", [])]:
        add(_expectation("expect_column_values_to_not_be_null", False, column=column, mostly=mostly))
    enums = source_enumerations()
    for column, enum in spec.get("enums", {}).items():
        add(
            _expectation(
                "expect_column_values_to_be_in_set",
                False,
                column=column,
                value_set=enums[enum],
                mostly=mostly,
            )
        )
    for later, earlier in spec.get("after", {}).items():
        add(
            _expectation(
                "expect_column_pair_values_a_to_be_greater_than_b",
                False,
                column_A=later,
                column_B=earlier,
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                mostly=mostly,
            )
        )
    for column in spec.get("timestamps", []):
        add(
            _expectation(
                "expect_column_values_to_be_between",
                False,
                column=column,
                max_value=high_water.isoformat(sep=" "),
                mostly=mostly,
            )
        )
    volume = config["volume"]
    add(
        _expectation(
            "unexpected_rows_expectation",
            False,
            description="rows of the 24 h before the batch's high water within "
            f"{volume['min_ratio']}..{volume['max_ratio']} x the same 24 h a week earlier",
            unexpected_rows_query=f"""
                with counts as (
                    select
                        count(*) filter (where l.updated_at > h.hw - interval '1 day') as recent,
                        count(*) filter (
                            where l.updated_at > h.hw - interval '8 days' and l.updated_at <= h.hw - interval '7 days'
                        ) as week_before
                    from landing.{landing_table} as l
                    cross join (select max(b.updated_at) as hw from {{batch}} as b) as h
                    where l.updated_at <= h.hw
                )
                select * from counts
                where week_before >= {volume["min_history_rows"]}
                    and recent not between {volume["min_ratio"]} * week_before and {volume["max_ratio"]} * week_before
            """,
        )
    )
    return gx.ExpectationSuite(name=f"landing.{landing_table}", expectations=expectations)


def mart_suite(date_from, date_to) -> tuple[str, gx.ExpectationSuite]:
    """The asset query of the risk days [date_from, date_to] and the suite that gates their publication."""
    config = load("marts")

    def bind(text: str) -> str:
        return text.replace(":date_from", f"'{date_from}'").replace(":date_to", f"'{date_to}'")

    query = bind(
        f"select * from {config['asset']} where {config['date_column']} between :date_from and :date_to"
    )
    expectations = []
    for item in config["expectations"]:
        kwargs = dict(item.get("kwargs", {}))
        if "sql" in item:
            kwargs["unexpected_rows_query"] = bind(item["sql"])
        if "description" in item:
            kwargs["description"] = item["description"]
        for column in item.get("columns", [None]):
            column_kwargs = {**kwargs, "column": column} if column else kwargs
            expectations.append(_expectation(item["type"], item["blocking"], **column_kwargs))
    return query, gx.ExpectationSuite(name="marts.fct_unit_risk_daily", expectations=expectations)
