"""The demo workspace: a sandbox Hunter API on a free 127.0.0.1 port, its own config, service
environment, SQLite database and audit log, in a state folder that the demo names on screen.

A second run stops whatever the previous one left running and starts afresh in the same folder;
the audit log is kept (it is append-only, and its history is part of the demo).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from hunter_console.events import LogLine, Outcome, Progress

START_VERSION = "v0.9.0"
RELEASE = "v1.0.0"
ENVIRONMENT = "sandbox"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "hunter-console" / "demo"


@dataclass(frozen=True)
class DemoWorkspace:
    root: Path
    port: int
    database: str | None = None  # a database URL; None: a SQLite file in the workspace

    @property
    def config_path(self) -> Path:
        return self.root / "hunter.toml"

    @property
    def env_file(self) -> Path:
        return self.root / "sandbox.env"

    @property
    def database_path(self) -> Path:
        return self.root / "hunter.db"

    @property
    def audit_path(self) -> Path:
        return self.root / "audit.db"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database_url(self) -> str:
        return self.database or f"sqlite:///{self.database_path}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_url_if_running() -> str | None:
    """The local Redis, when one answers on 127.0.0.1:6379 (the demo runs without one too)."""
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.3) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/15"
    except OSError:
        pass
    return None


async def prepare(root: Path | None = None, port: int | None = None, *, database_url: str | None = None,
                  production: bool = False) -> DemoWorkspace:
    """Make (or refresh) the workspace; stop a sandbox a previous demo left running. Tests pass
    a PostgreSQL `database_url` (and `production`) to get the same workspace on a real server."""
    root = (root or default_state_dir()).resolve()
    root.mkdir(parents=True, exist_ok=True)
    await stop_leftovers(root)
    workspace = DemoWorkspace(root, port or free_port(), database_url)
    if workspace.database_path.exists():  # a fresh schema at v0.9's revision every run
        workspace.database_path.unlink()
    service_env = {
        "DATABASE_URL": workspace.database_url,
        "HUNTER_API_KEY": "demo-" + secrets.token_hex(8),
        "HUNTER_ADMIN_TOKEN": "demo-admin-" + secrets.token_hex(8),
        "LOG_LEVEL": "INFO",
        "ENVIRONMENT": "production",
        "PARTNER_CENTER_ENABLED": "false",
        "SENTRY_DSN": "https://0123456789abcdef0123456789abcdef@sentry.invalid/1",
        "RATE_LIMIT_PER_MINUTE": "120",
    }
    redis_url = redis_url_if_running()
    if redis_url:
        service_env["REDIS_URL"] = redis_url
    workspace.env_file.write_text("".join(f"{k}={v}\n" for k, v in service_env.items()))
    workspace.env_file.chmod(0o600)
    workspace.config_path.write_text(
        f"""# Written by `hunter-console demo`: the sandbox Hunter API on this machine.
[console]
release = "{RELEASE}"
environment = "{ENVIRONMENT}"
audit = "audit.db"
state_dir = "."

[environments.{ENVIRONMENT}]
base_url = "{workspace.base_url}"
executor = "local"
production = {str(production).lower()}
env_file = "sandbox.env"

[environments.{ENVIRONMENT}.executor_settings]
port = {workspace.port}
state_dir = "{root}"
"""
    )
    return workspace


async def start(workspace: DemoWorkspace) -> AsyncIterator[LogLine | Progress | Outcome]:
    """Bring the schema to what v0.9.0 needs and start sandbox v0.9.0; ends with one Outcome."""
    from hunter_console.sandbox import required_revision

    executor = executor_of(workspace)
    async for event in executor.run(["alembic", "upgrade", required_revision(START_VERSION)]):
        if isinstance(event, Outcome) and not event.ok:
            yield Outcome(ok=False, message=f"could not prepare the demo database: {event.message}")
            return
        if not isinstance(event, Outcome):
            yield event
    async for event in executor.deploy(START_VERSION):
        yield event


async def stop(workspace: DemoWorkspace) -> None:
    await executor_of(workspace).stop()


async def stop_leftovers(root: Path) -> None:
    """Stop every sandbox a previous demo in this folder left running (its pid is in its state file)."""
    from hunter_console.executors.local import LocalExecutor

    for state_file in root.glob("sandbox-*.json"):
        try:
            port = int(json.loads(state_file.read_text()).get("port"))
        except (ValueError, TypeError, OSError):
            continue
        executor = LocalExecutor(port, "sqlite://", root)
        await executor.stop()
        for leftover in (executor.state_path, executor.lock_path):
            leftover.unlink(missing_ok=True)


def executor_of(workspace: DemoWorkspace):
    from hunter_console.config import load_settings
    from hunter_console.executors.factory import executor_for

    settings = load_settings(workspace.config_path, environ={})
    return executor_for(settings.environment)
