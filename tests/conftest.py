"""Fixtures every test package may use. Services are real; a missing one fails, never skips."""

from __future__ import annotations

import dataclasses
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from hunter_console import redact
from hunter_console.config import Settings, load_settings

from workspaces import start_workspace, stop_workspace  # tests/ is on sys.path (this file's folder)

REPO = Path(__file__).resolve().parents[1]
TEST_ENVIRON = {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22", "USER": "alice"}
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(autouse=True)
def _fresh_secrets():
    redact.forget_secrets()
    yield
    redact.forget_secrets()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a local environment, an audit db in tmp_path, a fixed operator and origin."""
    return load_settings(audit=tmp_path / "audit.db", operator="alice", environ=TEST_ENVIRON)


@pytest.fixture(scope="session")
def pg_admin():
    """One autocommit connection to the local PostgreSQL's maintenance database."""
    import psycopg

    conn = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    yield conn
    conn.close()


@pytest.fixture
def make_db(pg_admin) -> Iterator:
    """make() -> the name of a new throwaway database; each is dropped (forcibly) after the test."""
    made: list[str] = []

    def make() -> str:
        name = "hc_test_" + uuid.uuid4().hex[:10]
        pg_admin.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return name

    yield make
    for name in made:
        pg_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database(make_db) -> str:
    """The URL of a throwaway database on the local PostgreSQL."""
    return f"postgresql://postgres@127.0.0.1:5432/{make_db()}"


@pytest.fixture
def workspace_factory(tmp_path):
    """make(name, database_url, production=False): a started workspace, stopped after the test."""
    made = []

    def make(name: str, database_url: str | None, production: bool = False):
        ws = start_workspace(tmp_path / name, database_url, production)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        stop_workspace(ws)


@pytest.fixture
def workspace(workspace_factory, pg_database):
    """A release workspace whose sandbox runs on a throwaway PostgreSQL database."""
    return workspace_factory("ws", pg_database)


@pytest.fixture
def session_for():
    """session_for(workspace, operator="alice", **settings overrides): a console's session on it."""
    from hunter_console.session import open_session

    def make(ws, operator: str = "alice", **overrides):
        settings = load_settings(ws.config_path, operator=operator, environ=TEST_ENVIRON)
        return open_session(dataclasses.replace(settings, **overrides) if overrides else settings)

    return make
