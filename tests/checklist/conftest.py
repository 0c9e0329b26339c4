"""Fixtures for the checklist tests: the team's seed checklist (a missing seed fails, never skips)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SEED_RELATIVE = "shared/seed/production-deployment-checklist.md"


def seed_path() -> Path:
    """$HUNTER_SEED_CHECKLIST, else ../shared/seed/... next to the repository."""
    override = os.environ.get("HUNTER_SEED_CHECKLIST")
    return Path(override) if override else Path(__file__).resolve().parents[3] / SEED_RELATIVE


@pytest.fixture(scope="session")
def seed() -> Path:
    path = seed_path()
    if not path.is_file():
        pytest.fail(f"the seed checklist is missing: {path} (set HUNTER_SEED_CHECKLIST to its path)")
    return path


