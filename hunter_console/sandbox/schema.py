"""The sandbox's schema: which Alembic revision each app version needs, and how to reach it.

    HEAD_REVISION             the newest migration, "f786f93501ea" (CSP P-Model, the G20 columns)
    required_revision(v)      the revision app version v needs (it is also ready at any descendant)
    script_head()             the head of the migration scripts shipped in this package
    alembic_config(url)       an alembic Config for this package's migrations, no alembic.ini needed
    database_url(url)         the URL SQLAlchemy should use (postgresql:// -> psycopg 3 driver)
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

HEAD_REVISION = "f786f93501ea"
SALES_ENGINE_REVISION = "c3e5a7b9d1f4"  # v0.9.x: the revision before the CSP P-Model
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.\-]+)?$")


class UnknownVersion(ValueError):
    """An app version this sandbox cannot run, said in one line."""


def parse_version(version: str) -> tuple[int, int, int]:
    match = _VERSION.match(version.strip())
    if not match:
        raise UnknownVersion(f"'{version}' is not a version like v1.0.0")
    return int(match[1]), int(match[2]), int(match[3])


def required_revision(version: str) -> str:
    """The schema revision app `version` needs: v1.x and later the head, v0.9.x the one before it."""
    major, minor, _ = parse_version(version)
    if (major, minor) >= (1, 0):
        return HEAD_REVISION
    if (major, minor) == (0, 9):
        return SALES_ENGINE_REVISION
    raise UnknownVersion(f"version '{version}' is older than v0.9.0, which this sandbox does not have")


def database_url(url: str) -> str:
    """The URL with the driver SQLAlchemy should use: postgresql:// and postgres:// -> psycopg 3."""
    url = url.strip()
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect_args(url: str) -> dict[str, Any]:
    """Driver arguments that keep a dead database from hanging a request."""
    url = database_url(url)
    if url.startswith("postgresql+psycopg"):
        return {"connect_timeout": 3}
    if url.startswith("sqlite"):
        return {"check_same_thread": False, "timeout": 5}
    return {}


def alembic_config(url: str | None = None, *, stdout: Any = None) -> Any:
    """An alembic Config pointing at this package's migrations (script_location set in code)."""
    from alembic.config import Config

    config = Config(stdout=stdout) if stdout is not None else Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.attributes["database_url"] = database_url(url)
        config.attributes["connect_args"] = connect_args(url)
    return config


@lru_cache(maxsize=1)
def _scripts() -> Any:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


def script_head() -> str:
    """The head revision of the migration scripts shipped in this package."""
    head = _scripts().get_current_head()
    assert head is not None
    return head


def ancestors(revision: str) -> set[str]:
    """The revision and every revision below it; empty when the scripts do not know it."""
    by_id = {script.revision: script.down_revision for script in _scripts().walk_revisions()}
    found: set[str] = set()
    current: Any = revision
    while current and current in by_id and current not in found:
        found.add(current)
        current = by_id[current]
    return found


def satisfies(current: str | None, required: str) -> bool:
    """Whether a database at `current` is at `required` or a descendant of it."""
    return current is not None and required in ancestors(current)


def current_revision(connection: Any) -> str | None:
    """The revision stamped in alembic_version (None when the database was never migrated)."""
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
