"""ReleaseSession: one release of one environment.

Owns the checklist state, records every sign-off, withdrawal, decision and probe status change
in the audit log, and publishes the same events to subscribers (the TUI, or the CLI printer).
Both front ends drive this one object; it never imports textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from hunter_console.audit import AuditEvent, AuditLog
from hunter_console.checklist import Checklist, Item, load_checklist
from hunter_console.config import Settings
from hunter_console.events import Decision, ProbeResult, SignedOff, SignOffWithdrawn, Status

Subscriber = Callable[[Any], None]
VERDICTS = ("go", "no-go")


class SessionError(Exception):
    """An operation the session refuses, said in one line for the operator."""


@dataclass(frozen=True)
class ItemState:
    item: Item
    signoff: SignedOff | None = None
    probe: ProbeResult | None = None

    @property
    def satisfied(self) -> bool:
        return (
            self.item.done_before
            or self.signoff is not None
            or (self.probe is not None and self.probe.status is Status.PASS)
        )

    @property
    def label(self) -> str:
        """The item's status in one word, as the panes show it."""
        if self.item.done_before:
            return "DONE"
        if self.signoff is not None:
            return "SIGNED"
        if self.probe is not None:
            return self.probe.status.value
        return "OPEN"


class ReleaseSession:
    def __init__(self, settings: Settings, checklist: Checklist, audit: AuditLog) -> None:
        self.settings = settings
        self.checklist = checklist
        self.audit = audit
        self._subscribers: list[Subscriber] = []
        self._signoffs: dict[str, SignedOff] = {}
        self._probes: dict[str, ProbeResult] = {}
        self.last_decision: Decision | None = None
        self._replay()

    # -- who and what --------------------------------------------------------------------
    @property
    def release(self) -> str:
        return self.settings.release

    @property
    def environment(self) -> str:
        return self.settings.env_name

    @property
    def operator(self) -> str:
        return self.settings.operator

    @property
    def host(self) -> str:
        return self.settings.host

    # -- subscribers -----------------------------------------------------------------------
    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def _publish(self, event: Any) -> None:
        for callback in list(self._subscribers):
            callback(event)

    # -- state -----------------------------------------------------------------------------
    def state(self, item_id: str) -> ItemState:
        item = self._item(item_id)
        return ItemState(item, self._signoffs.get(item.id), self._probes.get(item.id))

    def states(self) -> list[ItemState]:
        return [self.state(item.id) for item in self.checklist.items()]

    def open_items(self) -> list[Item]:
        """Required items not yet satisfied: what stands between this release and GO."""
        return [s.item for s in self.states() if s.item.required and not s.satisfied]

    def gate(self) -> str:
        return "GO" if not self.open_items() else "NO-GO"

    # -- what the operator does --------------------------------------------------------------
    def signoff(self, item_id: str, note: str = "") -> SignedOff:
        item = self._item(item_id)
        held = self._signoffs.get(item.id)
        if held is not None:
            raise SessionError(f"'{item.title}' is already signed off by {held.operator} at {_hhmm(held.ts)}")
        row = self._record("signoff", item=item.id, status="signed", message=note.strip() or f"signed off: {item.title}",
                           detail={"note": note.strip(), "title": item.title})
        event = SignedOff(item.id, row.operator, row.host, note.strip(), _ts(row))
        self._signoffs[item.id] = event
        self._publish(event)
        return event

    def withdraw(self, item_id: str, note: str = "") -> SignOffWithdrawn:
        item = self._item(item_id)
        if item.id not in self._signoffs:
            raise SessionError(f"'{item.title}' has no sign-off to withdraw")
        row = self._record("signoff.withdrawn", item=item.id, status="withdrawn",
                           message=note.strip() or f"sign-off withdrawn: {item.title}",
                           detail={"note": note.strip(), "title": item.title})
        del self._signoffs[item.id]
        event = SignOffWithdrawn(item.id, row.operator, row.host, note.strip(), _ts(row))
        self._publish(event)
        return event

    def decide(self, verdict: str, reason: str = "") -> Decision:
        verdict = verdict.strip().lower()
        if verdict not in VERDICTS:
            raise SessionError(f"a decision is 'go' or 'no-go', not '{verdict}'")
        reason = reason.strip()
        open_ids = tuple(item.id for item in self.open_items())
        if verdict == "go" and open_ids and not reason:
            raise SessionError(f"GO over {len(open_ids)} open required item(s) needs a typed reason")
        row = self._record("decision", status=verdict, message=reason or verdict.upper(),
                           detail={"verdict": verdict, "reason": reason, "open_items": list(open_ids)})
        event = Decision(verdict, row.operator, row.host, reason, open_ids, _ts(row))
        self.last_decision = event
        self._publish(event)
        return event

    def record_probe(self, result: ProbeResult) -> None:
        """Keep the latest result; audit only a change of status, never a repeat."""
        previous = self._probes.get(result.item_id)
        self._probes[result.item_id] = result
        if previous is None or previous.status is not result.status:
            self._record("probe", item=result.item_id, status=result.status.value, message=result.reason,
                         detail={"value": result.value, "latency_ms": round(result.latency_ms, 1),
                                 "previous": previous.status.value if previous else None})
        self._publish(result)

    def record_open(self) -> None:
        self._record("session.open", message=f"console opened on {self.environment} for {self.release}",
                     detail={"checklist": self.checklist.source})

    # -- internals -------------------------------------------------------------------------
    def _item(self, item_id: str) -> Item:
        try:
            return self.checklist.item(item_id)
        except KeyError:
            raise SessionError(f"no checklist item '{item_id}' (see `hunter-console checklist show`)") from None

    def _record(self, kind: str, **fields: Any) -> AuditEvent:
        return self.audit.append(kind=kind, release=self.release, environment=self.environment,
                                 operator=self.operator, host=self.host, **fields)

    def _replay(self) -> None:
        """Rebuild sign-offs and the last decision from this release's audit trail.

        Probe results are not replayed: a status is only as good as the probe that just ran.
        """
        known = {item.id for item in self.checklist.items()}
        for row in self.audit.events(release=self.release, environment=self.environment):
            if row.kind == "signoff" and row.item in known:
                self._signoffs[row.item] = SignedOff(row.item, row.operator, row.host, row.detail.get("note", ""), _ts(row))
            elif row.kind == "signoff.withdrawn" and row.item in known:
                self._signoffs.pop(row.item, None)
            elif row.kind == "decision":
                self.last_decision = Decision(row.status or "", row.operator, row.host, row.detail.get("reason", ""),
                                              tuple(row.detail.get("open_items", ())), _ts(row))


def open_session(settings: Settings, *, record_open: bool = False) -> ReleaseSession:
    """The session for the settings' release and environment, its state replayed from the audit log."""
    session = ReleaseSession(settings, load_checklist(settings.checklist_path), AuditLog(settings.audit_path))
    if record_open:
        session.record_open()
    return session


def _ts(row: AuditEvent) -> datetime:
    return datetime.fromisoformat(row.ts.replace("Z", "+00:00"))


def _hhmm(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")
