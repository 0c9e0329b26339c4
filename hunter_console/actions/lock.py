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
    def __init__(self, holder: Holder | None) -> None:
        self.holder = holder
        super().__init__(f"another action is running on this environment: {holder.describe() if holder else 'unknown'}")


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
