"""Fixtures for the history tests: a big audit log built once per session (the release
workspace on real parts comes from tests/conftest.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bigdb import build  # noqa: E402


# 100,000 events in the normal suite (about 4 s to build); HUNTER_HISTORY_EVENTS=1000000 for the full
# million (about 40-75 s on the 2-core CI machines). The benchmark always uses a million.
BIG_EVENTS = int(os.environ.get("HUNTER_HISTORY_EVENTS", "100000"))


@pytest.fixture(scope="session")
def big_db(tmp_path_factory) -> tuple[Path, dict]:
    """(path, build stats) of a BIG_EVENTS-event log with a correct chain, built once per session."""
    path = tmp_path_factory.mktemp("history") / "audit.db"
    return path, build(path, BIG_EVENTS)
