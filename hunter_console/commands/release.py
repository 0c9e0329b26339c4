"""Sign-offs and the GO/NO-GO decision from the command line, through the same session."""

from __future__ import annotations

from typing import Optional

import typer

from hunter_console.checklist import ChecklistError
from hunter_console.commands.common import EXIT_USAGE, fail, say, settings


def register(app: typer.Typer) -> None:
    app.command()(signoff)
    app.command()(withdraw)
    app.command()(decide)


def _session(ctx: typer.Context):
    from hunter_console.session import open_session

    try:
        return open_session(settings(ctx))
    except ChecklistError as e:
        fail(f"checklist error: {e}", EXIT_USAGE)


def signoff(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Checklist item id (see `checklist show`)."),
    note: str = typer.Option("", "--note", "-n", help="Why it is done, for the record."),
) -> None:
    """Sign off a checklist item."""
    from hunter_console.session import SessionError

    session = _session(ctx)
    try:
        event = session.signoff(item, note)
    except SessionError as e:
        fail(str(e))
    say(f"signed off {item} as {event.operator} ({event.host}); gate: {session.gate()}")


def withdraw(
    ctx: typer.Context,
    item: str = typer.Argument(..., help="Checklist item id."),
    note: str = typer.Option("", "--note", "-n", help="Why the sign-off no longer holds."),
) -> None:
    """Withdraw a sign-off (recorded as a new event; nothing is deleted)."""
    from hunter_console.session import SessionError

    session = _session(ctx)
    try:
        session.withdraw(item, note)
    except SessionError as e:
        fail(str(e))
    say(f"withdrew the sign-off of {item}; gate: {session.gate()}")


def decide(
    ctx: typer.Context,
    verdict: str = typer.Argument(..., help="go or no-go"),
    reason: Optional[str] = typer.Option(None, "--reason", help="Required for GO over open items."),
) -> None:
    """Record the GO / NO-GO decision for this release."""
    from hunter_console.session import SessionError

    if verdict.lower() not in ("go", "no-go"):
        fail(f"a decision is 'go' or 'no-go', not '{verdict}'", EXIT_USAGE)
    session = _session(ctx)
    try:
        decision = session.decide(verdict, reason or "")
    except SessionError as e:
        open_items = session.open_items()
        fail(f"{e}: {', '.join(i.id for i in open_items[:5])}{' ...' if len(open_items) > 5 else ''}")
    say(f"decision recorded: {decision.verdict.upper()} for {session.release} on {session.environment}"
        + (f" over {len(decision.open_items)} open item(s)" if decision.open_items else ""))
