"""`python -m hunter_console.sandbox serve|alembic ...`: bad arguments are one line and exit 2."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Sequence

from hunter_console.redact import redact, register_secret

ALEMBIC_COMMANDS = ("current", "upgrade", "downgrade", "heads", "history")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 0 and 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m hunter_console.sandbox",
                     description="A stand-in Hunter API with its Alembic migrations and fault knobs.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="run one version of the API")
    serve.add_argument("--version", required=True, help="app version, e.g. v0.9.0 or v1.0.0")
    serve.add_argument("--port", type=_port, default=8000)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--database-url", default=None, help="default: $DATABASE_URL")
    alembic = commands.add_parser("alembic", help="run an Alembic command on the sandbox schema")
    alembic.add_argument("--database-url", default=None, help="default: $DATABASE_URL")
    alembic.add_argument("action", choices=ALEMBIC_COMMANDS)
    alembic.add_argument("revision", nargs="?", help="for upgrade/downgrade: head, -1, base, a revision id")
    return parser


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(f"error: {redact(message)}\n")
    return code


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    url = args.database_url or os.environ.get("DATABASE_URL") or None
    register_secret(url)
    if args.command == "serve":
        return _serve(args.version, args.host, args.port, url)
    return _alembic(args.action, args.revision, url)


def _serve(version: str, host: str, port: int, url: str | None) -> int:
    from hunter_console.sandbox.faults import FaultError
    from hunter_console.sandbox.schema import UnknownVersion, required_revision
    from hunter_console.sandbox.server import serve
    from hunter_console.sandbox.settings import SandboxSettings, SettingsError

    try:
        settings = SandboxSettings.from_env(version=version, database_url=url)
        required_revision(settings.version)
    except (SettingsError, FaultError, UnknownVersion) as e:
        return fail(str(e), 2)
    for secret in (settings.api_key, settings.admin_token, settings.redis_url, settings.sentry_dsn):
        register_secret(secret)
    return serve(settings, host=host, port=port)


def _alembic(action: str, revision: str | None, url: str | None) -> int:
    import logging

    from alembic import command
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from hunter_console.sandbox.schema import alembic_config

    if action in ("upgrade", "downgrade") and not revision:
        return fail(f"alembic {action} needs a revision (head, -1, base or an id)", 2)
    if action not in ("upgrade", "downgrade") and revision:
        return fail(f"alembic {action} takes no revision", 2)
    needs_db = action in ("current", "upgrade", "downgrade")
    if needs_db and not url:
        return fail("no database: set DATABASE_URL or pass --database-url", 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-5.5s [%(name)s] %(message)s"))
    logger = logging.getLogger("alembic")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    config = alembic_config(url, stdout=sys.stdout)
    try:
        if action == "current":
            command.current(config)
        elif action == "upgrade":
            command.upgrade(config, revision)
        elif action == "downgrade":
            command.downgrade(config, revision)
        elif action == "heads":
            command.heads(config)
        else:
            command.history(config)
    except CommandError as e:
        return fail(str(e))
    except SQLAlchemyError as e:
        orig = getattr(e, "orig", None) or e
        return fail(f"database: {' '.join(str(orig).split())[:300]}")
    except ValueError as e:
        return fail(str(e))
    return 0
