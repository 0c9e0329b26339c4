"""Fixtures for the monitoring tests: a real sandbox API (v1.0.0 `serve` subprocess, SQLite),
an audit database in tmp_path, settings pointing at the sandbox, and a samples store."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Iterator

import pytest

from hunter_console.config import Environment, load_settings
from hunter_console.monitoring import SampleStore
from monitoring_helpers import API_KEY, Sandbox, start_sandbox

TEST_ENVIRON = {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22", "USER": "alice"}


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    sb = start_sandbox(tmp_path / "sandbox")
    yield sb
    sb.stop()


@pytest.fixture
def audit_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def store(audit_path: Path) -> Iterator[SampleStore]:
    s = SampleStore(audit_path)
    yield s
    s.close()


def settings_for(audit_path: Path, base_url: str, env_file: Path | None = None):
    settings = load_settings(audit=audit_path, operator="alice", environ=TEST_ENVIRON)
    env = Environment(name="local", base_url=base_url, env_file=env_file)
    return dataclasses.replace(settings, environments={"local": env}, env_name="local")


@pytest.fixture
def sandbox_settings(sandbox: Sandbox, audit_path: Path, tmp_path: Path):
    env_file = tmp_path / "service.env"
    env_file.write_text(f"HUNTER_API_KEY={API_KEY}\n")
    return settings_for(audit_path, sandbox.base_url, env_file)
