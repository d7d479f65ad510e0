"""`service-risk` command line: one entry point, a subcommand per concern."""

from __future__ import annotations

import argparse
import sys

from service_risk.db import DatabaseUnavailable


def build_parser() -> argparse.ArgumentParser:
    from service_risk import setup_db
    from service_risk.bi import cli as superset_cli
    from service_risk.extract import cli as extract_cli
    from service_risk.quality import cli as quality_cli
    from service_risk.simulator import cli as simulator_cli

    parser = argparse.ArgumentParser(prog="service-risk", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True)
    setup_db.register(subparsers)
    simulator_cli.register(subparsers)
    extract_cli.register(subparsers)
    quality_cli.register(subparsers)
    superset_cli.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except DatabaseUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
