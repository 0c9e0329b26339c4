"""One action at a time per environment, on this console host: a lock file beside the audit
db, held (flock) by the runner for as long as it lives. The kernel drops it when the runner
dies, however it dies, so a held lock is a live runner and a free one a finished or dead one.
The file says who holds it (operator, origin, action, pid, since) for every console to show."""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hunter_console.config import Settings

RECORD_SIZE = 1024


@dataclass(frozen=True)
class Holder:
    operator: str
    host: str
    action: str
    pid: int
    since: str
    run_id: int = 0

    def describe(self) -> str:
        return f"{self.action} by {self.operator} ({self.host}) since {self.since[11:19]} UTC, pid {self.pid}"


class Busy(Exception):
    def __init__(self, holder: Holder | None, message: str | None = None) -> None:
        self.holder = holder
        super().__init__(message or "another action is running on this environment: "
                         + (holder.describe() if holder else "unknown"))





def lock_path(settings: Settings) -> Path:
    return Path(f"{settings.audit_path}.{settings.env_name}.lock")


class EnvironmentLock:
    """Held by a runner: `acquire()` or Busy; `update(**fields)` rewrites what it says."""

    def __init__(self, settings: Settings) -> None:
        self.path = lock_path(settings)
        self._fd: int | None = None
        self._info: dict[str, Any] = {}

    def acquire(self, **info: Any) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise Busy(holder_of(self.path)) from None
        self._fd = fd
        self.update(**info)

    def update(self, **info: Any) -> None:
        assert self._fd is not None
        self._info.update(info)
        # one write of a fixed size, never a truncate first: a reader never sees it empty
        data = json.dumps(self._info).encode().ljust(RECORD_SIZE)
        os.pwrite(self._fd, data, 0)
        os.fsync(self._fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def holder(settings: Settings) -> Holder | None:
    """Who holds the environment's lock now, or None when nobody does."""
    return holder_of(lock_path(settings))


def holder_of(path: Path) -> Holder | None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pass  # held: read what the holder wrote
        else:
            return None  # nobody holds it
        raw = os.pread(fd, 4096, 0)
    finally:
        os.close(fd)
    try:
        info = json.loads(raw or b"{}")
        return Holder(info.get("operator", "?"), info.get("host", "?"), info.get("action", "?"),
                      int(info.get("pid", 0)), info.get("since", "?" * 20), int(info.get("run_id", 0)))
    except (ValueError, TypeError):
        return Holder("?", "?", "?", 0, "?" * 20)


class TargetLock:
    """The same rule across consoles on different hosts: a PostgreSQL advisory lock on the target
    database, held on the runner's own connection for as long as it runs. Its application_name
    says who holds it, so a refused console can name them. `check()` before each step is the
    fence: if the connection (and so the lock) was lost, the runner stops instead of acting
    alongside whoever took the lock since. A SQLite target has no server to lock: the host lock
    above covers it."""

    def __init__(self, database_url: str | None, environment: str) -> None:
        self.url = database_url if database_url and database_url.startswith(("postgres://", "postgresql")) else None
        self.key = f"hunter-console:{environment}"
        self._conn = None

    def acquire(self, *, operator: str, host: str, action: str, take_over: bool = False) -> str | None:
        """Take the lock, or raise Busy naming the holder. With take_over (the incident rollback),
        the holder's lock connection is terminated instead: their runner's next fence check
        fails and it stops. Returns who was taken over from, if anyone."""
        if self.url is None:
            return None
        import time

        import psycopg

        from hunter_console.probes.postgres import libpq_dsn

        name = f"hunter-console {action} by {operator} ({host})"[:63]
        conn = psycopg.connect(libpq_dsn(self.url), autocommit=True, connect_timeout=10, application_name=name)
        taken_from = None
        for _ in range(50):
            if conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (self.key,)).fetchone()[0]:
                self._conn = conn
                return taken_from
            row = conn.execute(
                "SELECT a.pid, a.application_name, a.backend_start FROM pg_locks l"
                " JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted"
                " AND l.objid = (hashtext(%s)::bigint & 4294967295)::oid", (self.key,)).fetchone()
            who = f"{row[1]}, connected since {row[2]:%H:%M:%S} UTC" if row else "another console"
            if not take_over:
                conn.close()
                raise Busy(None, f"another console is acting on this environment's database: {who}")
            if row:
                conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
                taken_from = who
            time.sleep(0.1)
        conn.close()
        raise Busy(None, "could not take the target database's lock over")

    def check(self) -> None:
        """Raise LockLost unless this runner still holds the target's lock."""
        if self._conn is None:
            return
        try:
            held = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = pg_backend_pid()"
                " AND objid = (hashtext(%s)::bigint & 4294967295)::oid", (self.key,)).fetchone()[0]
        except Exception as e:  # the connection is gone: so is the lock
            raise LockLost(f"lost the lock on the target database: {type(e).__name__}") from None
        if not held:
            raise LockLost("lost the lock on the target database")

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()  # closing the session releases its advisory locks
            finally:
                self._conn = None


class LockLost(Exception):
    """The runner no longer holds the target's lock: it must stop before the next step."""
