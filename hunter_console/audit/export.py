"""Export an audit trail: the release report (md, json, csv) or the raw event trail (events-*).

`export(log, fmt, release=..., environment=..., session=...)` returns the text.

- `md`, `json`, `csv`: the release report (hunter_console.audit.report): decision, checklist with
  each item's final status (needs the session), sign-offs, actions, backups, refusals and
  takeovers, the verified head hash. The md report ends with the event table (output rows left out).
- `events-md`, `events-json`, `events-csv`: every event of the scope, one row each, as they are
  stored (the Markdown record is built from `MD_SECTIONS`: `_md_title`, `_md_events`, `_md_chain`).

Everything goes through `redact` once more on the way out.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Any, Callable

from hunter_console.audit.log import AuditEvent, AuditLog, VerifyResult
from hunter_console.redact import redact, redact_obj

FORMATS = ("md", "json", "csv", "events-md", "events-json", "events-csv")
CSV_COLUMNS = ("id", "ts", "release", "environment", "operator", "host", "kind", "item", "action", "status",
               "message", "detail", "prev_hash", "hash")


@dataclass(frozen=True)
class Record:
    """What an export is made of: the events chosen, the whole log's verification, the scope."""

    events: list[AuditEvent]
    verified: VerifyResult
    release: str | None
    environment: str | None


def collect(log: AuditLog, *, release: str | None = None, environment: str | None = None) -> Record:
    return Record(log.events(release=release, environment=environment), log.verify(), release, environment)


def export(log: AuditLog, fmt: str, *, release: str | None = None, environment: str | None = None,
           session: Any = None) -> str:
    """`release` on `environment` (all of the log when None) in format `fmt` (see FORMATS). With a
    session (a ReleaseSession on that release and environment) the report has its checklist."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}' (use {', '.join(FORMATS)})")
    if fmt.startswith("events-"):
        record = collect(log, release=release, environment=environment)
        return {"events-md": to_markdown, "events-json": to_json, "events-csv": to_csv}[fmt](record)
    from hunter_console.audit import report

    built = report.build_report(log, session, release=release, environment=environment)
    return {"md": report.report_markdown, "json": report.report_json, "csv": report.report_csv}[fmt](built)


# -- JSON ----------------------------------------------------------------------------------------
def verified_block(result: VerifyResult) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad": result.first_bad,
        "reason": result.reason,
        "head": {"id": result.head_id, "hash": result.head_hash},
        "anchor_seq": result.anchor_seq,
    }


def to_json(record: Record) -> str:
    value = {
        "release": record.release,
        "environment": record.environment,
        "events": [e.to_dict() for e in record.events],
        "verified": verified_block(record.verified),
    }
    return json.dumps(redact_obj(value), indent=2, ensure_ascii=False) + "\n"


# -- CSV -----------------------------------------------------------------------------------------
def to_csv(record: Record) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for event in record.events:
        row = event.to_dict()
        row["detail"] = json.dumps(event.detail, sort_keys=True, ensure_ascii=False)
        writer.writerow([redact("" if row[c] is None else str(row[c])) for c in CSV_COLUMNS])
    return out.getvalue()


# -- Markdown ------------------------------------------------------------------------------------
def _cell(text: str | None, width: int | None = None) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    text = " ".join((text or "").split())
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text.replace("\\", "\\\\").replace("|", "\\|")


def what(event: AuditEvent) -> str:
    """The item or action an event is about, as one short string."""
    return " / ".join(part for part in (event.item, event.action) if part)


def chain_line(result: VerifyResult) -> str:
    if result.ok:
        return f"Chain verified: head #{result.head_id} {result.head_hash}"
    where = f"event #{result.first_bad}: " if result.first_bad is not None else ""
    return f"Chain verification FAILED: {where}{result.reason}"


def _md_title(record: Record) -> list[str]:
    scope = " on ".join(part for part in (record.release or "all releases", record.environment) if part)
    return [f"# Release record: {scope}", ""]


def _md_events(record: Record) -> list[str]:
    lines = [f"## Events ({len(record.events)})", ""]
    if not record.events:
        return lines + ["No events recorded.", ""]
    lines += ["| # | time (UTC) | operator | origin | kind | item / action | status | message |",
              "|---:|---|---|---|---|---|---|---|"]
    for e in record.events:
        time = e.ts.replace("T", " ").rstrip("Z")[:19]
        lines.append(f"| {e.id} | {time} | {_cell(e.operator)} | {_cell(e.host)} | {_cell(e.kind)} | "
                     f"{_cell(what(e))} | {_cell(e.status)} | {_cell(e.message, 200)} |")
    return lines + [""]


def _md_chain(record: Record) -> list[str]:
    return ["## Integrity", "", chain_line(record.verified), ""]


MD_SECTIONS: list[Callable[[Record], list[str]]] = [_md_title, _md_events, _md_chain]


def to_markdown(record: Record, sections: list[Callable[[Record], list[str]]] | None = None) -> str:
    lines: list[str] = []
    for section in sections or MD_SECTIONS:
        lines += section(record)
    return redact("\n".join(lines).rstrip("\n") + "\n")
