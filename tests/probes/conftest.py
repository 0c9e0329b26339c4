"""Real services for the probe tests: throwaway PostgreSQL databases on 127.0.0.1:5432, the Redis
on 127.0.0.1:6379, dead ends (a closed port, a blackhole that never answers), and a running
sandbox Hunter API (a uvicorn subprocess on a free port). A missing service fails, never skips."""

from __future__ import annotations

import socket
import uuid
from typing import Iterator

import psycopg
import pytest

from probe_helpers import Sandbox, free_port, make_environment, migrate, pg_url, start_sandbox, stop_sandbox


@pytest.fixture
def empty_db(make_db) -> str:
    return pg_url(make_db())


@pytest.fixture
def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then closed)."""
    return free_port()


@pytest.fixture
def blackhole() -> Iterator[int]:
    """A 127.0.0.1 port that completes the TCP handshake (the kernel does it for the backlog) and
    then never accepts, never reads, never answers: the client must give up on its own."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    yield s.getsockname()[1]
    s.close()


@pytest.fixture
def open_context():
    """`async with open_context(environ, base_url=..., audit=...) as ctx:` — a ProbeContext on a
    test environment whose secrets come from `environ` only (never the real os.environ)."""
    from hunter_console.probes import ProbeContext

    def opener(environ: dict[str, str] | None = None, *, base_url: str = "http://127.0.0.1:9", audit=None,
               release: str = "v1.0.0", environment=None):
        return ProbeContext.open(environment=environment or make_environment(base_url), environ=environ or {},
                                 audit=audit, release=release)

    return opener


@pytest.fixture(scope="module")
def module_db(pg_admin) -> Iterator[str]:
    name = "hc_probe_" + uuid.uuid4().hex[:10]
    pg_admin.execute(f'CREATE DATABASE "{name}"')
    yield pg_url(name)
    pg_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def sandbox(module_db, tmp_path_factory) -> Iterator[Sandbox]:
    """One sandbox for the module, migrated to head; tests flip faults through the admin endpoint."""
    migrate(module_db)
    running = start_sandbox(module_db, tmp_path_factory.mktemp("sandbox"))
    yield running
    stop_sandbox(running)
