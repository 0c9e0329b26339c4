"""Shared helpers for the audit tests (no conftest: the lead owns tests/conftest.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hunter_console.audit import AuditLog

WHO = dict(release="v1.0.0", environment="staging", operator="alice", host="ssh 192.0.2.10")


def fill(log: AuditLog, n: int, *, last_kind: str | None = None, **fields) -> None:
    """n events; the last of a kind that anchors when last_kind says so."""
    for i in range(1, n + 1):
        kind = last_kind if (last_kind and i == n) else "probe"
        log.append(kind=kind, **{**WHO, **fields}, item=f"item-{i}", status="PASS", message=f"event number {i}",
                   detail={"i": i})


def tamper(db: Path, *statements: str) -> None:
    """What an attacker with file access does: drop the triggers, then edit rows directly."""
    conn = sqlite3.connect(db)
    try:
        conn.execute("DROP TRIGGER IF EXISTS events_refuse_update")
        conn.execute("DROP TRIGGER IF EXISTS events_refuse_delete")
        for sql in statements:
            conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
