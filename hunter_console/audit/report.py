"""The release report: a release on one environment as a team files it, from the audit log.

`build_report(log, session=None, release=..., environment=...)` gathers the sections; `report_markdown`,
`report_json` and `report_csv` render them (`hunter-console audit export --format md|json|csv`).

Sections: title (release, environment, generated at); the GO / NO-GO decision (verdict, reason,
who, when, the required items open when it was taken) and the gate as it stands; the checklist,
each item's final status (DONE before the console / SIGNED by X at T with the note / the probe's
last status and reason / the action's outcome / OPEN), built from the session's `states()` (so it
needs the checklist: without a session, as with `--all`, it is left out); sign-offs and their
withdrawals; actions (start, operator, duration, outcome, output lines); backups (path, size,
sha256); refusals and lock takeovers; the audit chain's verification with its head hash.

CSV (one table, a `type` column says what each row is):

    type,ref,title,section,status,operator,host,at,duration_s,lines,run_id,path,size,sha256,detail

    item      ref = item id, title, section, status = DONE|SIGNED|OK|FAILED|INTERRUPTED|RUNNING|PASS|
              WARN|FAIL|ERROR|OPEN, operator/at = who signed or ran it and when, run_id, detail = the
              status in words (note, probe reason, outcome)
    action    ref = action name, title = item it was started from, status = ok|failed|cancelled|
              interrupted|running, operator, host, at = start, duration_s, lines, run_id, detail = outcome
    backup    ref = action (backup), path, size, sha256, at, run_id
    decision  ref = go|no-go, operator, host, at, detail = reason
    signoff / signoff.withdrawn / refused / lock.takeover    ref = item or action, operator, host, at, detail
    chain     status = verified|FAILED, ref = head id, sha256 = head hash, detail = the reason
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hunter_console.audit.log import AuditEvent, AuditLog, VerifyResult, utc_timestamp
from hunter_console.redact import redact, redact_obj

if TYPE_CHECKING:
    from hunter_console.session import ReleaseSession

OUTPUT_KINDS = ("action.output", "action.progress")
CSV_REPORT_COLUMNS = ("type", "ref", "title", "section", "status", "operator", "host", "at", "duration_s", "lines",
                      "run_id", "path", "size", "sha256", "detail")


@dataclass
class ReleaseReport:
    release: str | None
    environment: str | None
    generated_at: str
    decision: dict[str, Any] | None
    gate: dict[str, Any] | None  # {"verdict": GO|NO-GO, "open_items": [...]} from the session
    checklist: list[dict[str, Any]] | None  # None without a session
    signoffs: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    backups: list[dict[str, Any]]
    refusals: list[dict[str, Any]]
    takeovers: list[dict[str, Any]]
    verified: VerifyResult
    events: list[AuditEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        from hunter_console.audit.export import verified_block

        return {
            "release": self.release, "environment": self.environment, "generated_at": self.generated_at,
            "decision": self.decision, "gate": self.gate, "checklist": self.checklist, "signoffs": self.signoffs,
            "actions": self.actions, "backups": self.backups, "refusals": self.refusals,
            "takeovers": self.takeovers, "verified": verified_block(self.verified),
            "events": [e.to_dict() for e in self.events],
        }


def when(ts: str | None) -> str:
    """2026-11-27T02:37:13.083571Z -> 2026-11-27 02:37:13 UTC."""
    return f"{ts[:19].replace('T', ' ')} UTC" if ts else ""


def _who(e: AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "operator": e.operator, "host": e.host, "at": e.ts}


def build_report(log: AuditLog, session: "ReleaseSession | None" = None, *, release: str | None = None,
                 environment: str | None = None, verified: VerifyResult | None = None) -> ReleaseReport:
    """The report for `release` on `environment` (the session's when one is given; all of the log
    when both are None). With a session, the checklist section comes from its `states()`."""
    if session is not None:
        release, environment = session.release, session.environment
    events = log.events(release=release, environment=environment)
    by_id = {e.id: e for e in events}
    decisions = [e for e in events if e.kind == "decision"]
    decision = None
    if decisions:
        d = decisions[-1]
        decision = {**_who(d), "verdict": (d.status or "").upper(), "reason": d.detail.get("reason", ""),
                    "open_items": list(d.detail.get("open_items", [])), "earlier": len(decisions) - 1}
    signoffs = [{**_who(e), "kind": e.kind, "item": e.item, "title": e.detail.get("title", e.item),
                 "note": e.detail.get("note", "")} for e in events if e.kind in ("signoff", "signoff.withdrawn")]
    ends = {}
    for e in events:
        if e.kind == "action.end" and e.detail.get("run") is not None:
            ends.setdefault(e.detail.get("run"), e)
    actions, backups = [], []
    for start in (e for e in events if e.kind == "action.start"):
        end = ends.get(start.id)
        d = end.detail if end else {}
        lines = d.get("lines")
        if lines is None:
            lines = sum(int(e.detail.get("count") or 0) for e in events
                        if e.kind == "action.output" and e.detail.get("run") == start.id)
        actions.append({"run_id": start.id, "action": start.action, "item": start.item, "operator": start.operator,
                        "host": start.host, "started": start.ts, "ended": end.ts if end else None,
                        "duration_s": d.get("duration_s"), "status": (end.status if end else "running") or "",
                        "outcome": end.message if end else "no end recorded", "exit_code": d.get("exit_code"),
                        "lines": lines, "artifacts": d.get("artifacts", []),
                        "reconciliation": d.get("reconciliation") or None})
        for artifact in d.get("artifacts", []):
            if isinstance(artifact, dict) and artifact.get("kind", "backup") == "backup":
                backups.append({"run_id": start.id, "action": start.action, "path": artifact.get("path"),
                                "size": artifact.get("size"), "sha256": artifact.get("sha256"), "taken": end.ts,
                                "status": end.status})
    refusals = [{**_who(e), "action": e.action, "item": e.item, "reason": e.message} for e in events
                if e.kind == "refused"]
    takeovers = [{**_who(e), "action": e.action, "message": e.message} for e in events if e.kind == "lock.takeover"]
    checklist, gate = None, None
    if session is not None:
        checklist = _checklist(session, events, by_id)
        open_items = [item.id for item in session.open_items()]
        gate = {"verdict": "GO" if not open_items else "NO-GO", "open_items": open_items}
    return ReleaseReport(release, environment, utc_timestamp(), decision, gate, checklist, signoffs, actions,
                         backups, refusals, takeovers, verified if verified is not None else log.verify(), events)


def _checklist(session: "ReleaseSession", events: list[AuditEvent], by_id: dict[int, AuditEvent]) -> list[dict]:
    from hunter_console.events import ActionFinished, ActionStarted

    last_probe: dict[str, AuditEvent] = {}
    for e in events:
        if e.kind == "probe" and e.item:
            last_probe[e.item] = e
    section_of = {item.id: section.title for section in session.checklist.sections for item in section.items}
    rows = []
    for state in session.states():
        item = state.item
        row: dict[str, Any] = {"id": item.id, "title": item.title, "section": section_of.get(item.id, ""),
                               "required": item.required, "status": state.label, "operator": None, "host": None,
                               "at": None, "note": None, "run_id": None, "text": ""}
        probe = last_probe.get(item.id)
        if item.done_before:
            row["text"] = "done before the console"
        elif state.signoff is not None:
            s = state.signoff
            row.update(operator=s.operator, host=s.host, at=s.ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), note=s.note)
            row["text"] = f"signed by {s.operator} at {when(row['at'])}" + (f": {s.note}" if s.note else "")
        elif isinstance(state.action, (ActionStarted, ActionFinished)):
            a = state.action
            run_id = a.run_id
            start = by_id.get(run_id)
            row.update(run_id=run_id, operator=start.operator if start else None,
                       at=start.ts if start else None)
            if isinstance(a, ActionFinished):
                row["text"] = f"{a.action} {a.status} in {a.duration_s:.1f}s (run #{run_id}): {a.outcome.message}"
            else:
                row["text"] = f"{a.action} running since {when(row['at'])} (run #{run_id})"
        elif state.probe is not None or probe is not None:
            status = state.probe.status.value if state.probe is not None else (probe.status or "")
            reason = state.probe.reason if state.probe is not None else probe.message
            row["status"] = status
            if probe is not None:
                row.update(at=probe.ts, operator=probe.operator)
            row["text"] = f"probe {status}: {reason}" + (f" (last change {when(row['at'])})" if row["at"] else "")
        else:
            row["text"] = "open" + ("" if item.required else " (optional)")
        rows.append(row)
    return rows


# -- Markdown ------------------------------------------------------------------------------------------
def _cell(text: Any, width: int | None = None) -> str:
    from hunter_console.audit.export import _cell as cell

    return cell("" if text is None else str(text), width)


def _size(n: Any) -> str:
    if not isinstance(n, int):
        return ""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, (int, float)):
        return ""
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def report_markdown(report: ReleaseReport, *, event_log: bool = True) -> str:
    from hunter_console.audit.export import chain_line, what

    scope = " on ".join(p for p in (report.release or "all releases", report.environment) if p)
    out = [f"# Release record: {scope}", "",
           f"Generated {when(report.generated_at)} by hunter-console from the audit log.", ""]

    out += ["## Decision", ""]
    d = report.decision
    if d:
        out.append(f"**{d['verdict']}** by {d['operator']} ({d['host']}) at {when(d['at'])}")
        out.append("")
        out.append(f"Reason: {d['reason'] or '(none given)'}")
        if d["open_items"]:
            out.append(f"Open required items when decided: {', '.join(d['open_items'])}")
        if d["earlier"]:
            out.append(f"({d['earlier']} earlier decision(s) in the log; this is the latest.)")
    else:
        out.append("No GO / NO-GO decision recorded.")
    if report.gate:
        left = report.gate["open_items"]
        out.append("")
        out.append(f"Gate now: {report.gate['verdict']}" + (f" ({len(left)} required item(s) open)" if left else ""))
    out.append("")

    if report.checklist is not None:
        counts: dict[str, int] = {}
        for row in report.checklist:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
        out += [f"## Checklist ({len(report.checklist)} items: {summary})", ""]
        section = None
        for row in report.checklist:
            if row["section"] != section:
                section = row["section"]
                out += ([] if out[-1] == "" else [""]) + [f"### {section}", "", "| item | status | detail |",
                                                          "|---|---|---|"]
            title = row["title"] + ("" if row["required"] else " (optional)")
            out.append(f"| {_cell(title, 90)} | {row['status']} | {_cell(row['text'], 200)} |")
        out.append("")

    out += [f"## Sign-offs ({sum(1 for s in report.signoffs if s['kind'] == 'signoff')})", ""]
    if report.signoffs:
        out += ["| time (UTC) | operator | from | item | note |", "|---|---|---|---|---|"]
        for s in report.signoffs:
            tag = "" if s["kind"] == "signoff" else " (WITHDRAWN)"
            out.append(f"| {when(s['at'])[:19]} | {_cell(s['operator'])} | {_cell(s['host'])} | "
                       f"{_cell(s['title'], 80)}{tag} | {_cell(s['note'], 160)} |")
    else:
        out.append("No sign-offs recorded.")
    out.append("")

    out += [f"## Actions ({len(report.actions)})", ""]
    if report.actions:
        out += ["| run | started (UTC) | operator | action | item | duration | outcome | lines |",
                "|---:|---|---|---|---|---:|---|---:|"]
        for a in report.actions:
            outcome = f"{(a['status'] or '').upper()}: {a['outcome']}"
            out.append(f"| {a['run_id']} | {when(a['started'])[:19]} | {_cell(a['operator'])} | {_cell(a['action'])} | "
                       f"{_cell(a['item'])} | {_duration(a['duration_s'])} | {_cell(outcome, 160)} | "
                       f"{a['lines'] if a['lines'] is not None else ''} |")
        for a in report.actions:
            if a["reconciliation"]:
                r = a["reconciliation"]
                out.append("")
                out.append(f"Run {a['run_id']} ({a['action']}) was interrupted; reconciled: "
                           + "; ".join(f"{k} = {_cell(v, 120)}" for k, v in r.items()))
    else:
        out.append("No actions recorded.")
    out.append("")

    out += [f"## Backups ({len(report.backups)})", ""]
    if report.backups:
        out += ["| taken (UTC) | run | path | size | sha256 |", "|---|---:|---|---:|---|"]
        for b in report.backups:
            out.append(f"| {when(b['taken'])[:19]} | {b['run_id']} | {_cell(b['path'])} | {_size(b['size'])} | "
                       f"`{b['sha256']}` |")
    else:
        out.append("No backups recorded.")
    out.append("")

    out += [f"## Refusals and takeovers ({len(report.refusals) + len(report.takeovers)})", ""]
    rows = sorted([("refused", r["at"], r["operator"], r["host"], r["action"] or r["item"] or "", r["reason"])
                   for r in report.refusals]
                  + [("takeover", t["at"], t["operator"], t["host"], t["action"] or "", t["message"])
                     for t in report.takeovers], key=lambda r: r[1])
    if rows:
        out += ["| time (UTC) | what | operator | from | action | why |", "|---|---|---|---|---|---|"]
        for kind, at, op, host, act, why in rows:
            out.append(f"| {when(at)[:19]} | {kind} | {_cell(op)} | {_cell(host)} | {_cell(act)} | {_cell(why, 200)} |")
    else:
        out.append("Nothing was refused or taken over.")
    out.append("")

    if event_log:
        shown = [e for e in report.events if e.kind not in OUTPUT_KINDS]
        hidden = len(report.events) - len(shown)
        out += [f"## Event log ({len(shown)} events" + (f"; {hidden} output rows left out, see "
                                                         f"`audit export -f events-md`" if hidden else "") + ")", ""]
        if shown:
            out += ["| # | time (UTC) | operator | origin | kind | item / action | status | message |",
                    "|---:|---|---|---|---|---|---|---|"]
            for e in shown:
                out.append(f"| {e.id} | {e.ts.replace('T', ' ').rstrip('Z')[:19]} | {_cell(e.operator)} | "
                           f"{_cell(e.host)} | {_cell(e.kind)} | {_cell(what(e))} | {_cell(e.status)} | "
                           f"{_cell(e.message, 200)} |")
        else:
            out.append("No events recorded.")
        out.append("")

    v = report.verified
    out += ["## Integrity", "", chain_line(v)]
    if v.ok:
        out.append(f"Verified head hash: `{v.head_hash}` (event #{v.head_id}, {v.checked} events checked)")
    out.append("")
    return redact("\n".join(out).rstrip("\n") + "\n")


# -- JSON and CSV ---------------------------------------------------------------------------------------
def report_json(report: ReleaseReport) -> str:
    return json.dumps(redact_obj(report.to_dict()), indent=2, ensure_ascii=False) + "\n"


def report_rows(report: ReleaseReport) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in report.checklist or []:
        rows.append({"type": "item", "ref": item["id"], "title": item["title"], "section": item["section"],
                     "status": item["status"], "operator": item["operator"], "host": item["host"], "at": item["at"],
                     "run_id": item["run_id"], "detail": item["text"]})
    for a in report.actions:
        rows.append({"type": "action", "ref": a["action"], "title": a["item"], "status": a["status"],
                     "operator": a["operator"], "host": a["host"], "at": a["started"], "duration_s": a["duration_s"],
                     "lines": a["lines"], "run_id": a["run_id"], "detail": a["outcome"]})
    for b in report.backups:
        rows.append({"type": "backup", "ref": b["action"], "status": b["status"], "at": b["taken"],
                     "run_id": b["run_id"], "path": b["path"], "size": b["size"], "sha256": b["sha256"]})
    if report.decision:
        d = report.decision
        rows.append({"type": "decision", "ref": d["verdict"].lower(), "status": d["verdict"], "operator": d["operator"],
                     "host": d["host"], "at": d["at"], "detail": d["reason"]})
    for s in report.signoffs:
        rows.append({"type": s["kind"], "ref": s["item"], "title": s["title"], "operator": s["operator"],
                     "host": s["host"], "at": s["at"], "detail": s["note"]})
    for r in report.refusals:
        rows.append({"type": "refused", "ref": r["action"] or r["item"], "operator": r["operator"], "host": r["host"],
                     "at": r["at"], "detail": r["reason"]})
    for t in report.takeovers:
        rows.append({"type": "lock.takeover", "ref": t["action"], "operator": t["operator"], "host": t["host"],
                     "at": t["at"], "detail": t["message"]})
    v = report.verified
    rows.append({"type": "chain", "ref": v.head_id, "status": "verified" if v.ok else "FAILED", "sha256": v.head_hash,
                 "detail": v.reason if v.ok else f"event #{v.first_bad}: {v.reason}"})
    return rows


def report_csv(report: ReleaseReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_REPORT_COLUMNS)
    for row in report_rows(report):
        writer.writerow([redact("" if row.get(c) is None else str(row.get(c))) for c in CSV_REPORT_COLUMNS])
    return out.getvalue()
