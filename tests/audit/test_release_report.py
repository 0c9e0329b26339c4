"""`audit export --format md|json|csv`: the release report as a team files it."""

from __future__ import annotations

import csv
import io
import json

from typer.testing import CliRunner

from hunter_console.audit import AuditLog
from hunter_console.checklist import load_checklist
from hunter_console.cli import app

runner = CliRunner()
ENV = {"SSH_CONNECTION": "192.0.2.77 1 192.0.2.1 22", "HUNTER_CONFIG": "", "COLUMNS": "80"}
WHO = dict(release="v1.0.0", environment="local", host="ssh 192.0.2.10")
SHA = "5e" * 32


def make_log(path):
    items = [i for i in load_checklist(None).items() if not i.done_before]
    signed, probed, acted = items[0], items[1], items[2]
    log = AuditLog(path)
    log.append(kind="session.open", **WHO, operator="alice", message="console opened")
    log.append(kind="signoff", **WHO, operator="bob", item=signed.id, status="signed", message="rehearsed",
               detail={"note": "restore rehearsed on staging", "title": signed.title})
    log.append(kind="probe", **WHO, operator="alice", item=probed.id, status="FAIL", message="GET /healthz 503")
    start = log.append(kind="action.start", **WHO, operator="carol", item=acted.id, action="backup", status="running",
                       message="backup started", detail={"plan": ["pg_dump"]})
    log.append(kind="action.output", **WHO, operator="carol", item=acted.id, action="backup",
               message="pg_dump: a\npg_dump: b", detail={"run": start.id, "first": 1, "count": 2})
    log.append(kind="action.end", **WHO, operator="carol", item=acted.id, action="backup", status="ok",
               message="backup verified", detail={"run": start.id, "exit_code": 0, "duration_s": 12.5, "lines": 2,
                                                  "artifacts": [{"path": "/srv/backups/v1.dump", "size": 2048,
                                                                 "sha256": SHA, "kind": "backup"}]})
    log.append(kind="refused", **WHO, operator="dave", action="deploy", status="refused",
               message="deploy gate: schema not at head")
    log.append(kind="lock.takeover", **WHO, operator="erin", action="rollback", status="takeover",
               message="rollback takes over from carol")
    log.append(kind="decision", **WHO, operator="alice", status="go", message="GO",
               detail={"verdict": "go", "reason": "all green after the rehearsal", "open_items": []})
    log.close()
    return signed, probed, acted


def export(db, *args):
    result = runner.invoke(app, ["--audit", str(db), "--release", "v1.0.0", "audit", "export", *args], env=ENV)
    assert result.exit_code == 0, result.output
    return result.output


def test_markdown_report_has_the_decision_checklist_actions_backups_and_head_hash(tmp_path):
    db = tmp_path / "audit.db"
    signed, probed, acted = make_log(db)
    md = export(db)
    head = AuditLog(db, create=False).head()[1]
    assert md.startswith("# Release record: v1.0.0 on local")
    assert "**GO** by alice (ssh 192.0.2.10)" in md and "Reason: all green after the rehearsal" in md
    assert "## Checklist" in md and "| DONE | done before the console |" in md
    assert f"| SIGNED | signed by bob at " in md and "restore rehearsed on staging" in md
    assert f"| FAIL | probe FAIL: GET /healthz 503" in md
    assert "| OK | backup ok in 12.5s (run #4): backup verified |" in md
    assert "| 4 | " in md and "| carol | backup |" in md and "| 12.5s | OK: backup verified | 2 |" in md
    assert f"| /srv/backups/v1.dump | 2.0 KiB | `{SHA}` |" in md
    assert "| refused | dave |" in md and "| takeover | erin |" in md
    assert f"Verified head hash: `{head}`" in md and f"Chain verified: head #9 {head}" in md
    assert "1 output rows left out" in md


def test_json_and_csv_carry_the_same_data(tmp_path):
    db = tmp_path / "audit.db"
    signed, probed, acted = make_log(db)
    data = json.loads(export(db, "-f", "json"))
    assert data["decision"]["verdict"] == "GO" and data["decision"]["operator"] == "alice"
    items = {i["id"]: i for i in data["checklist"]}
    assert items[signed.id]["status"] == "SIGNED" and items[signed.id]["operator"] == "bob"
    assert items[signed.id]["note"] == "restore rehearsed on staging"
    assert items[probed.id]["status"] == "FAIL" and items[acted.id]["status"] == "OK"
    [action] = data["actions"]
    assert (action["action"], action["duration_s"], action["lines"], action["status"]) == ("backup", 12.5, 2, "ok")
    assert data["backups"][0]["sha256"] == SHA
    assert data["refusals"][0]["reason"] == "deploy gate: schema not at head" and len(data["takeovers"]) == 1
    assert data["verified"]["ok"] and data["verified"]["head"]["id"] == 9
    assert len(data["events"]) == 9

    rows = list(csv.DictReader(io.StringIO(export(db, "-f", "csv"))))
    kinds = [r["type"] for r in rows]
    assert kinds.count("item") == len(data["checklist"]) and kinds.count("action") == 1
    signed_row = next(r for r in rows if r["type"] == "item" and r["ref"] == signed.id)
    assert signed_row["status"] == "SIGNED" and signed_row["operator"] == "bob"
    action_row = next(r for r in rows if r["type"] == "action")
    assert (action_row["duration_s"], action_row["lines"], action_row["detail"]) == ("12.5", "2", "backup verified")
    assert next(r for r in rows if r["type"] == "backup")["sha256"] == SHA
    chain = rows[-1]
    assert chain["type"] == "chain" and chain["status"] == "verified" and chain["sha256"] == data["verified"]["head"]["hash"]


def test_events_formats_keep_the_raw_trail_and_all_skips_the_checklist(tmp_path):
    db = tmp_path / "audit.db"
    make_log(db)
    raw = export(db, "-f", "events-md")
    assert raw.startswith("# Release record: v1.0.0 on local") and "pg_dump: a pg_dump: b" in raw
    everything = json.loads(export(db, "-f", "json", "--all"))
    assert everything["checklist"] is None and len(everything["actions"]) == 1
