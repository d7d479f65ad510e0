"""`service-risk superset prepare|re-encrypt-secrets|provision|export|password`."""

from __future__ import annotations

from pathlib import Path

from service_risk.bi.config import (
    ACCESS_FILE,
    ASSETS_DIR,
    SUBSCRIPTIONS_FILE,
    SupersetError,
    SupersetSettings,
)


def register(subparsers) -> None:
    parser = subparsers.add_parser("superset", help="set Superset up: metadata, dashboards, access, reports")
    commands = parser.add_subparsers(dest="superset_command", required=True)
    commands.add_parser(
        "prepare",
        help="metadata database, read-only warehouse role, migrations and admin (no server needed)",
    ).set_defaults(handler=_prepare)
    commands.add_parser(
        "re-encrypt-secrets",
        help="re-encrypt the metadata's secrets from SUPERSET_PREVIOUS_SECRET_KEY to SUPERSET_SECRET_KEY",
    ).set_defaults(handler=_re_encrypt)
    provision = commands.add_parser(
        "provision",
        help="against a running server: asset bundle, roles, RLS, users, reports; remove what the files dropped",
    )
    provision.add_argument("--access", type=Path, default=ACCESS_FILE, help="roles, RLS rules and users")
    provision.add_argument(
        "--subscriptions", type=Path, default=SUBSCRIPTIONS_FILE, help="reports and alerts"
    )
    provision.set_defaults(handler=_provision)
    export = commands.add_parser("export", help="write the dashboards of a running server back into assets/")
    export.add_argument(
        "--query-context",
        action="store_true",
        help="first let Explore save the charts' missing query_context",
    )
    export.add_argument("--out", type=Path, default=ASSETS_DIR)
    export.set_defaults(handler=_export)
    password = commands.add_parser(
        "password",
        help="show a provisioned login's own password (.local/superset_passwords.json), or replace it",
    )
    password.add_argument("username", help="city_<code>, province, or a manager's staff id")
    password.add_argument(
        "--rotate", action="store_true", help="generate a new one; the next provision sets it in Superset"
    )
    password.set_defaults(handler=_password)
    for command in (provision, export):
        command.add_argument(
            "--url", default=None, help="Superset's URL (default: SUPERSET_PORT on 127.0.0.1)"
        )


def _settings(args) -> SupersetSettings:
    return SupersetSettings.from_env(getattr(args, "url", None))


def _prepare(args) -> int:
    from service_risk.bi.prepare import prepare

    return _reporting_errors(lambda: prepare(_settings(args)))


def _re_encrypt(args) -> int:
    from service_risk.bi.prepare import run_in_superset

    return _reporting_errors(lambda: run_in_superset(_settings(args), "re-encrypt-secrets"))


def _provision(args) -> int:
    from service_risk.bi.provision import provision

    return _reporting_errors(lambda: provision(_settings(args), args.access, args.subscriptions))


def _export(args) -> int:
    from service_risk.bi.bundle import export_bundle
    from service_risk.bi.provision import admin_client

    def run() -> None:
        settings = _settings(args)
        export_bundle(admin_client(settings), settings, args.out, args.query_context)

    return _reporting_errors(run)


def _password(args) -> int:
    from service_risk.bi.passwords import password_of, rotate_password

    def run() -> None:
        if args.rotate:
            rotate_password(args.username)
            print(f"new password for {args.username}; set it in Superset: make superset-up")
        print(f"{args.username}: {password_of(args.username)}")

    return _reporting_errors(run)


def _reporting_errors(action) -> int:
    try:
        action()
    except SupersetError as exc:
        print(f"error: {exc}")
        return 1
    return 0
