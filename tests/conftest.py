"""Fixtures every test package may use. Services are real; a missing one fails, never skips."""

from __future__ import annotations

from pathlib import Path

import pytest

from hunter_console import redact
from hunter_console.config import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
TEST_ENVIRON = {"SSH_CONNECTION": "192.0.2.10 50022 192.0.2.1 22", "USER": "alice"}


@pytest.fixture(autouse=True)
def _fresh_secrets():
    redact.forget_secrets()
    yield
    redact.forget_secrets()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for a local environment, an audit db in tmp_path, a fixed operator and origin."""
    return load_settings(audit=tmp_path / "audit.db", operator="alice", environ=TEST_ENVIRON)
