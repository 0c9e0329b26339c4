"""verify(): each kind of tampering is caught, and the first bad event is named with why."""

from __future__ import annotations

import json

from hunter_console.audit import AuditLog, row_hash

from audit_helpers import WHO, fill, tamper


def make(tmp_path, n=8, anchor_at=None):
    """n events; with anchor_at, the event at that id is a decision (which anchors)."""
    db = tmp_path / "audit.db"
    log = AuditLog(db)
    for i in range(1, n + 1):
        kind = "decision" if i == anchor_at else "probe"
        log.append(kind=kind, **WHO, item=f"item-{i}", status="PASS", message=f"event number {i}", detail={"i": i})
    log.conn.close()  # as if the process died: no close-time anchor
    return db


def check(db):
    log = AuditLog(db, create=False)
    try:
        return log.verify()
    finally:
        log.close()


def test_intact_log_verifies(tmp_path):
    result = check(make(tmp_path, anchor_at=8))
    assert (result.ok, result.checked, result.first_bad, result.head_id, result.anchor_seq) == (True, 8, None, 8, 8)


def test_edited_message_is_named(tmp_path):
    db = make(tmp_path)
    tamper(db, "UPDATE events SET message = 'nothing to see' WHERE id = 5")
    result = check(db)
    assert (result.ok, result.first_bad, result.checked) == (False, 5, 4)
    assert "edited" in result.reason


def test_edited_detail_and_status_are_named(tmp_path):
    db = make(tmp_path)
    tamper(db, "UPDATE events SET status = 'FAIL' WHERE id = 3")
    assert check(db).first_bad == 3
    db2 = make(tmp_path / "b")
    tamper(db2, "UPDATE events SET detail = '{\"i\": 99}' WHERE id = 2")
    assert check(db2).first_bad == 2
    db3 = make(tmp_path / "c")
    tamper(db3, "UPDATE events SET detail = 'not json' WHERE id = 6")
    result = check(db3)
    assert result.first_bad == 6 and "edited" in result.reason


def test_deleted_row_is_named(tmp_path):
    db = make(tmp_path)
    tamper(db, "DELETE FROM events WHERE id = 4")
    result = check(db)
    assert (result.ok, result.first_bad) == (False, 4)
    assert "missing" in result.reason and "deleted" in result.reason


def test_deleted_first_row_and_a_range(tmp_path):
    db = make(tmp_path)
    tamper(db, "DELETE FROM events WHERE id = 1")
    assert check(db).first_bad == 1
    db2 = make(tmp_path / "b")
    tamper(db2, "DELETE FROM events WHERE id IN (3, 4, 5)")
    result = check(db2)
    assert result.first_bad == 3 and "#3..#5" in result.reason


def test_swapped_rows_are_named(tmp_path):
    db = make(tmp_path)
    cols = "ts, release, environment, operator, host, kind, item, action, status, message, detail, prev_hash, hash"
    tamper(db,
           "CREATE TEMP TABLE a AS SELECT * FROM events WHERE id = 3",
           "CREATE TEMP TABLE b AS SELECT * FROM events WHERE id = 6",
           f"UPDATE events SET ({cols}) = (SELECT {cols} FROM b) WHERE id = 3",
           f"UPDATE events SET ({cols}) = (SELECT {cols} FROM a) WHERE id = 6")
    result = check(db)
    assert (result.ok, result.first_bad) == (False, 3)
    assert "content of event #6" in result.reason and "reordered" in result.reason


def test_swapped_messages_only_are_named(tmp_path):
    db = make(tmp_path)
    tamper(db,
           "UPDATE events SET message = (SELECT message FROM events WHERE id = 7) || '~' WHERE id = 2",
           "UPDATE events SET message = 'event number 2' WHERE id = 7",
           "UPDATE events SET message = 'event number 7' WHERE id = 2")
    assert check(db).first_bad == 2


def test_reordered_by_renumbering_is_named(tmp_path):
    db = make(tmp_path)
    tamper(db, "UPDATE events SET id = -1 WHERE id = 2", "UPDATE events SET id = 2 WHERE id = 5",
           "UPDATE events SET id = 5 WHERE id = -1")
    result = check(db)
    assert result.first_bad == 2 and "content of event #5" in result.reason


def test_truncated_tail_past_the_anchor(tmp_path):
    db = make(tmp_path, n=8, anchor_at=6)
    tamper(db, "DELETE FROM events WHERE id > 4")
    result = check(db)
    assert (result.ok, result.first_bad, result.checked, result.anchor_seq) == (False, 5, 4, 6)
    assert "log ends at 4 but the anchor says 6" in result.reason and "truncated" in result.reason


def test_truncated_tail_after_the_anchor_is_not_detectable_but_chain_is_ok(tmp_path):
    # events after the last anchor are only protected once something anchors them (or close())
    db = make(tmp_path, n=8, anchor_at=6)
    tamper(db, "DELETE FROM events WHERE id > 7")
    assert check(db).ok


def test_everything_deleted_is_truncation(tmp_path):
    db = make(tmp_path, n=3, anchor_at=3)
    tamper(db, "DELETE FROM events")
    result = check(db)
    assert result.first_bad == 1 and "log ends at 0 but the anchor says 3" in result.reason


def test_rewritten_chain_is_caught_by_the_anchor(tmp_path):
    """An attacker edits #3 and recomputes every hash after it: the chain is consistent again,
    but the anchor still holds the old head."""
    db = make(tmp_path, n=6, anchor_at=6)
    log = AuditLog(db)
    rows = [e.to_dict() for e in log.events()]
    log.conn.close()
    rows[2]["message"] = "nothing happened"
    statements = []
    for i, row in enumerate(rows):
        if i > 0:
            row["prev_hash"] = rows[i - 1]["hash"]
        row["hash"] = row_hash(row)
        statements.append(
            f"UPDATE events SET message = '{row['message']}', prev_hash = '{row['prev_hash']}', "
            f"hash = '{row['hash']}' WHERE id = {row['id']}")
    tamper(db, *statements)
    result = check(db)
    assert (result.ok, result.first_bad) == (False, 6)
    assert "anchor" in result.reason and "rewritten" in result.reason


def test_unreadable_anchor_is_reported(tmp_path):
    db = make(tmp_path, n=3, anchor_at=3)
    (tmp_path / "audit.db.anchor").write_text("{garbage")
    result = check(db)
    assert not result.ok and "anchor" in result.reason


def test_a_tampered_log_keeps_its_anchor(tmp_path):
    """Appending after tampering must not launder it: the anchor is not moved over evidence."""
    db = make(tmp_path, n=6, anchor_at=6)
    before = json.loads((tmp_path / "audit.db.anchor").read_text())
    tamper(db, "DELETE FROM events WHERE id > 3")
    log = AuditLog(db)
    fill(log, 5, last_kind="decision")
    log.close()
    assert json.loads((tmp_path / "audit.db.anchor").read_text()) == before
    assert not check(db).ok
