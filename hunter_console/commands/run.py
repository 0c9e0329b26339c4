"""`hunter-console run ACTION`: start an action in its runner and follow it in the foreground.

Ctrl-C stops following, not the action: it goes on in its runner, and any console can follow it.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
from typing import Optional

import typer

from hunter_console.commands.common import EXIT_USAGE, fail, say, settings


def run(
    ctx: typer.Context,
    action: str = typer.Argument(..., help="backup, migrate, deploy, verify, rollback or restore"),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan; run nothing."),
    confirm: Optional[str] = typer.Option(None, "--confirm", help="The environment's name, typed: required on production."),
    override: Optional[str] = typer.Option(None, "--override", help="Run past the deploy gate, with this reason recorded."),
    version: Optional[str] = typer.Option(None, "--version", help="deploy: the version (default: the release)."),
    db: Optional[str] = typer.Option(None, "--db", help="rollback: none (default), downgrade or restore."),
    to: Optional[str] = typer.Option(None, "--to", help="rollback: the revision to go back to (Kubernetes)."),
    item: Optional[str] = typer.Option(None, "--item", help="The checklist item this run satisfies."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per event."),
) -> None:
    """Run a release action (output streamed; exit code 0 when it succeeds)."""
    from hunter_console.actions.catalog import ACTIONS
    from hunter_console.session import SessionError, open_session

    if action not in ACTIONS:
        fail(f"no action '{action}' (known: {', '.join(ACTIONS)})", EXIT_USAGE)
    if db is not None and db not in ("none", "downgrade", "restore"):
        fail(f"--db is none, downgrade or restore, not '{db}'", EXIT_USAGE)
    session = open_session(settings(ctx))
    params = {k: v for k, v in (("version", version), ("db", db), ("to", to)) if v}
    if item is None:
        item = next((i.id for i in session.checklist.items() if i.action == action), None)
    if dry_run:
        say(f"{action} (dry run, nothing runs) " + "\n".join(session.plan(action, params)))
        return
    try:
        code = asyncio.run(_run_and_follow(session, action, item, params, confirm, override, as_json))
    except SessionError as e:
        fail(f"refused: {e}")
    except KeyboardInterrupt:
        fail("stopped following; the action goes on in its runner (hunter-console audit list --kind action.end)", 130)
    raise typer.Exit(code)


async def _run_and_follow(session, action, item, params, confirm, override, as_json) -> int:
    from hunter_console.events import ActionFinished, ActionStarted, LogLine, Progress

    started = await session.start_action(action, item=item, params=params, confirm=confirm, override=override)
    async for event in session.follow(started.run_id):
        if as_json:
            say(jsonlib.dumps({"event": type(event).__name__, **_fields(event)}, default=str))
        elif isinstance(event, ActionStarted):
            say(f"== {event.action} on {event.environment} (run #{event.run_id}, {event.operator})")
            for line in event.plan:
                say(f"   {line}")
        elif isinstance(event, LogLine):
            say(event.text)
        elif isinstance(event, Progress) and event.message:
            say(f"-- {event.message}")
        elif isinstance(event, ActionFinished):
            say(f"== {event.action} {event.status.upper()} in {event.duration_s:.1f}s: {event.outcome.message}")
            return 0 if event.status == "ok" else 1
    return 1


def _fields(event) -> dict:
    import dataclasses

    return {k: v for k, v in dataclasses.asdict(event).items()}
