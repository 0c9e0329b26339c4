"""hunter_console.history: page (keyset, filters, full-text), count, facets, run replay, and the
schema migration that gives an older log the indexes these need."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hunter_console import history
from hunter_console.audit import AuditLog
from hunter_console.audit.log import INDEXES, SCHEMA_VERSION, index_name
from hunter_console.history import HistoryFilter as F

WHO = dict(release="v1.0.0", environment="staging", operator="alice", host="ssh 192.0.2.10")
SQLITE_UTILS = Path(sys.executable).parent / "sqlite-utils"


def fake_run(log: AuditLog, action: str = "migrate", *, lines: list[tuple[str, str]], end: bool = True, **who):
    """A run as the runner records it: action.start, output batches, progress, action.end."""
    who = {**WHO, **who}
    start = log.append(kind="action.start", **who, action=action, status="running", message=f"{action} started",
                       detail={"nonce": "n", "pid": 1, "plan": [f"alembic upgrade head on {who['environment']}"]})
    first = 1
    for batch in (lines[:2], lines[2:]):
        if not batch:
            continue
        detail = {"run": start.id, "first": first, "count": len(batch)}
        streams = [s for s, _ in batch]
        if set(streams) != {"stdout"}:
            detail["streams"] = streams
        log.append(kind="action.output", **who, action=action, message="\n".join(t for _, t in batch), detail=detail)
        log.append(kind="action.progress", **who, action=action, message="step", detail={"run": start.id, "done": 1})
        first += len(batch)
    if end:
        log.append(kind="action.end", **who, action=action, status="ok", message="schema migrated",
                   detail={"run": start.id, "exit_code": 0, "duration_s": 4.25, "lines": len(lines),
                           "artifacts": [{"path": "/b/x.dump", "size": 10, "sha256": "ab" * 32, "kind": "backup"}]})
    return start.id


@pytest.fixture
def log(tmp_path):
    log = AuditLog(tmp_path / "audit.db")
    yield log
    log.close()


def test_page_is_newest_first_and_keyset_pages_cover_everything_once(log):
    for i in range(1, 126):
        log.append(kind="probe", **{**WHO, "operator": ("alice", "bob")[i % 2]}, item=f"item-{i % 7}",
                   status=("PASS", "FAIL")[i % 3 == 0], message=f"probe number {i} health check")
    seen, before = [], None
    while True:
        page = history.page(log, filters=F(operator="bob"), before_id=before, limit=20)
        if not page:
            break
        assert [e.id for e in page] == sorted((e.id for e in page), reverse=True)
        seen += [e.id for e in page]
        before = page[-1].id
    assert seen == [i for i in range(125, 0, -1) if i % 2 == 1]  # bob's, each once, newest first
    assert [e.id for e in history.page(log, limit=3)] == [125, 124, 123]
    assert [e.id for e in history.page(log, before_id=3)] == [2, 1]
    assert history.page(log, before_id=1) == []


def test_filters_combine_and_text_uses_the_full_text_index(log):
    log.append(kind="session.open", **WHO, message="console opened on staging for v1.0.0")
    log.append(kind="probe", **WHO, item="health", status="FAIL", message="GET /healthz 503 after 3000 ms")
    log.append(kind="probe", **{**WHO, "environment": "production"}, item="health", status="FAIL",
               message="GET /healthz 503 after 2000 ms")
    log.append(kind="refused", **{**WHO, "operator": "bob"}, action="deploy", status="refused",
               message="deploy gate: no verified backup")
    log.append(kind="decision", **{**WHO, "release": "v0.9.0"}, status="no-go", message="health checks failing")
    assert log.has_fts
    assert [e.id for e in history.page(log, filters=F(kind="probe", status="FAIL"))] == [3, 2]
    assert [e.id for e in history.page(log, filters=F(kind="probe", environment="production"))] == [3]
    assert [e.id for e in history.page(log, filters=F(text="healthz"))] == [3, 2]  # words, not substrings
    assert [e.id for e in history.page(log, filters=F(text="health"))] == [5, 3, 2]  # each word a prefix
    assert [e.id for e in history.page(log, filters=F(text="verified back", operator="bob"))] == [4]
    assert history.page(log, filters=F(text="healthz", release="v2.0.0")) == []
    assert history.page(log, filters=F(kind="nothing")) == []
    # time bounds: since inclusive, until exclusive, datetimes or ISO text
    third = log.get(3)
    assert [e.id for e in history.page(log, filters=F(since=third.ts))] == [5, 4, 3]
    assert [e.id for e in history.page(log, filters=F(until=third.ts))] == [2, 1]
    assert [e.id for e in history.page(log, filters=F(since=third.time, until=log.get(5).time))] == [4, 3]
    assert [e.id for e in history.page(log, filters=F(since="2000-01-01", until="2000-01-02"))] == []
    # count: exact under the cap, a lower bound at it
    assert history.count(log, F(kind="probe")) == history.HistoryCount(2, False)
    capped = history.count(log, F(), cap=3)
    assert (capped.n, capped.capped, str(capped)) == (3, True, "3+")
    assert int(history.count(log, F(text="healthz"))) == 2
    f = history.facets(log)
    assert f.releases == ["v0.9.0", "v1.0.0"] and f.environments == ["production", "staging"]
    assert f.kinds == ["decision", "probe", "refused", "session.open"] and f.operators == ["alice", "bob"]
    assert f.statuses == ["FAIL", "no-go", "refused"]


def test_run_output_replays_a_stored_action_and_run_summary_tells_how_it_ended(log):
    log.append(kind="probe", **WHO, item="x", status="PASS", message="before the run")
    lines = [("console", "$ alembic current"), ("stdout", "c3e5a7b9d1f4"),
             ("stderr", "INFO  Running upgrade c3e5a7b9d1f4 -> f786f93501ea"), ("stdout", "f786f93501ea (head)")]
    run = fake_run(log, lines=lines)
    other = fake_run(log, "backup", lines=[("stdout", "another run's line")], end=False)
    assert history.run_output(log, run) == lines
    assert history.run_output(log, other) == [("stdout", "another run's line")]
    s = history.run_summary(log, run)
    assert (s.action, s.status, s.duration_s, s.lines, s.exit_code, s.finished) == ("migrate", "ok", 4.25, 4, 0, True)
    assert s.artifacts == [{"path": "/b/x.dump", "size": 10, "sha256": "ab" * 32, "kind": "backup"}]
    assert s.plan == ["alembic upgrade head on staging"] and s.operator == "alice"
    running = history.run_summary(log, other)
    assert (running.status, running.ended, running.lines, running.duration_s) == ("running", None, 1, None)
    assert [r.run_id for r in history.runs(log)] == [other, run]
    with pytest.raises(KeyError, match="not an action.start"):
        history.run_output(log, 1)
    with pytest.raises(KeyError):
        history.run_summary(log, 999)


def test_an_older_log_gains_the_indexes_when_a_writer_opens_it_and_readers_leave_it_alone(tmp_path):
    path = tmp_path / "audit.db"
    log = AuditLog(path)
    fake_run(log, lines=[("stdout", "one")])
    log.close()
    conn = sqlite3.connect(path)  # what a version-1 log looks like: only its four indexes
    for columns in INDEXES[4:]:
        conn.execute(f'DROP INDEX "{index_name(columns)}"')
    conn.execute("DROP INDEX idx_events_run")
    conn.execute("PRAGMA user_version=1")
    conn.commit()
    conn.close()

    def indexes() -> set[str]:
        with sqlite3.connect(path) as c:
            return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='index' AND sql IS NOT NULL")}

    reader = AuditLog(path, create=False)
    assert history.run_output(reader, 1) == [("stdout", "one")]  # correct without the indexes, only slower
    reader.close()
    assert "idx_events_run" not in indexes()
    for _ in range(2):  # idempotent
        AuditLog(path).close()
        assert indexes() >= {index_name(c) for c in INDEXES} | {"idx_events_run"}
    with sqlite3.connect(path) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert AuditLog(path, create=False).verify().ok


def test_the_log_stays_a_plain_sqlite_file_for_the_sqlite_utils_cli(log):
    fake_run(log, lines=[("stdout", "hello")])
    log.close()
    tables = subprocess.run([str(SQLITE_UTILS), "tables", str(log.path), "--counts"], capture_output=True,
                            text=True, timeout=60)
    assert tables.returncode == 0, tables.stderr
    listed = {t["table"]: t["count"] for t in json.loads(tables.stdout)}
    assert listed["events"] == 4 and "events_fts" in listed
    rows = subprocess.run([str(SQLITE_UTILS), "rows", str(log.path), "events", "--limit", "1"], capture_output=True,
                          text=True, timeout=60)
    assert rows.returncode == 0, rows.stderr
    [row] = json.loads(rows.stdout)
    assert row["id"] == 1 and row["kind"] == "action.start" and len(row["hash"]) == 64
    assert json.loads(row["detail"])["plan"] == ["alembic upgrade head on staging"]
    search = subprocess.run([str(SQLITE_UTILS), "search", str(log.path), "events", "hello"], capture_output=True,
                            text=True, timeout=60)
    assert search.returncode == 0 and json.loads(search.stdout)[0]["kind"] == "action.output", search.stderr


# -- on the big log --------------------------------------------------------------------------------
def _reference(conn, where: str = "1", params=(), before: int | None = None, limit: int = 50) -> list[int]:
    """The same question answered the slow, obvious way: a scan in id order."""
    sql = f"SELECT id FROM events WHERE {where}" + (f" AND id < {before}" if before else "")
    return [r[0] for r in conn.execute(sql + " ORDER BY id DESC LIMIT ?", (*params, limit))]


def test_page_filter_and_search_are_correct_on_the_big_log(big_db):
    path, stats = big_db
    log = AuditLog(path)
    conn = sqlite3.connect(path)
    try:
        n = stats["events"]
        assert log.head() == (n, stats["head_hash"])
        mid = n // 2
        cases = [
            (F(release="v1.0.0"), "release = 'v1.0.0'"),
            (F(environment="production", kind="action.end"), "environment = 'production' AND kind = 'action.end'"),
            (F(operator="carol", status="FAIL"), "operator = 'carol' AND status = 'FAIL'"),
            (F(release="v1.2.0", environment="dr", kind="action.end", status="interrupted"),
             "release = 'v1.2.0' AND environment = 'dr' AND kind = 'action.end' AND status = 'interrupted'"),
            (F(kind="decision"), "kind = 'decision'"),
        ]
        for filters, where in cases:
            for before in (None, mid):
                got = [e.id for e in history.page(log, filters=filters, before_id=before)]
                assert got == _reference(conn, where, before=before), (filters, before)
                assert got or before, filters  # each case matches something
        # a time window, and one with an operator, against a scan
        t1, t2 = log.get(n // 10).ts, log.get(n // 10 + 3000).ts
        assert [e.id for e in history.page(log, filters=F(since=t1, until=t2))] == \
            _reference(conn, "ts >= ? AND ts < ?", (t1, t2))
        assert [e.id for e in history.page(log, filters=F(until=t2, operator="bob"))] == \
            _reference(conn, "ts < ? AND operator = 'bob'", (t2,))
        # full text: every hit contains the word, and none is missed (LIKE over the same rows)
        hits = history.page(log, filters=F(text="LockNotAvailable", release="v0.9.1"), limit=30)
        assert [e.id for e in hits] == _reference(conn, "message LIKE '%LockNotAvailable%' AND release = 'v0.9.1'",
                                                  limit=30)
        rehearsed = history.page(log, filters=F(text="rehearsed", environment="production"), before_id=mid)
        assert [e.id for e in rehearsed] == _reference(
            conn, "message LIKE '%rehearsed%' AND environment = 'production'", before=mid)
        assert history.page(log, filters=F(text="xyzzyplugh")) == []
        # count and facets
        decisions = conn.execute("SELECT count(*) FROM events WHERE kind='decision' AND release='v1.0.0'").fetchone()[0]
        assert history.count(log, F(kind="decision", release="v1.0.0")) == history.HistoryCount(decisions, False)
        assert history.count(log, F(kind="probe")) == history.HistoryCount(history.COUNT_CAP, True)
        f = history.facets(log)
        assert len(f.releases) == 12 and f.environments == ["dr", "local", "production", "staging"]
        assert "action.output" in f.kinds and len(f.operators) == 8 and "interrupted" in f.statuses
        # a run in the middle replays its stored lines; the summary agrees with its end
        run = history.page(log, filters=F(kind="action.start"), before_id=mid, limit=1)[0].id
        summary = history.run_summary(log, run)
        assert summary.finished and len(history.run_output(log, run)) == summary.lines
    finally:
        conn.close()
        log.close()


def test_the_big_log_is_a_valid_chain(big_db):
    path, stats = big_db
    log = AuditLog(path, create=False)
    try:
        result = log.verify()
        assert (result.ok, result.checked, result.head_hash) == (True, stats["events"], stats["head_hash"]), result
    finally:
        log.close()
