"""Fixtures for the sandbox tests: real PostgreSQL (a throwaway database per module), real Redis
(db 11, `hunter:*` keys cleared around each test), the app in-process, and `serve` subprocesses."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

import httpx
import psycopg
import pytest
import redis as redis_sync

from hunter_console.sandbox.app import create_app
from hunter_console.sandbox.jsonlog import JsonLog
from hunter_console.sandbox.schema import alembic_config
from hunter_console.sandbox.settings import SandboxSettings

REPO = Path(__file__).resolve().parents[2]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/11"


def migrate(url: str, revision: str, *, down: bool = False) -> None:
    from alembic import command

    config = alembic_config(url)
    (command.downgrade if down else command.upgrade)(config, revision)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this module (dropped after it)."""
    name = f"hunter_sandbox_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def fresh_pg(pg_url: str) -> str:
    """The module's PostgreSQL database, emptied (downgraded to base) before the test."""
    migrate(pg_url, "base", down=True)
    return pg_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'hunter.db'}"


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis_sync.Redis.from_url(REDIS_URL)
    client.ping()  # no Redis: the test fails here, it is never skipped

    def clear() -> None:
        keys = list(client.scan_iter("hunter:*"))
        if keys:
            client.delete(*keys)

    clear()
    yield REDIS_URL
    clear()
    client.close()


@pytest.fixture
def redis_client(redis_url: str) -> Iterator[redis_sync.Redis]:
    client = redis_sync.Redis.from_url(redis_url)
    yield client
    client.close()


class LogCapture(io.StringIO):
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.strip()]


@asynccontextmanager
async def running_app(env: dict[str, str], *, version: str = "v1.0.0", database_url: str,
                      log: LogCapture | None = None) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """The app in-process (lifespan run), a client on it, and its `Sandbox` state."""
    settings = SandboxSettings.from_env(env, version=version, database_url=database_url)
    app = create_app(settings, log=JsonLog(settings.log_level, log or LogCapture()))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            yield client, app.state.sandbox


@pytest.fixture
def app_factory():
    return running_app


class ServeProcess:
    """A `python -m hunter_console.sandbox serve` subprocess on a free 127.0.0.1 port."""

    def __init__(self, version: str, database_url: str, env: dict[str, str] | None = None,
                 extra_args: list[str] | None = None) -> None:
        self.port = free_port()
        self.version = version
        full_env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1", **(env or {})}
        full_env.setdefault("DATABASE_URL", database_url)
        argv = [sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", version,
                "--port", str(self.port), *(extra_args or [])]
        self.proc = subprocess.Popen(argv, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.lines: list[str] = []
        self.output: str | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_started(self, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError(f"serve exited ({self.proc.wait()}): {self.proc.stderr.read()}")
            self.lines.append(line)
            record = json.loads(line)
            if record.get("msg") == "started":
                return record
        raise AssertionError("serve did not print its started line in time")

    def stop(self) -> str:
        """Terminate (idempotent); everything it printed on stdout."""
        if self.output is None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            assert self.proc.stdout is not None and self.proc.stderr is not None
            self.output = "".join(self.lines) + self.proc.stdout.read()
            self.proc.stdout.close()
            self.proc.stderr.close()
        return self.output


@pytest.fixture
def serve_process() -> Iterator[Any]:
    started: list[ServeProcess] = []

    def start(version: str, database_url: str, env: dict[str, str] | None = None, **kwargs: Any) -> ServeProcess:
        process = ServeProcess(version, database_url, env, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"


async def wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
