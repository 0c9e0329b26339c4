"""`hunter-console audit list|show|verify|export`: output, exits, one-line errors, no tracebacks."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from hunter_console.audit import AuditLog
from hunter_console.cli import app

from audit_helpers import WHO, tamper

runner = CliRunner()
ENV = {"SSH_CONNECTION": "192.0.2.77 1 192.0.2.1 22", "HUNTER_CONFIG": "", "COLUMNS": "80"}


def run(db, *args, release="v1.0.0", env_name=None):
    opts = ["--audit", str(db), "--release", release]
    if env_name:
        opts += ["--env", env_name]
    result = runner.invoke(app, [*opts, "audit", *args], env=ENV)
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    who = {**WHO, "environment": "local"}
    log.append(kind="session.open", **who, message="console opened on local for v1.0.0")
    log.append(kind="probe", **who, item="health-endpoint", status="PASS", message="GET /healthz 200 in 12 ms")
    log.append(kind="signoff", **who, item="backup-taken", status="signed",
               message="backup checked by hand " + "and a very long explanation " * 6,
               detail={"note": "checked", "dsn": "postgresql://u:secret@h/d"})
    log.append(kind="action.start", **who, action="migrate", message="alembic upgrade head")
    log.append(kind="action.end", **who, action="migrate", status="ok", message="migrated | to 0008")
    log.append(kind="decision", **{**who, "release": "v0.9.0"}, status="go", message="old release GO")
    log.close()
    return path


def test_list_table_fits_80_columns(db):
    result = run(db, "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["id", "time", "who", "from", "kind", "item/action", "status", "message"]
    assert len(lines) == 7
    assert all(len(line) <= 80 for line in lines), [len(l) for l in lines]
    assert "192.0.2.10" in result.output and "backup-ta" in result.output and "action.start" in result.output
    assert "…" in lines[3]  # the long message is cut, not wrapped


def test_list_filters_limit_and_json(db):
    assert len(run(db, "list", "--release", "v0.9.0").output.splitlines()) == 2
    assert len(run(db, "list", "--kind", "probe").output.splitlines()) == 2
    assert "alembic upgrade" in run(db, "list", "--search", "alembic").output
    limited = run(db, "list", "--limit", "2").output.splitlines()
    assert [l.split()[0] for l in limited[1:]] == ["5", "6"]  # the latest two, oldest first
    rows = json.loads(run(db, "list", "--json").output)
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[2]["detail"] == {"note": "checked", "dsn": "***"}
    assert run(db, "list", "--kind", "nothing").output.strip() == "no audit events match"


def test_show_prints_every_field_and_pretty_detail(db):
    result = run(db, "show", "3")
    assert result.exit_code == 0
    for field in ("id", "ts", "release", "environment", "operator", "host", "kind", "item", "message",
                  "prev_hash", "hash", "detail:"):
        assert any(line.startswith(field) for line in result.output.splitlines()), field
    assert '  "note": "checked"' in result.output and "secret" not in result.output
    assert json.loads(run(db, "show", "3", "--json").output)["item"] == "backup-taken"


def test_show_unknown_id_is_one_line_exit_1(db):
    result = run(db, "show", "99")
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"hunter-console: no audit event #99 in {db}"]
    assert run(db, "show", "abc").exit_code == 2


def test_verify_intact_and_tampered(db, tmp_path):
    result = run(db, "verify")
    assert result.exit_code == 0
    head = AuditLog(db, create=False).head()
    assert result.output.strip() == f"audit log intact: 6 events, head #6 {head[1][:12]}"
    tamper(db, "UPDATE events SET message = 'no backup needed' WHERE id = 3")
    bad = run(db, "verify")
    assert bad.exit_code == 1
    assert bad.output.strip().splitlines() == ["audit log TAMPERED: event #3: its content does not match its hash (edited)"]
    assert json.loads(run(db, "verify", "--json").output)["first_bad"] == 3


def test_verify_truncated(db):
    tamper(db, "DELETE FROM events WHERE id >= 5")
    result = run(db, "verify")
    assert result.exit_code == 1
    assert "audit log TAMPERED: event #5: log ends at 4 but the anchor says 6 (truncated)" in result.output


def test_export_md_json_csv(db, tmp_path):
    md = run(db, "export", "--format", "md")
    assert md.exit_code == 0
    assert md.output.startswith("# Release record: v1.0.0 on local")
    assert "| 3 |" in md.output and "old release GO" not in md.output  # scoped to the release
    assert "migrated \\| to 0008" in md.output  # a pipe cannot break the table
    head = AuditLog(db, create=False).head()
    assert f"Chain verified: head #6 {head[1]}" in md.output
    assert ":secret@" not in md.output  # the DSN's password (the checklist has an item about secrets)

    data = json.loads(run(db, "export", "-f", "json").output)
    assert [e["id"] for e in data["events"]] == [1, 2, 3, 4, 5]
    assert data["verified"]["ok"] is True and data["verified"]["head"]["id"] == 6

    everything = json.loads(run(db, "export", "-f", "json", "--all").output)
    assert len(everything["events"]) == 6

    rows = list(csv.reader(io.StringIO(run(db, "export", "-f", "events-csv").output)))
    assert rows[0][:3] == ["id", "ts", "release"] and len(rows) == 6
    assert json.loads(rows[3][rows[0].index("detail")]) == {"dsn": "***", "note": "checked"}

    out = tmp_path / "record.md"
    written = run(db, "export", "--format", "md", "-o", str(out))
    assert written.exit_code == 0 and out.read_text().startswith("# Release record")


def test_export_shows_a_failed_verification(db):
    tamper(db, "DELETE FROM events WHERE id = 2")
    md = run(db, "export")
    assert md.exit_code == 0
    assert "Chain verification FAILED: event #2" in md.output


def test_export_bad_format_and_unwritable_output(db, tmp_path):
    bad = run(db, "export", "--format", "pdf")
    assert bad.exit_code == 2
    assert bad.output.strip().splitlines() == ["hunter-console: unknown export format 'pdf' "
                                                  "(use md, json, csv, events-md, events-json, events-csv)"]
    nowhere = run(db, "export", "-o", str(tmp_path / "no" / "such" / "dir" / "x.md"))
    assert nowhere.exit_code == 1 and len(nowhere.output.strip().splitlines()) == 1


@pytest.mark.parametrize("args", [["list"], ["show", "1"], ["verify"], ["export"], ["export", "-f", "csv"]])
def test_missing_db_is_one_line_and_not_created(tmp_path, args):
    db = tmp_path / "nothing.db"
    result = run(db, *args)
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"hunter-console: no audit log at {db}"]
    assert not db.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize("args", [["list"], ["show", "1"], ["verify"], ["export", "-f", "json"]])
def test_corrupt_or_foreign_file_is_one_line(tmp_path, args):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x00garbage, not SQLite\n" * 200)
    result = run(junk, *args)
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "not a usable audit database" in result.output
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    result = run(empty, *args)
    assert result.exit_code == 1 and "not an audit log" in result.output


def test_reading_commands_do_not_write(db):
    before = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.is_file()}
    for args in (["list"], ["show", "2"], ["verify"], ["export", "-f", "json"]):
        run(db, *args)
    after = {p.name: p.read_bytes() for p in db.parent.iterdir() if p.is_file() and not p.name.endswith(("-wal", "-shm"))}
    assert {k: v for k, v in before.items() if not k.endswith(("-wal", "-shm"))} == after
