"""Real services for the action tests: throwaway PostgreSQL databases on 127.0.0.1:5432 (trust
auth), the real pg_dump / pg_restore on the PATH, SQLite files in tmp_path. A missing service or
binary fails the tests, never skips them."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import psycopg
import pytest

from hunter_console.events import Artifact, LogLine, Outcome, Progress

CANARY = "canary-pw-123"


def pg_url(dbname: str, *, password: str | None = CANARY, user: str = "postgres", port: int = 5432) -> str:
    auth = f"{user}:{password}" if password is not None else user
    return f"postgresql://{auth}@127.0.0.1:{port}/{dbname}"


@pytest.fixture(scope="session", autouse=True)
def _binaries() -> None:
    for tool in ("pg_dump", "pg_restore"):
        assert shutil.which(tool), f"{tool} is not on the PATH: these tests need the real one"


SEED_SQL = """
CREATE TABLE companies (id serial PRIMARY KEY, domain text NOT NULL UNIQUE, tenant_size text);
CREATE TABLE domain_signals (
    id serial PRIMARY KEY,
    company_id int NOT NULL REFERENCES companies(id),
    local_provider text,
    dmarc_coverage int
);
INSERT INTO companies (domain, tenant_size) VALUES ('example.com', 'large'), ('example.org', 'small'), ('example.net', NULL);
INSERT INTO domain_signals (company_id, local_provider, dmarc_coverage)
    SELECT c.id, 'provider-' || g, g * 10 FROM companies c, generate_series(1, 5) g;
"""


def connect(dbname: str, **kw: Any) -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={dbname}", connect_timeout=5, **kw)


def rows(dbname: str, sql: str) -> list[tuple]:
    with connect(dbname) as conn:
        return conn.execute(sql).fetchall()


@pytest.fixture
def seeded_db(make_db) -> str:
    """A database with two tables, a foreign key and 18 rows."""
    name = make_db()
    with connect(name, autocommit=True) as conn:
        conn.execute(SEED_SQL)
    return name


async def collect(events: AsyncIterator[Any]) -> tuple[list[Any], Outcome]:
    """Every event of an action; asserts the contract: known types, exactly one Outcome, last."""
    seen = [event async for event in events]
    assert seen, "the action yielded nothing"
    for event in seen:
        assert isinstance(event, (LogLine, Progress, Artifact, Outcome)), event
    outcomes = [e for e in seen if isinstance(e, Outcome)]
    assert len(outcomes) == 1 and seen[-1] is outcomes[0], seen
    return seen, outcomes[0]


def texts(events: list[Any]) -> str:
    """Everything an operator (or the audit log) would see from these events."""
    out = []
    for event in events:
        if isinstance(event, LogLine):
            out.append(event.text)
        elif isinstance(event, Progress):
            out.append(event.message)
        elif isinstance(event, Outcome):
            out += [event.message, repr(event.detail), repr(event.artifacts)]
        elif isinstance(event, Artifact):
            out.append(repr(event))
    return "\n".join(out)


def pg_dump_backends(dbname: str) -> list[tuple[int, str | None]]:
    return rows(
        "postgres",
        f"SELECT pid, wait_event_type FROM pg_stat_activity WHERE application_name = 'pg_dump' AND datname = '{dbname}'",
    )


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def lock_table():
    """lock_table(dbname, table): another session holds ACCESS EXCLUSIVE on it (pg_dump, which
    takes ACCESS SHARE on every table it dumps, blocks) until the test ends or release()."""
    held: list[psycopg.Connection] = []

    def lock(dbname: str, table: str) -> Callable[[], None]:
        conn = connect(dbname)
        conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")  # inside the implicit transaction
        held.append(conn)

        def release() -> None:
            if not conn.closed:
                conn.rollback()
                conn.close()

        return release

    yield lock
    for conn in held:
        if not conn.closed:
            conn.rollback()
            conn.close()


@pytest.fixture
def now():
    from datetime import datetime, timezone

    return datetime(2025, 1, 28, 10, 15, 0, tzinfo=timezone.utc)


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    d = tmp_path / "backups"
    d.mkdir()
    return d


@pytest.fixture
def helpers():
    """The module-level helpers above, for test modules (conftest modules are not importable
    by name when several test packages have one)."""

    class H:
        pass

    h = H()
    for name in ("pg_url", "connect", "rows", "collect", "texts", "pg_dump_backends", "wait_for", "CANARY"):
        setattr(h, name, globals()[name])
    return h
