"""What personal data looks like in a value: the patterns and names the personal-data scans of the
warehouse (tests/test_security.py) and of the report e-mails (tests/test_reports.py) look for."""

from __future__ import annotations

import re

from service_risk.sources import SOURCE_TABLES
from tests.conftest import query

MOBILE = re.compile(r"(?<![0-9A-Za-z])1[3-9][0-9]{9}(?![0-9A-Za-z])")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
ADDRESS = re.compile(r"(路|街|大道|村)[0-9]+号")


def landing_table(name: str) -> str:
    [table] = [t for t in SOURCE_TABLES if t.name == name and t.system == "marketing"]
    return f"landing.{table.landing_name}"


def person_names() -> set[str]:
    """Every person's name the source systems hold (customers, staff, unit contacts)."""
    names = set()
    for table, column in (("customer", "customer_name"), ("staff", "staff_name")):
        names |= {name for (name,) in query(f"select distinct {column} from {landing_table(table)}") if name}
    return names


def substrings(value: str, length: int) -> set[str]:
    return {value[i : i + length] for i in range(len(value) - length + 1)}


class PersonalDataScan:
    """The kinds of personal data in a value: a mobile number, an ID number, an address, or a
    person's name of the sources (a name of three characters or more also inside a longer text)."""

    def __init__(self) -> None:
        self.names = person_names()
        self.long_names = {name for name in self.names if len(name) >= 3}

    def kinds(self, value: str) -> list[str]:
        return [
            kind
            for kind, found in (
                ("mobile", MOBILE.search(value)),
                ("id number", ID_NUMBER.search(value)),
                ("address", ADDRESS.search(value)),
                ("name", value in self.names or not self.long_names.isdisjoint(substrings(value, 3))),
            )
            if found
        ]
