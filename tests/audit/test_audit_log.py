"""AuditLog: appending, the chain, redaction, append-only triggers, queries, the anchor."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from hunter_console import redact
from hunter_console.audit import ANCHOR_KINDS, GENESIS, AuditError, AuditLog, canonical_json, read_anchor

from audit_helpers import WHO, fill

SECRET_URL = "postgresql://u:secret@h/d"


def test_empty_log_has_genesis_head_and_verifies(tmp_path):
    log = AuditLog(tmp_path / "deep" / "dir" / "audit.db")
    assert log.path.is_file()
    assert log.head() == (0, GENESIS) == (0, "0" * 64)
    result = log.verify()
    assert (result.ok, result.checked, result.first_bad) == (True, 0, None)
    log.close()


def test_pragmas_wal_full_and_busy_timeout(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    conn = log.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 30000
    log.close()


def test_append_chains_each_event_to_the_previous(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    first = log.append(kind="session.open", **WHO, message="console opened")
    second = log.append(kind="signoff", **WHO, item="backup-taken", status="signed", message="ok",
                        detail={"note": "looked", "n": 1.5, "tags": ("a", "b")})
    assert (first.id, second.id) == (1, 2)
    assert first.prev_hash == GENESIS and second.prev_hash == first.hash
    assert second.detail == {"note": "looked", "n": 1.5, "tags": ["a", "b"]}
    assert first.ts.endswith("Z") and "." in first.ts and first.ts < second.ts
    # the documented recipe, recomputed by hand
    row = {k: v for k, v in second.to_dict().items() if k != "hash"}
    expected = hashlib.sha256((second.prev_hash + json.dumps(row, sort_keys=True, separators=(",", ":"),
                                                             ensure_ascii=False)).encode()).hexdigest()
    assert second.hash == expected
    assert log.head() == (2, second.hash)
    assert log.get(2) == second
    assert log.verify().ok
    log.close()


def test_stored_detail_is_canonical_json_and_reloads_identically(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    event = log.append(kind="probe", **WHO, detail={"b": [1, {"z": None}], "a": "é"})
    stored = log.conn.execute("SELECT detail FROM events WHERE id=1").fetchone()[0]
    assert stored == canonical_json({"a": "é", "b": [1, {"z": None}]})
    log.close()
    again = AuditLog(tmp_path / "audit.db")
    assert again.get(1) == event
    again.close()


def test_secrets_never_reach_the_database_files(tmp_path):
    redact.register_secret("hunter2-registered-value")
    db = tmp_path / "audit.db"
    log = AuditLog(db)
    log.append(kind="action.output", **WHO, action="migrate",
               message=f"connecting to {SECRET_URL} with hunter2-registered-value",
               detail={"url": SECRET_URL, "nested": [{"dsn": SECRET_URL}], "password": "plain-pw"})
    log.append_many([dict(kind="action.output", **WHO, message=f"line {SECRET_URL}", detail={"x": SECRET_URL})])
    event = log.get(1)
    assert "secret" not in event.message and "***" in event.message
    assert "hunter2-registered-value" not in event.message
    assert event.detail["password"] == "***"
    assert log.verify().ok
    # while open (WAL) and after close (checkpointed): no byte of any file holds a secret
    for phase in ("open", "closed"):
        blob = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
        for secret in (b"u:secret@", b"plain-pw", b"hunter2-registered-value"):
            assert secret not in blob, (phase, secret)
        if phase == "open":
            log.close()


def test_update_and_delete_are_refused(tmp_path):
    db = tmp_path / "audit.db"
    log = AuditLog(db)
    fill(log, 3)
    conn = sqlite3.connect(db)
    for sql in ("UPDATE events SET message = 'rewritten' WHERE id = 2", "DELETE FROM events WHERE id = 3",
                "DELETE FROM events"):
        with pytest.raises(sqlite3.DatabaseError, match="audit log is append-only"):
            conn.execute(sql)
    conn.close()
    assert [e.message for e in log.events()] == ["event number 1", "event number 2", "event number 3"]
    assert log.verify().ok
    log.close()


def test_append_many_is_one_transaction_all_or_none(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    fill(log, 2)
    rows = [dict(kind="action.output", **WHO, action="migrate", message=f"line {i}") for i in range(100)]
    events = log.append_many(rows)
    assert [e.id for e in events] == list(range(3, 103))
    assert events[0].prev_hash == log.get(2).hash
    with pytest.raises((TypeError, ValueError)):
        log.append_many([dict(kind="action.output", **WHO), dict(kind="", **WHO)])
    with pytest.raises(TypeError):
        log.append_many([dict(kind="x", **WHO, colour="red")])
    assert log.head()[0] == 102 and log.verify().checked == 102
    assert log.append_many([]) == []
    log.close()


def test_events_filters_search_and_order(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    log.append(kind="session.open", **WHO, message="console opened")
    log.append(kind="action.start", **WHO, action="migrate", message="alembic upgrade head")
    log.append(kind="action.output", **WHO, action="migrate", message="Running upgrade 0007 -> 0008, add leads")
    log.append(kind="action.end", **WHO, action="migrate", status="ok", message="migrated to 0008")
    log.append(kind="signoff", **{**WHO, "release": "v0.9.0"}, item="backup-taken", message="old release")
    log.append(kind="decision", **{**WHO, "environment": "production"}, status="go", message="GO 100%_done")

    assert [e.id for e in log.events(release="v1.0.0", environment="staging")] == [1, 2, 3, 4]
    assert [e.id for e in log.events(kind="signoff")] == [5]
    assert [e.id for e in log.events(item="backup-taken")] == [5]
    assert [e.id for e in log.events(action="migrate", newest_first=True)] == [4, 3, 2]
    assert [e.id for e in log.events(action="migrate", newest_first=True, limit=1)] == [4]
    assert [e.id for e in log.events(since_id=4)] == [5, 6]
    assert [e.id for e in log.events(search="upgrade")] == [2, 3]
    assert [e.id for e in log.events(search="migr")] == [4]  # word prefix
    assert [e.id for e in log.events(search="upgrade leads")] == [3]  # every word
    assert [e.id for e in log.events(search="100%_")] == [6]  # punctuation is harmless
    assert log.events(search='"; DROP TABLE events; --') == []
    assert [e.id for e in log.events(search="%")] == [6]  # no words: a literal substring
    assert log.events(search="#") == []
    assert log.events(kind="nothing") == []
    assert len(log.events(limit=0)) == 0
    with pytest.raises(KeyError):
        log.get(99)
    log.close()


def test_indexes_are_composite_and_used(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    indexes = {row["name"]: row for row in log.db.query("SELECT name, sql FROM sqlite_master WHERE type='index'")}
    for name in ("idx_events_release_environment_id", "idx_events_kind_id", "idx_events_item_id",
                 "idx_events_action_ts"):
        assert name in indexes
    plan = " ".join(str(r) for r in log.conn.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM events WHERE action = ? ORDER BY ts DESC LIMIT 100", ("migrate",)))
    assert "idx_events_action_ts" in plan and "TEMP B-TREE" not in plan
    log.close()


def test_anchor_follows_anchor_kinds_and_close(tmp_path):
    db = tmp_path / "audit.db"
    anchor = tmp_path / "audit.db.anchor"
    assert ANCHOR_KINDS == {"signoff", "signoff.withdrawn", "decision", "action.end"}
    log = AuditLog(db)
    fill(log, 3)
    assert not anchor.exists()
    decision = log.append(kind="decision", **WHO, status="go", message="GO")
    assert json.loads(anchor.read_text()) == {"seq": 4, "hash": decision.hash}
    fill(log, 2)
    assert read_anchor(anchor)[0] == 4
    log.append_many([dict(kind="action.output", **WHO, message="x"), dict(kind="action.end", **WHO, message="ok"),
                     dict(kind="action.output", **WHO, message="late line")])
    assert read_anchor(anchor) == log.head()  # the batch's head, #9
    fill(log, 1)
    log.close()
    assert read_anchor(anchor) == (10, AuditLog(db).get(10).hash)
    assert not list(tmp_path.glob("*.tmp"))
    log.close()  # twice is fine


def test_an_older_writer_never_moves_the_anchor_backwards(tmp_path):
    db = tmp_path / "audit.db"
    one, two = AuditLog(db), AuditLog(db)
    one.append(kind="probe", **WHO)
    two.append(kind="signoff", **WHO, item="x")
    assert read_anchor(tmp_path / "audit.db.anchor")[0] == 2
    one.close()  # one's own last append was #1; the anchor stays at the head
    assert read_anchor(tmp_path / "audit.db.anchor")[0] == 2
    two.close()


def test_reading_does_not_create_and_bad_files_are_one_error(tmp_path):
    missing = tmp_path / "none.db"
    with pytest.raises(AuditError, match="no audit log at"):
        AuditLog(missing, create=False)
    assert not missing.exists()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all\n" * 100)
    for create in (True, False):
        with pytest.raises(AuditError, match="not a usable audit database"):
            AuditLog(junk, create=create)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(AuditError, match="not an audit log"):
        AuditLog(other, create=False)


def test_reopening_keeps_the_chain(tmp_path):
    db = tmp_path / "audit.db"
    log = AuditLog(db)
    fill(log, 5)
    log.close()
    log = AuditLog(db)
    fill(log, 5)
    result = log.verify()
    assert (result.ok, result.checked, result.head_id) == (True, 10, 10)
    log.close()
