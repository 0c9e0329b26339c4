"""`hunter-console probe`: one headless sweep of the checklist's probes, through the session.

One line an item (status, id, reason, latency) or `--json`. Every result goes through
`session.record_probe`, so status changes land in the audit log as they do in the TUI.

Exit codes: 0 when every REQUIRED probe item is PASS or WARN (a WARN — "no traffic to judge yet",
"window not yet measured" — does not stop a headless run; the TUI's gate still shows it open),
1 when any required probe item is FAIL or ERROR, 2 on bad usage (an unknown --only, a bad config
or checklist). Optional items are shown and never change the exit code.
"""

from __future__ import annotations

import asyncio
from typing import Any, Optional

import typer

from hunter_console.commands.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, print_json, say, settings
from hunter_console.events import ProbeResult, Status

PASSING = (Status.PASS, Status.WARN)


def probe(
    ctx: typer.Context,
    only: Optional[str] = typer.Option(None, "--only", metavar="ITEM|SECTION",
                                       help="Probe one item, or one section (by id or title)."),
    json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """Run every probe once (concurrently) and print the results; exit 1 if a required one fails."""
    from hunter_console.probes import probe_items
    from hunter_console.session import open_session

    current = settings(ctx)
    try:
        session = open_session(current)
    except Exception as e:  # ChecklistError, AuditError: the operator's input, said in one line
        fail(f"{type(e).__name__}: {e}", EXIT_USAGE)
    items = list(session.checklist.items())
    if only:
        items = session.checklist.find(only)
        if not items:
            fail(f"no checklist item or section '{only}' (see `hunter-console checklist show`)", EXIT_USAGE)
    probed = probe_items(items)
    if not probed:
        fail(f"nothing to probe in '{only}': its items are actions or sign-offs" if only
             else "the checklist has no probe items", EXIT_USAGE)
    results = asyncio.run(_sweep(current, session, probed))
    code = exit_code(probed, results)
    if json:
        print_json(_as_json(session, probed, results, code))
    else:
        for item, result in zip(probed, results):
            say(format_line(result, required=item.required))
        failing = sum(1 for i, r in zip(probed, results) if i.required and r.status not in PASSING)
        say(f"{len(probed)} probed, {failing} required failing; gate {session.gate()}")
    raise typer.Exit(code)


async def _sweep(current: Any, session: Any, items: list) -> list[ProbeResult]:
    from hunter_console.probes import ProbeContext, sweep

    async with ProbeContext.open(current, audit=session.audit) as context:
        return await sweep(items, context, on_result=session.record_probe)


def exit_code(items: list, results: list[ProbeResult]) -> int:
    bad = any(item.required and result.status not in PASSING for item, result in zip(items, results))
    return EXIT_FAILED if bad else EXIT_OK


def format_line(result: ProbeResult, *, required: bool = True) -> str:
    latency = f"{result.latency_ms:.0f} ms"
    mark = "" if required else " (optional)"
    return f"{result.status.value:<5}  {result.item_id}{mark}  {result.reason}  [{latency}]"


def _as_json(session: Any, items: list, results: list[ProbeResult], code: int) -> dict[str, Any]:
    return {
        "release": session.release,
        "environment": session.environment,
        "ok": code == EXIT_OK,
        "gate": session.gate(),
        "results": [
            {
                "id": result.item_id,
                "title": item.title,
                "kind": item.probe.kind,
                "required": item.required,
                "status": result.status.value,
                "reason": result.reason,
                "value": result.value,
                "latency_ms": round(result.latency_ms, 1),
                "ts": result.ts.isoformat(),
            }
            for item, result in zip(items, results)
        ],
    }
