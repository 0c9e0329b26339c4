"""A release workspace on real parts: sandbox v0.9.0 run by the local executor on a free
127.0.0.1 port, its schema in a throwaway PostgreSQL database (or SQLite), an audit log in
tmp_path. The same workspace the demo makes."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

from hunter_console import demo
from hunter_console.config import load_settings
from hunter_console.events import Outcome
from hunter_console.session import open_session

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
ENVIRON = {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22"}


@pytest.fixture
def pg_database() -> Iterator[str]:
    name = "hc_run_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_workspace(root: Path, database_url: str | None = None, production: bool = False):
    async def up():
        workspace = await demo.prepare(root, database_url=database_url, production=production)
        outcome = None
        async for event in demo.start(workspace):
            if isinstance(event, Outcome):
                outcome = event
        assert outcome is not None and outcome.ok, outcome
        return workspace

    return asyncio.run(up())


@pytest.fixture
def workspace_factory(tmp_path):
    """make(name, database_url, production=False): a started workspace, stopped after the test."""
    made = []

    def make(name: str, database_url: str | None, production: bool = False):
        ws = make_workspace(tmp_path / name, database_url, production)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        asyncio.run(demo.stop(ws))


@pytest.fixture
def workspace(workspace_factory, pg_database):
    return workspace_factory("ws", pg_database)


@pytest.fixture
def session_for():
    def make(ws, operator: str = "alice", **overrides):
        settings = load_settings(ws.config_path, operator=operator, environ=ENVIRON)
        return open_session(dataclasses.replace(settings, **overrides) if overrides else settings)

    return make
