"""The database probes on a SQLite target (the sandbox demo's database is a file): the same
questions as the PostgreSQL probes, asked read-only through sqlite3 in a worker thread."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit


def is_sqlite(url: str | None) -> bool:
    return bool(url) and url.strip().lower().startswith("sqlite")


async def query(url: str, sql: str, timeout: float) -> list[tuple]:
    """Rows of `sql` on the file, opened read-only (a missing file is an error, never created)."""
    path = Path(urlsplit(url.strip()).path)
    if str(path).startswith("//"):
        path = Path(str(path)[1:])

    def run() -> list[tuple]:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()

    return await asyncio.wait_for(asyncio.to_thread(run), timeout)
