"""Crash recovery: an action whose runner died is checked against the real state.

A start without an end and no live runner (`session.interrupted()`) says only that we do not know
how far the action got. `reconcile(session, run)` asks the environment's executor what is true now
(`alembic current` and `alembic heads` through `executor.run`, `executor.current_version()`), each
call bounded by a timeout so a dead database or engine cannot hang the console (a failure is
recorded as text, never raised), and says what it means for that action:

    {"action": "migrate", "checked_at": "...Z", "alembic_current": "f786f93501ea",
     "alembic_head": "f786f93501ea", "revision_before": "c3e5a7b9d1f4", "version": "v0.9.0",
     "verdict": "migrate completed: the schema is at head (f786f93501ea); the runner died before ..."}

Verdicts start with one of: "<action> completed" (the runner died before recording it), "not applied",
"partially applied", "unknown" (then say why). `reconcile_all(session)` reconciles every interrupted
run and records each with `session.record_interrupted(run_id, reconciliation)`.

Note: a runner killed with SIGKILL does not take its child with it (the executor starts commands in
a session of their own), so an `alembic upgrade` can still be running, or finish, after the runner
died; the verdict is what was true when it was checked (`checked_at`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from hunter_console.audit.log import utc_timestamp
from hunter_console.redact import redact

if TYPE_CHECKING:
    from hunter_console.events import ActionStarted
    from hunter_console.session import ReleaseSession

CALL_TIMEOUT_S = 15.0  # each call to the executor


async def _command(executor, argv: list[str], timeout_s: float) -> tuple[list[str], str | None]:
    """The output lines of `argv` through the executor, and an error in words (None when it succeeded)."""
    from hunter_console.events import LogLine, Outcome

    lines: list[str] = []
    outcome: list[Outcome] = []

    async def run() -> None:
        async for event in executor.run(argv):
            if isinstance(event, LogLine):
                lines.append(event.text)
            elif isinstance(event, Outcome):
                outcome.append(event)

    shown = " ".join(argv)
    try:
        await asyncio.wait_for(run(), timeout_s)
    except asyncio.TimeoutError:
        return lines, f"{shown} did not answer within {timeout_s:g}s"
    except Exception as e:  # recorded, never raised: reconciling must finish
        return lines, redact(f"{shown}: {type(e).__name__}: {e}")
    if not outcome:
        return lines, f"{shown} ended without an outcome"
    if not outcome[-1].ok:
        tail = next((line for line in reversed(lines) if line.strip()), "")
        return lines, redact(f"{outcome[-1].message}" + (f": {tail}" if tail else ""))
    return lines, None


def _revision_before(session: "ReleaseSession", run_id: int) -> str | None:
    """The revision the run's first `alembic current` printed, from its stored output."""
    from hunter_console.actions.release_steps import revision_of
    from hunter_console.history import run_output

    try:
        output = [text for _, text in run_output(session.audit, run_id)]
    except KeyError:
        return None
    first: list[str] = []
    for text in output:
        if text.startswith("$ alembic upgrade"):
            break
        if not text.startswith("$ "):
            first.append(text)
    return revision_of(first)


async def reconcile(session: "ReleaseSession", run: "ActionStarted", *,
                    timeout_s: float = CALL_TIMEOUT_S) -> dict[str, Any]:
    """What the real state says about interrupted `run`: a dict of what was found and a verdict."""
    from hunter_console.actions.context import ActionContext, ActionError
    from hunter_console.actions.release_steps import revision_of

    result: dict[str, Any] = {"action": run.action, "checked_at": utc_timestamp()}
    try:
        executor = ActionContext(session).executor
    except ActionError as e:
        result["executor_error"] = str(e)
        result["verdict"] = f"unknown: no executor for {session.environment} ({e})"
        return result
    except Exception as e:
        result["executor_error"] = redact(f"{type(e).__name__}: {e}")
        result["verdict"] = "unknown: the executor could not be made"
        return result

    current_lines, current_error = await _command(executor, ["alembic", "current"], timeout_s)
    if current_error:
        result["alembic_error"] = current_error
        result["alembic_current"] = None
    else:
        result["alembic_current"] = revision_of(current_lines) or "empty database"
    head_lines, head_error = await _command(executor, ["alembic", "heads"], timeout_s)
    result["alembic_head"] = None if head_error else revision_of(head_lines)
    if head_error:
        result["alembic_heads_error"] = head_error
    try:
        result["version"] = await asyncio.wait_for(executor.current_version(), timeout_s)
    except asyncio.TimeoutError:
        result["version"], result["version_error"] = None, f"current_version did not answer within {timeout_s:g}s"
    except Exception as e:
        result["version"], result["version_error"] = None, redact(f"{type(e).__name__}: {e}")

    if run.action == "migrate":
        result["revision_before"] = _revision_before(session, run.run_id)
        result["verdict"] = _migrate_verdict(result)
    elif run.action in ("deploy", "rollback"):
        start = session.audit.get(run.run_id)
        wanted = (start.detail.get("params") or {}).get("version") or (session.release if run.action == "deploy"
                                                                       else None)
        result["version_wanted"] = wanted
        serving = result["version"]
        if serving is None:
            result["verdict"] = "unknown: nothing is serving" + (f" ({result['version_error']})"
                                                                  if result.get("version_error") else "")
        elif wanted and serving == wanted:
            result["verdict"] = (f"{run.action} completed: {serving} is serving; "
                                 f"the runner died before recording its end")
        elif wanted:
            result["verdict"] = f"not applied: {serving} is serving, not {wanted}"
        else:
            result["verdict"] = f"unknown: {serving} is serving; check that it is the version to roll back to"
    else:
        result["verdict"] = (f"unknown: a {run.action} leaves no state the console can check; "
                             f"run it again (its partial result, if any, was not recorded)")
    return result


def _migrate_verdict(r: dict[str, Any]) -> str:
    current, head, before = r.get("alembic_current"), r.get("alembic_head"), r.get("revision_before")
    if current is None:
        return f"unknown: alembic current failed ({r.get('alembic_error')})"
    if head is None:
        return f"unknown: the schema is at {current}, but the head revision could not be read"
    if current == head and before == head:
        return f"not applied: nothing to apply, the schema was already at head ({head})"
    if current == head:
        return f"migrate completed: the schema is at head ({head}); the runner died before recording its end"
    if before is not None and current == before:
        return f"not applied: the schema is still at {current} (head is {head})"
    if before is None and current == "empty database":
        return f"not applied: the database is empty (head is {head})"
    return f"partially applied: the schema is at {current}, head is {head}" + (f", it was at {before}"
                                                                               if before else "")


async def reconcile_all(session: "ReleaseSession", *, timeout_s: float = CALL_TIMEOUT_S) -> list[tuple[int, dict]]:
    """Reconcile every interrupted run of this environment and record each (action.end, status
    interrupted, detail.reconciliation); returns [(run_id, reconciliation)]."""
    done = []
    for run in session.interrupted():
        found = await reconcile(session, run, timeout_s=timeout_s)
        session.record_interrupted(run.run_id, found)
        done.append((run.run_id, found))
    return done


__all__ = ["CALL_TIMEOUT_S", "reconcile", "reconcile_all"]
