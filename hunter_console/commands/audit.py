"""`hunter-console audit ...`: read, check and export the audit log. Never writes to it."""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, Optional

import typer

from hunter_console.commands.common import EXIT_FAILED, EXIT_USAGE, fail, print_json, say, settings

if TYPE_CHECKING:
    from hunter_console.audit import AuditEvent, AuditLog

app = typer.Typer(
    help="Read, verify and export the audit log (append-only, hash-chained).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


@contextmanager
def _reading(ctx: typer.Context) -> Iterator["AuditLog"]:
    """The existing audit log, opened without creating anything; any failure is one line."""
    from hunter_console.audit import AuditError, AuditLog

    path = settings(ctx).audit_path
    try:
        log = AuditLog(path, create=False)
    except AuditError as e:
        fail(str(e))
    except (sqlite3.Error, OSError) as e:
        fail(f"{path}: cannot open the audit log: {e}")
    try:
        yield log
    except (AuditError, sqlite3.Error) as e:
        fail(f"{path}: cannot read the audit log: {e}")
    finally:
        log.close()


# -- list ------------------------------------------------------------------------------------------
@app.command("list")
def list_events(
    ctx: typer.Context,
    release: Optional[str] = typer.Option(None, "--release", help="Only this release."),
    kind: Optional[str] = typer.Option(None, "--kind", help="Only this kind (signoff, decision, probe, ...)."),
    item: Optional[str] = typer.Option(None, "--item", help="Only this checklist item."),
    action: Optional[str] = typer.Option(None, "--action", help="Only this action (backup, migrate, ...)."),
    search: Optional[str] = typer.Option(None, "--search", help="Words in the message (each a prefix)."),
    limit: int = typer.Option(50, "--limit", min=1, help="Show the latest N matching events."),
    as_json: bool = typer.Option(False, "--json", help="Print the events as JSON."),
) -> None:
    """List the latest events, oldest of them first."""
    with _reading(ctx) as log:
        events = log.events(release=release, kind=kind, item=item, action=action, search=search, limit=limit,
                            newest_first=True)
    events.reverse()
    if as_json:
        print_json([e.to_dict() for e in events])
        return
    if not events:
        say("no audit events match")
        return
    for line in event_table(events, shutil.get_terminal_size((80, 24)).columns):
        say(line)


def short_time(ts: str) -> str:
    """2026-11-27T02:37:13.083571Z -> 11-27 02:37 (the full time is in `audit show`)."""
    return ts[5:16].replace("T", " ")


def short_origin(host: str) -> str:
    """"ssh 192.0.2.10" -> "192.0.2.10", "local bastion-1" -> "local" (in full in `audit show`)."""
    if host.startswith("ssh "):
        return host[4:]
    if host.startswith("local"):
        return "local"
    return host


def event_table(events: list["AuditEvent"], width: int = 80) -> list[str]:
    """Rows of id, time, operator ("who"), origin ("from"), kind, item/action, status, message in
    `width` columns: the message takes what is left and is cut with an ellipsis; when that leaves
    it too little, the widest other columns give way first (`audit show` has every field whole)."""
    from hunter_console.audit.export import what

    width = max(width, 60)
    headers = ("id", "time", "who", "from", "kind", "item/action", "status", "message")
    rows = [(str(e.id), short_time(e.ts), e.operator, short_origin(e.host), e.kind, what(e), e.status or "",
             _one_line(e.message)) for e in events]
    caps = [8, 11, 10, 15, 17, 18, 9]  # the message takes the rest
    floors = [2, 11, 5, 8, 13, 10, 6]  # how far each may give way when the message gets too narrow
    widths = [min(cap, max(len(headers[i]), *(len(r[i]) for r in rows))) for i, cap in enumerate(caps)]
    min_message = 16
    giving_way = (5, 3, 4, 2, 6)  # item/action, origin, kind, operator, status

    def spare() -> int:
        return width - sum(widths) - len(widths)  # one space between columns

    while spare() < min_message:
        candidates = [i for i in giving_way if widths[i] > floors[i]]
        if not candidates:
            break
        widest = max(candidates, key=lambda i: widths[i] - floors[i])
        widths[widest] -= 1
    message_width = max(spare(), 8)

    def fmt(cells: tuple[str, ...]) -> str:
        parts = [_fit(cells[0], widths[0]).rjust(widths[0])]
        parts += [_fit(cell, w).ljust(w) for cell, w in zip(cells[1:7], widths[1:])]
        parts.append(_fit(cells[7], message_width))
        return " ".join(parts).rstrip()

    return [fmt(headers)] + [fmt(r) for r in rows]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


# -- show ------------------------------------------------------------------------------------------
@app.command()
def show(
    ctx: typer.Context,
    event_id: int = typer.Argument(..., metavar="ID", help="Event id (see `audit list`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the event as JSON."),
) -> None:
    """Show one event with every field, its detail as JSON."""
    import json

    with _reading(ctx) as log:
        try:
            event = log.get(event_id)
        except KeyError:
            fail(f"no audit event #{event_id} in {log.path}")
    if as_json:
        print_json(event.to_dict())
        return
    fields = event.to_dict()
    detail = fields.pop("detail")
    label_width = max(len(k) for k in fields)
    for key, value in fields.items():
        say(f"{key.ljust(label_width)}  {'' if value is None else value}")
    say("detail:")
    for line in json.dumps(detail, indent=2, ensure_ascii=False, sort_keys=True).splitlines():
        say(f"  {line}")


# -- verify ------------------------------------------------------------------------------------------
@app.command()
def verify(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check the hash chain from the first event and the anchor; exit 1 if anything was tampered with."""
    from hunter_console.audit.export import verified_block

    with _reading(ctx) as log:
        result = log.verify()
    if as_json:
        print_json(verified_block(result))
    elif result.ok:
        anchor = "" if result.anchor_seq is not None or result.checked == 0 else " (no anchor yet)"
        say(f"audit log intact: {result.checked} events, head #{result.head_id} {result.head_hash[:12]}{anchor}")
    else:
        where = f"event #{result.first_bad}: " if result.first_bad is not None else ""
        say(f"audit log TAMPERED: {where}{result.reason}")
    if not result.ok:
        raise typer.Exit(EXIT_FAILED)


# -- export ------------------------------------------------------------------------------------------
def _session(current, log: "AuditLog"):
    """A ReleaseSession over the already open log (read only: nothing is recorded), for the
    report's checklist; a checklist that cannot be loaded is one line."""
    from hunter_console.checklist import load_checklist
    from hunter_console.session import ReleaseSession

    try:
        checklist = load_checklist(current.checklist_path)
    except Exception as e:  # a checklist file that is missing or malformed
        fail(f"cannot load the checklist for the report: {e}")
    return ReleaseSession(current, checklist, log)


@app.command()
def export(
    ctx: typer.Context,
    fmt: str = typer.Option("md", "--format", "-f", help="md (the release report), json or csv (its data); "
                            "events-md, events-json or events-csv (every event as stored)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of stdout."),
    everything: bool = typer.Option(False, "--all", help="Every release and environment, not just the current "
                                    "(the report then has no checklist section)."),
) -> None:
    """Export the current release's report (--release / --env): decision, checklist, sign-offs,
    actions, backups, refusals, and the verified head hash."""
    from hunter_console.audit.export import FORMATS
    from hunter_console.audit.export import export as render

    if fmt not in FORMATS:
        fail(f"unknown export format '{fmt}' (use {', '.join(FORMATS)})", EXIT_USAGE)
    current = settings(ctx)
    scope = {} if everything else {"release": current.release, "environment": current.env_name}
    with _reading(ctx) as log:
        session = None if everything or fmt.startswith("events-") else _session(current, log)
        text = render(log, fmt, session=session, **scope)
    if output is None:
        print(text, end="")  # already redacted by the exporter
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        fail(f"cannot write {output}: {e.strerror or e}")
    say(f"wrote the {fmt} export to {output}")
