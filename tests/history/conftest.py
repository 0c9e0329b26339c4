"""Fixtures for the history tests: a big audit log built once per session, and a release
workspace on real parts (the sandbox, PostgreSQL) like tests/runner's."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import uuid
from pathlib import Path
from typing import Iterator

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bigdb import build  # noqa: E402

from hunter_console import demo  # noqa: E402
from hunter_console.config import load_settings  # noqa: E402
from hunter_console.events import Outcome  # noqa: E402
from hunter_console.session import open_session  # noqa: E402

# 100,000 events in the normal suite (about 4 s to build); HUNTER_HISTORY_EVENTS=1000000 for the full
# million (about 40-75 s on the 2-core CI machines). The benchmark always uses a million.
BIG_EVENTS = int(os.environ.get("HUNTER_HISTORY_EVENTS", "100000"))
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
ENVIRON = {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22"}


@pytest.fixture(scope="session")
def big_db(tmp_path_factory) -> tuple[Path, dict]:
    """(path, build stats) of a BIG_EVENTS-event log with a correct chain, built once per session."""
    path = tmp_path_factory.mktemp("history") / "audit.db"
    return path, build(path, BIG_EVENTS)


@pytest.fixture
def pg_database() -> Iterator[str]:
    name = "hc_hist_" + uuid.uuid4().hex[:10]
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def workspace(tmp_path, pg_database):
    async def up():
        ws = await demo.prepare(tmp_path / "ws", database_url=pg_database)
        outcome = None
        async for event in demo.start(ws):
            if isinstance(event, Outcome):
                outcome = event
        assert outcome is not None and outcome.ok, outcome
        return ws

    ws = asyncio.run(up())
    yield ws
    asyncio.run(demo.stop(ws))


@pytest.fixture
def session_for():
    def make(ws, operator: str = "alice", **overrides):
        settings = load_settings(ws.config_path, operator=operator, environ=ENVIRON)
        return open_session(dataclasses.replace(settings, **overrides) if overrides else settings)

    return make
