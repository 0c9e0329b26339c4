"""The samples store: one row a scrape in the `metric_samples` table of the audit database file.

Its own table (not the hash-chained `events`): samples are measurements, not decisions, and a
24-hour window at one scrape every 15 s is ~6,000 rows a day that nobody needs to sign. Living
in the same file means a console restart (or a second console on the same log) keeps the window
and history can show the samples next to the events.

    metric_samples(id, environment, ts, data)
        ts    UTC seconds since the epoch (REAL): windows are ranges of it
        data  compact JSON of what the windows need (see sampler.reduce_scrape):
              {"req": [api requests, of which 5xx], "lat": {le: cumulative count},
               "cache": [hits, misses], "pool": {gauge: value}, "epoch": process start, "version": v}
    index (environment, ts): every read is "this environment, since t"

Opened through its own sqlite3 connection (WAL, busy timeout, like the audit log), never the
audit log's: a sample insert must not land inside an audit transaction of another thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

BUSY_TIMEOUT_S = 30.0
RETENTION_S = 8 * 86400.0  # a week and a day: the 24-hour window, and history of the week after

SCHEMA = """
CREATE TABLE IF NOT EXISTS metric_samples (
    id INTEGER PRIMARY KEY,
    environment TEXT NOT NULL,
    ts REAL NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metric_samples_environment_ts ON metric_samples (environment, ts);
"""


@dataclass(frozen=True)
class Sample:
    """One scrape, reduced: the cumulative counters and the gauges at `ts`."""

    ts: float
    data: dict[str, Any]
    environment: str = ""
    id: int | None = None

    def counter(self, key: str, index: int = 0) -> float | None:
        got = self.data.get(key)
        return float(got[index]) if isinstance(got, list) and len(got) > index else None


class SampleStore:
    """`metric_samples` in the database at `path` (created with the table if need be)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None,
                                    check_same_thread=False)
        try:
            self.conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            self.conn.execute("PRAGMA journal_mode=WAL").fetchone()
            self.conn.executescript(SCHEMA)
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def __enter__(self) -> "SampleStore":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- writing -------------------------------------------------------------------------------
    def add(self, environment: str, ts: float, data: dict[str, Any]) -> Sample:
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        with self._lock:
            cur = self.conn.execute("INSERT INTO metric_samples (environment, ts, data) VALUES (?, ?, ?)",
                                    (environment, float(ts), text))
        return Sample(float(ts), data, environment, cur.lastrowid)

    def add_many(self, environment: str, samples: Iterable[tuple[float, dict[str, Any]]]) -> int:
        rows = [(environment, float(ts), json.dumps(d, separators=(",", ":"), sort_keys=True)) for ts, d in samples]
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.executemany("INSERT INTO metric_samples (environment, ts, data) VALUES (?, ?, ?)", rows)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
        return len(rows)

    def prune(self, before: float) -> int:
        """Drop samples older than `before` (all environments); how many went."""
        with self._lock:
            return self.conn.execute("DELETE FROM metric_samples WHERE ts < ?", (before,)).rowcount

    # -- reading -------------------------------------------------------------------------------
    def samples(self, environment: str, since: float | None = None, until: float | None = None) -> list[Sample]:
        """This environment's samples with since <= ts <= until, oldest first."""
        sql = "SELECT id, ts, data FROM metric_samples WHERE environment = ?"
        args: list[Any] = [environment]
        if since is not None:
            sql += " AND ts >= ?"
            args.append(since)
        if until is not None:
            sql += " AND ts <= ?"
            args.append(until)
        sql += " ORDER BY ts, id"
        with self._lock:
            rows = self.conn.execute(sql, args).fetchall()
        out = []
        for rid, ts, text in rows:
            try:
                data = json.loads(text)
            except ValueError:
                continue  # a row nobody can read is not a sample
            if isinstance(data, dict):
                out.append(Sample(float(ts), data, environment, rid))
        return out

    def latest(self, environment: str) -> Sample | None:
        with self._lock:
            row = self.conn.execute("SELECT id, ts, data FROM metric_samples WHERE environment = ? "
                                    "ORDER BY ts DESC, id DESC LIMIT 1", (environment,)).fetchone()
        if row is None:
            return None
        return Sample(float(row[1]), json.loads(row[2]), environment, row[0])

    def count(self, environment: str | None = None) -> int:
        with self._lock:
            if environment is None:
                return self.conn.execute("SELECT count(*) FROM metric_samples").fetchone()[0]
            return self.conn.execute("SELECT count(*) FROM metric_samples WHERE environment = ?",
                                     (environment,)).fetchone()[0]
