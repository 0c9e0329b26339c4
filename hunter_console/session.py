"""ReleaseSession: one release of one environment.

Owns the checklist state, records every sign-off, withdrawal, decision, probe status change and
action in the audit log, and publishes the same events to subscribers (the TUI, or the CLI
printer). Both front ends drive this one object; it never imports textual.

The audit log is the source of truth: every change is appended first and then applied from the
log (`refresh`), so what another console on the same log did shows up here the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, AsyncIterator, Callable

from hunter_console.audit import AuditEvent, AuditLog
from hunter_console.checklist import Checklist, Item, load_checklist
from hunter_console.config import Settings
from hunter_console.events import (
    ActionFinished,
    ActionStarted,
    Artifact,
    Decision,
    LogLine,
    Outcome,
    ProbeResult,
    Progress,
    SignedOff,
    SignOffWithdrawn,
    Status,
)

Subscriber = Callable[[Any], None]
VERDICTS = ("go", "no-go")
RUNNER_START_S = 20.0  # how long to wait for a runner to record its start


class SessionError(Exception):
    """An operation the session refuses, said in one line for the operator."""


@dataclass(frozen=True)
class ItemState:
    item: Item
    signoff: SignedOff | None = None
    probe: ProbeResult | None = None
    action: ActionFinished | ActionStarted | None = None  # the last run started from this item

    @property
    def satisfied(self) -> bool:
        return (
            self.item.done_before
            or self.signoff is not None
            or (self.probe is not None and self.probe.status is Status.PASS)
            or (isinstance(self.action, ActionFinished) and self.action.status == "ok")
        )

    @property
    def label(self) -> str:
        """The item's status in one word, as the panes show it."""
        if self.item.done_before:
            return "DONE"
        if self.signoff is not None:
            return "SIGNED"
        if isinstance(self.action, ActionStarted):
            return "RUNNING"
        if isinstance(self.action, ActionFinished):
            return {"ok": "OK", "interrupted": "INTERRUPTED"}.get(self.action.status, "FAILED")
        if self.probe is not None:
            return self.probe.status.value
        return "OPEN"


class ReleaseSession:
    def __init__(self, settings: Settings, checklist: Checklist, audit: AuditLog) -> None:
        self.settings = settings
        self.checklist = checklist
        self.audit = audit
        self._subscribers: list[Subscriber] = []
        self._known = {item.id for item in checklist.items()}
        self._signoffs: dict[str, SignedOff] = {}
        self._probes: dict[str, ProbeResult] = {}
        self._actions: dict[str, ActionStarted | ActionFinished] = {}
        self._runs: dict[int, ActionStarted] = {}  # started, not yet ended
        self._last_id = 0
        self.last_decision: Decision | None = None
        self.refresh(publish=False)

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
        return ItemState(item, self._signoffs.get(item.id), self._probes.get(item.id), self._actions.get(item.id))

    def states(self) -> list[ItemState]:
        return [self.state(item.id) for item in self.checklist.items()]

    def open_items(self) -> list[Item]:
        """Required items not yet satisfied: what stands between this release and GO."""
        return [s.item for s in self.states() if s.item.required and not s.satisfied]

    def gate(self) -> str:
        return "GO" if not self.open_items() else "NO-GO"

    def running(self) -> list[ActionStarted]:
        """Actions started on this environment whose end is not recorded yet."""
        return list(self._runs.values())

    def latest_backup(self) -> dict[str, Any] | None:
        """The newest verified backup taken for this release on this environment."""
        for row in self.audit.events(release=self.release, environment=self.environment, kind="action.end",
                                     action="backup", newest_first=True):
            if row.status == "ok":
                for artifact in row.detail.get("artifacts", []):
                    if artifact.get("kind") == "backup":
                        return artifact
        return None

    # -- what the operator does --------------------------------------------------------------
    def signoff(self, item_id: str, note: str = "") -> SignedOff:
        item = self._item(item_id)
        self.refresh()
        held = self._signoffs.get(item.id)
        if held is not None:
            raise SessionError(f"'{item.title}' is already signed off by {held.operator} at {_hhmm(held.ts)}")
        if item.probe is not None and item.probe.kind == "metrics.window" and not note.strip():
            raise SessionError(f"'{item.title}' is judged over a measured window: signing it off "
                               "instead is an override and needs a reason in the note")
        self._record("signoff", item=item.id, status="signed", message=note.strip() or f"signed off: {item.title}",
                     detail={"note": note.strip(), "title": item.title})
        self.refresh()
        return self._signoffs[item.id]

    def withdraw(self, item_id: str, note: str = "") -> SignOffWithdrawn:
        item = self._item(item_id)
        self.refresh()
        if item.id not in self._signoffs:
            raise SessionError(f"'{item.title}' has no sign-off to withdraw")
        row = self._record("signoff.withdrawn", item=item.id, status="withdrawn",
                           message=note.strip() or f"sign-off withdrawn: {item.title}",
                           detail={"note": note.strip(), "title": item.title})
        self.refresh()
        return SignOffWithdrawn(item.id, row.operator, row.host, note.strip(), _ts(row))

    def decide(self, verdict: str, reason: str = "") -> Decision:
        verdict = verdict.strip().lower()
        if verdict not in VERDICTS:
            raise SessionError(f"a decision is 'go' or 'no-go', not '{verdict}'")
        reason = reason.strip()
        self.refresh()
        open_ids = tuple(item.id for item in self.open_items())
        if verdict == "go" and open_ids and not reason:
            raise SessionError(f"GO over {len(open_ids)} open required item(s) needs a typed reason")
        self._record("decision", status=verdict, message=reason or verdict.upper(),
                     detail={"verdict": verdict, "reason": reason, "open_items": list(open_ids)})
        self.refresh()
        assert self.last_decision is not None
        return self.last_decision

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

    def refuse(self, action: str, reason: str, *, item: str | None = None, nonce: str | None = None) -> None:
        """Record that an action was refused (nothing ran), then raise it for the operator."""
        self._record("refused", action=action, item=item, status="refused", message=reason,
                     detail={"nonce": nonce} if nonce else {})

    # -- actions ---------------------------------------------------------------------------
    async def start_action(self, name: str, *, item: str | None = None, params: dict[str, Any] | None = None,
                           confirm: str | None = None, override: str | None = None) -> ActionStarted:
        """Check, then start `name` in a runner process of its own; returns once its start is
        recorded. Refusals are audited and raised as SessionError, before anything runs."""
        from hunter_console.actions import lock
        from hunter_console.actions.catalog import ACTIONS

        action = ACTIONS.get(name)
        if action is None:
            raise SessionError(f"no action '{name}' (known: {', '.join(ACTIONS)})")
        if item is not None:
            self._item(item)
        env = self.settings.environment

        def refuse(reason: str) -> None:
            self.refuse(name, reason, item=item)
            raise SessionError(reason)

        if confirm is not None and confirm != env.name:
            refuse(f"confirmation '{confirm}' does not match the environment name '{env.name}': nothing ran")
        if self.needs_confirmation(name) and confirm != env.name:
            why = "changes production" if env.production else "is an incident action"
            refuse(f"{name} {why}: type the environment name '{env.name}' to confirm (--confirm {env.name})")
        if name == "deploy":
            problems = await self.deploy_gate()
            if problems and not (override and override.strip()):
                refuse("deploy gate: " + "; ".join(problems) + " (override with a typed reason)")
        holder = await self._live_holder()
        if holder is not None and name == "rollback":
            await self._take_over(holder)
        elif holder is not None:
            refuse(f"another action is running on {env.name}: {holder.describe()}")
        for run in self.interrupted():
            self.record_interrupted(run.run_id, {"noticed_by": name})
        nonce = uuid.uuid4().hex
        spec = {"config": str(self.settings.config_path) if self.settings.config_path else None,
                "env": self.environment, "release": self.release, "audit": str(self.settings.audit_path),
                "operator": self.operator, "host": self.host, "action": name, "item": item,
                "params": params or {}, "nonce": nonce, "override": (override or "").strip() or None}
        log_path = self.settings.audit_path.parent / "runner.log"
        since = self._last_id  # refresh() may move on meanwhile: the start is looked for from here
        with open(log_path, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "hunter_console.runner", json.dumps(spec)],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
                                    close_fds=True, cwd=str(self.settings.audit_path.parent))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + RUNNER_START_S
        while loop.time() < deadline:
            for row in self.audit.events(since_id=since):
                if row.detail.get("nonce") == nonce:
                    self.refresh()
                    if row.kind == "refused":
                        raise SessionError(row.message)
                    return self._runs.get(row.id) or _started(row)
            if proc.poll() is not None:
                self.refresh()
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise SessionError(f"the action runner exited ({proc.returncode}) before starting: {tail[0]}")
            await asyncio.sleep(0.05)
        raise SessionError(f"the action runner did not start within {RUNNER_START_S:g}s (see {log_path})")

    async def _live_holder(self, settle_s: float = 3.0):
        """Who holds the environment, ignoring a runner that has recorded its end and is only
        letting go of the lock (it writes its end first, so no run ever looks interrupted)."""
        from hunter_console.actions import lock

        loop = asyncio.get_running_loop()
        deadline = loop.time() + settle_s
        while True:
            holder = lock.holder(self.settings)
            if holder is None or not holder.run_id:
                return holder
            ended = any(r.detail.get("run") == holder.run_id
                        for r in self.audit.events(kind="action.end", since_id=holder.run_id))
            if not ended or loop.time() > deadline:
                return holder
            await asyncio.sleep(0.05)

    def needs_confirmation(self, name: str) -> bool:
        """Whether starting `name` needs the environment's name typed."""
        from hunter_console.actions.catalog import ACTIONS

        action = ACTIONS[name]
        return action.always_confirm or (action.changes_target and self.settings.environment.production)

    def plan(self, name: str, params: dict[str, Any] | None = None) -> list[str]:
        """What `name` would run, and where, in the operator's words."""
        from hunter_console.actions.catalog import ACTIONS
        from hunter_console.actions.context import ActionContext

        return ACTIONS[name].plan(ActionContext(self, params or {}))

    def holder(self):
        """Who runs an action on this environment now (a lock Holder), or None."""
        from hunter_console.actions import lock

        return lock.holder(self.settings)

    def revision_before_migrate(self) -> str | None:
        """The schema revision recorded before this release's first migrate."""
        for row in self.audit.events(release=self.release, environment=self.environment, kind="action.end",
                                     action="migrate"):
            if row.detail.get("revision_before"):
                return row.detail["revision_before"]
        return None

    async def rollback_plan(self, *, timeout_s: float = 3.0) -> "RollbackPlan":
        """What a rollback would do, computed from the real state, bounded in time: it never
        waits on parts that cannot answer."""
        from hunter_console.actions.context import ActionContext, ActionError

        app, app_error = None, None
        try:
            executor = ActionContext(self).executor
            app = await asyncio.wait_for(executor.rollback_target(), timeout_s)
            if app is None:
                app_error = "nothing to roll back to: no previous version recorded"
        except ActionError as e:
            app_error = str(e)
        except asyncio.TimeoutError:
            app_error = f"the executor did not answer within {timeout_s:g}s"
        except Exception as e:  # the plan screen must open whatever is broken
            from hunter_console.redact import redact

            app_error = redact(f"{type(e).__name__}: {e}")
        backup = self.latest_backup()
        if backup is not None:
            row = next(r for r in self.audit.events(release=self.release, environment=self.environment,
                                                    kind="action.end", action="backup", newest_first=True)
                       if any(a.get("path") == backup["path"] for a in r.detail.get("artifacts", [])))
            backup = {**backup, "taken": row.ts}
        return RollbackPlan(self.environment, app, app_error, self.revision_before_migrate(), backup, self.holder())

    def record_takeover(self, message: str, **detail: Any) -> None:
        self._record("lock.takeover", action="rollback", status="takeover", message=message, detail=detail)

    async def _take_over(self, holder) -> None:
        """An incident rollback does not wait for whoever holds the environment: their runner is
        stopped (SIGTERM: it cleans up and records its end), and the takeover is audited."""
        import os
        import signal as signals

        from hunter_console.actions import lock

        self.record_takeover(f"rollback takes over from {holder.describe()}", holder=holder.__dict__)
        try:
            os.kill(holder.pid, signals.SIGTERM)
        except ProcessLookupError:
            pass
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 15
        while lock.holder(self.settings) is not None and loop.time() < deadline:
            await asyncio.sleep(0.1)
        if lock.holder(self.settings) is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(holder.pid, signals.SIGKILL)
            await asyncio.sleep(0.5)

    async def deploy_gate(self) -> list[str]:
        """What stands between this release and a deploy: a verified backup from this release,
        and the schema at head (checked now, not remembered)."""
        from hunter_console.probes import ProbeContext, run_probe

        problems = []
        if self.latest_backup() is None:
            problems.append(f"no verified backup from {self.release}")
        revision = next((i for i in self.checklist.items() if i.probe and i.probe.kind == "postgres.revision"), None)
        if revision is not None:
            async with ProbeContext.open(self.settings, audit=self.audit) as context:
                result = await run_probe(revision, context)
            self.record_probe(result)
            if result.status is not Status.PASS:
                problems.append(f"schema not at head ({result.reason})")
        return problems

    async def follow(self, run_id: int, *, poll_s: float = 0.1) -> AsyncIterator[Any]:
        """The run's events as they are recorded, from its start: ActionStarted, LogLine and
        Progress, ending with ActionFinished. A runner that died without an end is recorded as
        interrupted, and that ends the stream."""
        from hunter_console.actions import lock

        last = run_id - 1
        while True:
            rows = self.audit.events(since_id=last, action=None)
            for row in rows:
                last = row.id
                if row.id != run_id and row.detail.get("run") != run_id:
                    continue
                for event in _run_events(row):
                    yield event
                if row.kind in ("action.end", "action.interrupted"):
                    self.refresh()
                    return
            if not rows:
                start = self._runs.get(run_id)
                holder = lock.holder(self.settings)
                if start is not None and (holder is None or holder.run_id not in (0, run_id)):
                    if not self.audit.events(since_id=last):  # nothing arrived meanwhile: it is dead
                        self.record_interrupted(run_id)
                        continue
                await asyncio.sleep(poll_s)

    def interrupted(self) -> list[ActionStarted]:
        """Started runs with no end whose runner is gone (not holding the environment's lock)."""
        from hunter_console.actions import lock

        self.refresh()
        holder = lock.holder(self.settings)
        return [run for run in self._runs.values() if holder is None or holder.run_id != run.run_id]

    def record_interrupted(self, run_id: int, reconciliation: dict[str, Any] | None = None) -> None:
        start = self._runs.get(run_id)
        if start is None:
            return
        self._record("action.end", action=start.action, item=start.item, status="interrupted",
                     message=f"{start.action} interrupted: its runner died before recording an end",
                     detail={"run": run_id, "reconciliation": reconciliation or {}})
        self.refresh()

    # -- the log is the truth ----------------------------------------------------------------
    def refresh(self, *, publish: bool = True) -> list[Any]:
        """Apply what the audit log gained since last time (from this console or another),
        publish it, and return it."""
        events = []
        for row in self.audit.events(release=self.release, environment=self.environment, since_id=self._last_id):
            self._last_id = row.id
            event = self._apply(row)
            if event is not None:
                events.append(event)
        if publish:
            for event in events:
                self._publish(event)
        return events

    def _apply(self, row: AuditEvent) -> Any:
        if row.kind == "signoff" and row.item in self._known:
            event = SignedOff(row.item, row.operator, row.host, row.detail.get("note", ""), _ts(row))
            self._signoffs[row.item] = event
            return event
        if row.kind == "signoff.withdrawn" and row.item in self._known:
            self._signoffs.pop(row.item, None)
            return SignOffWithdrawn(row.item, row.operator, row.host, row.detail.get("note", ""), _ts(row))
        if row.kind == "decision":
            self.last_decision = Decision(row.status or "", row.operator, row.host, row.detail.get("reason", ""),
                                          tuple(row.detail.get("open_items", ())), _ts(row))
            return self.last_decision
        if row.kind == "action.start":
            event = _started(row)
            self._runs[row.id] = event
            if row.item in self._known:
                self._actions[row.item] = event
            return event
        if row.kind == "action.end":
            event = _finished(row)
            self._runs.pop(event.run_id, None)
            if row.item in self._known:
                self._actions[row.item] = event
            return event
        return None

    # -- internals -------------------------------------------------------------------------
    def _item(self, item_id: str) -> Item:
        try:
            return self.checklist.item(item_id)
        except KeyError:
            raise SessionError(f"no checklist item '{item_id}' (see `hunter-console checklist show`)") from None

    def _record(self, kind: str, **fields: Any) -> AuditEvent:
        return self.audit.append(kind=kind, release=self.release, environment=self.environment,
                                 operator=self.operator, host=self.host, **fields)


@dataclass(frozen=True)
class RollbackPlan:
    """What a rollback of this environment would do, from the real state."""

    environment: str
    app: str | None  # the executor's own words: "re-create api on v0.9.0 (image 1a2b...)"
    app_error: str | None  # why the app step cannot be planned, when it cannot
    downgrade_to: str | None  # the revision before this release's migrate
    backup: dict[str, Any] | None  # path, size, sha256, taken
    holder: Any = None  # who holds the environment now (their action is stopped first)

    def options(self) -> dict[str, str | None]:
        """Each database choice and why it is unavailable (None when it is available)."""
        return {
            "none": None,
            "downgrade": None if self.downgrade_to else "no migrate recorded for this release",
            "restore": None if self.backup else "no verified backup for this release",
        }


def open_session(settings: Settings, *, record_open: bool = False) -> ReleaseSession:
    """The session for the settings' release and environment, its state replayed from the audit log."""
    session = ReleaseSession(settings, load_checklist(settings.checklist_path), AuditLog(settings.audit_path))
    if record_open:
        session.record_open()
    return session


def _started(row: AuditEvent) -> ActionStarted:
    return ActionStarted(row.action or "", row.environment, tuple(row.detail.get("plan", ())), row.id, row.item,
                         row.operator, row.host, _ts(row))


def _finished(row: AuditEvent) -> ActionFinished:
    d = row.detail
    artifacts = tuple(Artifact(**a) for a in d.get("artifacts", []) if isinstance(a, dict))
    outcome = Outcome(row.status == "ok", row.message, d.get("exit_code"), artifacts,
                      {k: v for k, v in d.items() if k not in ("run", "exit_code", "artifacts", "duration_s")})
    return ActionFinished(row.action or "", row.environment, outcome, float(d.get("duration_s") or 0.0),
                          int(d.get("run") or 0), row.item, row.status or "", _ts(row))


def _run_events(row: AuditEvent) -> list[Any]:
    if row.kind == "action.start":
        return [_started(row)]
    if row.kind == "action.output":
        streams = row.detail.get("streams")
        texts = row.message.split("\n")
        return [LogLine(text, streams[i] if streams and i < len(streams) else "stdout", _ts(row))
                for i, text in enumerate(texts)]
    if row.kind == "action.progress":
        d = row.detail
        return [Progress(d.get("done", 0), d.get("total"), d.get("unit", ""), row.message)]
    if row.kind == "action.end":
        return [_finished(row)]
    return []


def _ts(row: AuditEvent) -> datetime:
    return datetime.fromisoformat(row.ts.replace("Z", "+00:00"))


def _hhmm(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")
