"""The events that flow from the domain to the audit log, the TUI and the CLI.

Small frozen dataclasses; one type, one meaning, everywhere. Times are UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Status(StrEnum):
    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    ERROR = "ERROR"
    PENDING = "PENDING"


@dataclass(frozen=True)
class ProbeResult:
    item_id: str
    status: Status
    reason: str  # one line, already redacted
    value: Any = None  # what was observed (a revision, a latency, a rate)
    latency_ms: float = 0.0
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class SignedOff:
    item_id: str
    operator: str
    host: str
    note: str = ""
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class SignOffWithdrawn:
    item_id: str
    operator: str
    host: str
    note: str = ""
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Decision:
    verdict: str  # "go" or "no-go"
    operator: str
    host: str
    reason: str = ""
    open_items: tuple[str, ...] = ()  # required items not satisfied when it was taken
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class ActionStarted:
    action: str  # "backup", "migrate", "deploy", "verify", "rollback", "restore"
    environment: str
    plan: tuple[str, ...] = ()  # what will run, where, in the operator's words
    run_id: int = 0  # the id of its action.start event in the audit log
    item: str | None = None  # the checklist item it was started from
    operator: str = ""
    host: str = ""
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class LogLine:
    text: str  # one line of output, without its newline, already redacted
    stream: str = "stdout"  # "stdout", "stderr", or a source such as a pod name
    ts: datetime = field(default_factory=utcnow)


@dataclass(frozen=True)
class Progress:
    done: float
    total: float | None = None  # None when the total is not known
    unit: str = ""  # "bytes", "replicas", "steps"
    message: str = ""


@dataclass(frozen=True)
class Artifact:
    path: str
    size: int
    sha256: str
    kind: str = "backup"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    exit_code: int | None = None
    artifacts: tuple[Artifact, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionFinished:
    action: str
    environment: str
    outcome: Outcome
    duration_s: float
    run_id: int = 0
    item: str | None = None
    status: str = ""  # "ok", "failed", "cancelled", "interrupted"
    ts: datetime = field(default_factory=utcnow)
