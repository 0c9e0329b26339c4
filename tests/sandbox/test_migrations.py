"""The sandbox's Alembic chain, up and down, on SQLite and PostgreSQL, and its CLI."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import psycopg
import pytest

from hunter_console.sandbox import HEAD_REVISION, required_revision, script_head
from hunter_console.sandbox.schema import SALES_ENGINE_REVISION, UnknownVersion, database_url

from .conftest import REPO, migrate

G20 = {("companies", "tenant_size"), ("domain_signals", "local_provider"), ("domain_signals", "dmarc_coverage")}


def sqlite_columns(url: str) -> set[tuple[str, str]]:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {(t, r[1]) for t in tables for r in conn.execute(f"PRAGMA table_info({t})")}


def pg_columns(url: str) -> set[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                            "WHERE table_schema = 'public'").fetchall()
    return {(t, c) for t, c in rows}


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    full_env.update({"PYTHONPATH": str(REPO), **(env or {})})
    return subprocess.run([sys.executable, "-m", "hunter_console.sandbox", *args], env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_versions_map_to_revisions():
    assert HEAD_REVISION == "f786f93501ea" == script_head()
    assert required_revision("v1.0.0") == HEAD_REVISION
    assert required_revision("1.2.3") == HEAD_REVISION
    assert required_revision("v0.9.0") == required_revision("v0.9.7") == SALES_ENGINE_REVISION
    for bad in ("v0.1.0", "latest", ""):
        with pytest.raises(UnknownVersion):
            required_revision(bad)


def test_postgres_urls_use_psycopg3():
    assert database_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert database_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert database_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_sqlite_up_and_down(sqlite_url):
    migrate(sqlite_url, SALES_ENGINE_REVISION)
    columns = sqlite_columns(sqlite_url)
    assert ("companies", "domain") in columns and not G20 & columns
    migrate(sqlite_url, "head")
    assert G20 <= sqlite_columns(sqlite_url)
    migrate(sqlite_url, "-1", down=True)
    columns = sqlite_columns(sqlite_url)
    assert not G20 & columns and ("companies", "readiness_score") in columns
    migrate(sqlite_url, "base", down=True)
    assert {t for t, _ in sqlite_columns(sqlite_url)} <= {"alembic_version"}


def test_postgres_up_and_down(fresh_pg):
    migrate(fresh_pg, "head")
    assert G20 <= pg_columns(fresh_pg)
    migrate(fresh_pg, "-1", down=True)
    columns = pg_columns(fresh_pg)
    assert not G20 & columns and ("domain_signals", "mx_provider") in columns
    for step in range(3):
        migrate(fresh_pg, "-1", down=True)
    assert {t for t, _ in pg_columns(fresh_pg)} <= {"alembic_version"}
    migrate(fresh_pg, "head")  # and back up again: every downgrade left a clean slate
    assert G20 <= pg_columns(fresh_pg)


def test_cli_current_upgrade_downgrade_on_postgres(fresh_pg):
    env = {"DATABASE_URL": fresh_pg}
    assert cli("alembic", "current", env=env).stdout.strip() == ""
    up = cli("alembic", "upgrade", "head", env=env)
    assert up.returncode == 0, up.stderr
    assert "Running upgrade c3e5a7b9d1f4 -> f786f93501ea, CSP P-Model" in up.stderr
    assert cli("alembic", "current", env=env).stdout.strip() == "f786f93501ea (head)"
    down = cli("alembic", "--database-url", fresh_pg.replace("postgresql://", "postgresql+psycopg://"),
               "downgrade", "-1")
    assert down.returncode == 0, down.stderr
    assert cli("alembic", "current", env=env).stdout.strip() == SALES_ENGINE_REVISION


def test_cli_heads_and_history_need_no_database():
    heads = cli("alembic", "heads")
    assert heads.returncode == 0 and heads.stdout.strip() == "f786f93501ea (head)"
    history = cli("alembic", "history").stdout.splitlines()
    assert history[0] == "c3e5a7b9d1f4 -> f786f93501ea (head), CSP P-Model"
    assert len(history) == 4 and history[-1].startswith("<base> -> ")


@pytest.mark.parametrize("args, code", [
    (["alembic", "current"], 2),  # no DATABASE_URL
    (["alembic", "upgrade"], 2),
    (["alembic", "sideways"], 2),
    (["serve", "--version", "banana"], 2),
    (["serve", "--version", "v1.0.0", "--port", "99999", "--database-url", "sqlite:///x.db"], 2),
    ([], 2),
])
def test_cli_bad_input_is_one_line(args, code):
    result = cli(*args)
    assert result.returncode == code
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_database_errors_hide_the_password():
    result = cli("alembic", "--database-url", "postgresql://hunter:s3cr3t-pw@127.0.0.1:1/hunter", "current")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "s3cr3t-pw" not in result.stderr + result.stdout
    assert result.stderr.startswith("error: database:")


def test_cli_unknown_revision_is_one_line(sqlite_url):
    result = cli("alembic", "--database-url", sqlite_url, "upgrade", "deadbeef")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "deadbeef" in result.stderr.strip().splitlines()[-1]
