"""The action runner: one action in a process of its own, so it outlives the console.

    python -m hunter_console.runner '<spec json>'

The session starts it in a new process session with no terminal; it takes the environment's
lock, records `action.start` before the first side effect, stores the output in batches
(`action.output`, many lines a row) and progress (`action.progress`, throttled), and records
`action.end` with the outcome, duration, exit code and artifacts. SIGHUP is ignored; SIGTERM
cancels the action, which cleans up (a backup deletes its partial file) and ends as cancelled.
Exit status: 0 ok, 1 failed or cancelled, 3 refused (another action holds the lock), 2 bad spec.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import signal
import sys
import time
from typing import Any

from hunter_console.events import Artifact, LogLine, Outcome, Progress, utcnow

FLUSH_S = 0.1  # output reaches the audit db (and every console following it) this often
MAX_BATCH = 2000  # lines in one action.output row
PROGRESS_S = 0.5  # progress rows at most this often


class OutputRecorder:
    """Buffers LogLines and writes them as action.output rows, one row a batch."""

    def __init__(self, session, run_id: int, action: str, item: str | None) -> None:
        self.session, self.run_id, self.action, self.item = session, run_id, action, item
        self.lines: list[LogLine] = []
        self.count = 0
        self.last_progress = 0.0
        self.pending_progress: Progress | None = None

    def line(self, line: LogLine) -> None:
        self.lines.append(line)
        if len(self.lines) >= MAX_BATCH:
            self.flush()

    def progress(self, progress: Progress) -> None:
        self.pending_progress = progress
        if time.monotonic() - self.last_progress >= PROGRESS_S:
            self.flush()

    def flush(self) -> None:
        rows = []
        if self.lines:
            lines, self.lines = self.lines, []
            streams = [line.stream for line in lines]
            detail: dict[str, Any] = {"run": self.run_id, "first": self.count + 1, "count": len(lines)}
            if set(streams) != {"stdout"}:
                detail["streams"] = streams
            self.count += len(lines)
            rows.append(self._row("action.output", "\n".join(line.text for line in lines), detail))
        if self.pending_progress is not None:
            p, self.pending_progress = self.pending_progress, None
            self.last_progress = time.monotonic()
            rows.append(self._row("action.progress", p.message,
                                  {"run": self.run_id, "done": p.done, "total": p.total, "unit": p.unit}))
        if rows:
            self.session.audit.append_many(rows)

    def _row(self, kind: str, message: str, detail: dict[str, Any]) -> dict[str, Any]:
        s = self.session
        return {"kind": kind, "release": s.release, "environment": s.environment, "operator": s.operator,
                "host": s.host, "item": self.item, "action": self.action, "message": message, "detail": detail}


async def execute(session, spec: dict[str, Any], lock, target) -> int:
    from hunter_console.actions.catalog import ACTIONS
    from hunter_console.actions.context import ActionContext, ActionError
    from hunter_console.actions.lock import LockLost

    action = ACTIONS[spec["action"]]
    ctx = ActionContext(session, spec.get("params") or {})
    plan = action.plan(ctx)
    start = session.audit.append(
        kind="action.start", release=session.release, environment=session.environment, operator=session.operator,
        host=session.host, item=spec.get("item"), action=action.name, status="running",
        message=f"{action.name} started: {action.summary}",
        detail={"nonce": spec["nonce"], "pid": os.getpid(), "plan": plan, "params": spec.get("params") or {},
                "override": spec.get("override")},
    )
    lock.update(run_id=start.id)
    recorder = OutputRecorder(session, start.id, action.name, spec.get("item"))
    began = time.monotonic()
    outcome: Outcome | None = None
    artifacts: list[Artifact] = []
    status = "failed"

    async def flusher() -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            recorder.flush()

    flushing = asyncio.create_task(flusher())
    try:
        async for event in action.run(ctx):
            if isinstance(event, LogLine):
                recorder.line(event)
            elif isinstance(event, Progress):
                target.check()  # the fence, at each step: still ours, or stop here
                recorder.progress(event)
            elif isinstance(event, Artifact):
                artifacts.append(event)
            elif isinstance(event, Outcome):
                outcome = event
        if outcome is None:
            outcome = Outcome(False, f"{action.name} ended without an outcome")
        status = "ok" if outcome.ok else "failed"
    except asyncio.CancelledError:
        outcome, status = Outcome(False, f"{action.name} cancelled (SIGTERM)"), "cancelled"
    except (ActionError, LockLost) as e:
        outcome = Outcome(False, str(e))
    except Exception as e:  # recorded, never lost: the end row says what went wrong
        outcome = Outcome(False, f"{action.name} crashed: {type(e).__name__}: {e}")
    finally:
        flushing.cancel()
    recorder.flush()
    artifacts = list(outcome.artifacts) or artifacts
    session.audit.append(
        kind="action.end", release=session.release, environment=session.environment, operator=session.operator,
        host=session.host, item=spec.get("item"), action=action.name, status=status, message=outcome.message,
        detail={**outcome.detail, "run": start.id, "exit_code": outcome.exit_code,
                "duration_s": round(time.monotonic() - began, 3), "lines": recorder.count,
                "artifacts": [dataclasses.asdict(a) for a in artifacts]},
    )
    return 0 if status == "ok" else 1


def main(argv: list[str]) -> int:
    from hunter_console.actions.lock import Busy, EnvironmentLock, TargetLock
    from hunter_console.config import ConfigError, load_settings
    from hunter_console.session import open_session

    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        spec = json.loads(argv[1])
        settings = dataclasses.replace(
            load_settings(spec.get("config"), spec["env"], spec["release"], spec["audit"], spec["operator"]),
            host=spec["host"],
        )
    except (IndexError, KeyError, ValueError, ConfigError) as e:
        print(f"hunter-console runner: bad spec: {e}", file=sys.stderr)
        return 2
    session = open_session(settings)
    lock = EnvironmentLock(settings)
    target = TargetLock(settings.environment.secret("database_url"), settings.env_name)
    try:
        lock.acquire(operator=settings.operator, host=settings.host, action=spec["action"], pid=os.getpid(),
                     since=utcnow().isoformat())
    except Busy as e:
        session.refuse(spec["action"], str(e), nonce=spec["nonce"], item=spec.get("item"))
        return 3
    incident = spec["action"] == "rollback"  # never blocked by a broken database or a stuck holder
    try:
        taken_from = target.acquire(operator=settings.operator, host=settings.host, action=spec["action"],
                                    take_over=incident)
        if taken_from:
            session.record_takeover(f"rollback took the target database's lock over from {taken_from}")
    except Busy as e:
        lock.release()
        session.refuse(spec["action"], str(e), nonce=spec["nonce"], item=spec.get("item"))
        return 3
    except Exception as e:  # the target database cannot be reached to lock it
        reason = f"cannot lock the target database: {type(e).__name__}: {e}"
        if not incident:
            lock.release()
            session.refuse(spec["action"], reason, nonce=spec["nonce"], item=spec.get("item"))
            return 3
        session.record_takeover(f"rollback goes on without the target database's lock ({reason})")
    try:
        return asyncio.run(_run_cancellable(session, spec, lock, target))
    finally:
        target.release()
        lock.release()
        session.audit.close()


async def _run_cancellable(session, spec: dict[str, Any], lock, target) -> int:
    task = asyncio.create_task(execute(session, spec, lock, target))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await task  # a cancelled action still records its end, then returns


if __name__ == "__main__":
    sys.exit(main(sys.argv))
