"""A big, realistic audit log built fast: `build(path, n)` writes n events with a correct hash chain.

Used by tests/history (a session-cached fixture) and tests/benchmarks/bench_history.py.

The schema is the real one (AuditLog creates it: indexes, triggers, FTS5); the rows are generated
in a tight loop and hashed with `hunter_console.audit.chain.row_hash`, exactly as `append_many`
would, then inserted in one transaction (`synchronous=OFF` while building: it is a fixture). The
FTS index is filled by one 'rebuild' after the insert instead of a trigger per row, then the
trigger is put back as it was. ANALYZE is not run: the queries must be fast without statistics,
as they are on a log nobody analyzed.

What it holds (deterministic for a seed): 12 releases one after the other, 4 environments,
8 operators, runs of backup/migrate/deploy/verify/rollback (action.start, output batches of 1-40
lines with streams, progress, action.end with duration, lines and artifacts), probes with
PASS/WARN/FAIL, sign-offs with notes, decisions, refusals, lock takeovers, console opens.
"""

from __future__ import annotations

import queue
import random
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from hunter_console.audit import AuditLog
from hunter_console.audit.chain import COLUMNS, GENESIS, canonical_json, row_hash
from hunter_console.audit.log import write_anchor

RELEASES = [f"v{major}.{minor}.{patch}" for major, minor, patch in
            [(0, 9, 0), (0, 9, 1), (0, 9, 2), (1, 0, 0), (1, 0, 1), (1, 1, 0), (1, 1, 1), (1, 2, 0), (1, 2, 1),
             (1, 3, 0), (1, 3, 1), (1, 4, 0)]]
ENVIRONMENTS = ["staging", "production", "local", "dr"]
OPERATORS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
HOSTS = ["ssh 192.0.2.10", "ssh 192.0.2.11", "ssh 198.51.100.7", "local bastion-1"]
ACTIONS = ["backup", "migrate", "deploy", "verify", "rollback"]
ITEMS = ["backup-taken", "schema-at-head", "health-endpoint", "ready-endpoint", "error-rate", "p95-latency",
         "redis-ping", "sentry-receives", "g20-columns", "smoke-leads", "rate-limit", "metrics-scrape"]
PROBE_REASONS = ["GET /healthz 200 in {n} ms", "GET /healthz/ready 503 after {n} ms", "error rate {n}.2% over 5m",
                 "p95 latency {n} ms (budget 300 ms)", "redis PING in {n} ms", "schema at f786f93501ea (head)",
                 "schema at c3e5a7b9d1f4, head is f786f93501ea", "sentry envelope received in {n} ms",
                 "connection refused on port {n}"]
OUTPUT_LINES = ["INFO  [alembic.runtime.migration] Running upgrade c3e5a7b9d1f4 -> f786f93501ea, csp p-model",
                "INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
                "pg_dump: dumping contents of table public.companies ({n} rows)",
                "pg_dump: saving encoding = UTF8", "waiting for /healthz/ready ({n} ms)",
                "starting api {rel} on port 8{n}", "stopping api (pid {n})",
                "PASS  health-endpoint: GET /healthz 200 in {n} ms", "FAIL  error-rate: 5xx ratio {n}.1%",
                "verified backup sha256 {h}", "WARNING deprecated setting LEADS_BATCH ignored",
                "Traceback (most recent call last): psycopg.errors.LockNotAvailable"]
NOTES = ["checked by hand in the dashboard", "restore rehearsed on staging yesterday", "ok per change ticket CHG-{n}",
         "", "signed after the smoke run", "verified with the on-call DBA"]
KIND_WEIGHTS = [("run", 14), ("probe", 30), ("signoff", 4), ("signoff.withdrawn", 1), ("decision", 1),
                ("refused", 1), ("lock.takeover", 1), ("session.open", 3)]


def build(path: Path | str, n: int = 1_000_000, *, seed: int = 7) -> dict:
    """Write an audit log of exactly n events at `path` (which must not exist); returns stats."""
    path = Path(path)
    began = time.perf_counter()
    AuditLog(path).close()  # the real schema
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=OFF").fetchone()  # a fixture: no rollback journal, no WAL while building
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-400000")
    conn.execute("PRAGMA temp_store=MEMORY")
    fts_trigger = conn.execute("SELECT sql FROM sqlite_master WHERE type='trigger' AND name='events_ai'").fetchone()
    rng = random.Random(seed)
    kinds = [k for k, w in KIND_WEIGHTS for _ in range(w)]
    t0 = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)
    insert = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"
    state = {"id": 0, "prev": GENESIS, "rows": []}
    per_release = max(1, n // len(RELEASES))
    # pools drawn from, so the loop spends its time hashing and inserting, not in random
    batches = []
    for _ in range(997):
        count = rng.randrange(1, 13)
        text = "\n".join(rng.choice(OUTPUT_LINES).format(n=rng.randrange(1, 999), rel="v1.0.0", h=f"{rng.getrandbits(64):064x}")
                         for _ in range(count))
        streams = [rng.choice(("stdout", "stderr")) for _ in range(count)] if rng.random() < 0.3 else None
        batches.append((count, text, streams))
    probe_texts = [rng.choice(PROBE_REASONS).format(n=rng.randrange(1, 999)) for _ in range(1009)]
    probe_statuses = ("PASS", "PASS", "PASS", "WARN", "FAIL", "ERROR")
    end_statuses = ("ok", "ok", "ok", "ok", "failed", "cancelled", "interrupted")
    notes = [rng.choice(NOTES).format(n=rng.randrange(1, 999)) for _ in range(101)]
    combos = [(rng.choice(ENVIRONMENTS), rng.choice(OPERATORS), rng.choice(HOSTS)) for _ in range(211)]
    choices = [rng.random() for _ in range(65_537)]  # a cheap stream of "random" numbers
    pick = {"i": 0}
    clock = {"second": -1, "prefix": ""}

    def r(k: int) -> int:  # 0 <= r(k) < k
        pick["i"] = (pick["i"] + 1) % len(choices)
        return int(choices[pick["i"]] * k)

    def emit(kind, release, env, op, host, item, action, status, message, detail):
        if state["id"] >= n:
            return None
        state["id"] += 1
        i = state["id"]
        micros = i * 250_000 + r(1000)
        second = micros // 1_000_000
        if second != clock["second"]:
            clock["second"], clock["prefix"] = second, (t0 + timedelta(seconds=second)).strftime("%Y-%m-%dT%H:%M:%S.")
        ts = f"{clock['prefix']}{micros % 1_000_000:06d}Z"
        record = {"id": i, "ts": ts, "release": release, "environment": env, "operator": op, "host": host,
                  "kind": kind, "item": item, "action": action, "status": status, "message": message,
                  "detail": detail, "prev_hash": state["prev"]}
        digest = row_hash(record)
        state["rows"].append((i, ts, release, env, op, host, kind, item, action, status, message,
                              canonical_json(detail), state["prev"], digest))
        state["prev"] = digest
        return i

    # SQLite works in a thread of its own (it releases the GIL) while this one hashes the next batch
    batches_out: queue.Queue = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def writer() -> None:
        try:
            while (rows := batches_out.get()) is not None:
                conn.executemany(insert, rows)
        except BaseException as e:  # noqa: BLE001 - re-raised in the builder
            failed.append(e)
            while batches_out.get() is not None:
                pass

    conn.execute("BEGIN")
    conn.execute("DROP TRIGGER events_ai")  # FTS filled in one rebuild below
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name='events' "
                           "AND sql IS NOT NULL").fetchall()
    for name, _ in indexes:  # built once after the insert (a sort), not maintained row by row
        conn.execute(f'DROP INDEX "{name}"')
    thread = None
    while state["id"] < n:
        release = RELEASES[min(state["id"] // per_release, len(RELEASES) - 1)]
        env, op, host = combos[r(len(combos))]
        kind = kinds[r(len(kinds))]
        num = r(998) + 1
        if kind == "run":
            action = ACTIONS[r(len(ACTIONS))]
            item = ITEMS[r(len(ITEMS))] if r(2) else None
            run = emit("action.start", release, env, op, host, item, action, "running",
                       f"{action} started: {action} {release} on {env}",
                       {"nonce": f"{num:032x}", "pid": 1000 + num, "plan": [f"{action} on {env}"], "params": {}})
            if run is None:
                break
            lines = 0
            for batch in range(r(5) + 1):
                count, text, streams = batches[r(len(batches))]
                detail = {"run": run, "first": lines + 1, "count": count}
                if streams:
                    detail["streams"] = streams
                lines += count
                emit("action.output", release, env, op, host, item, action, None, text, detail)
                if r(2):
                    emit("action.progress", release, env, op, host, item, action, None, f"step {batch + 1}",
                         {"run": run, "done": batch + 1, "total": 5, "unit": "steps"})
            status = end_statuses[r(len(end_statuses))]
            artifacts = ([{"path": f"/var/backups/hunter-{release}-{run}.dump", "size": 1000 + num * 4096,
                           "sha256": f"{run:064x}", "kind": "backup"}] if action == "backup" and status == "ok" else [])
            emit("action.end", release, env, op, host, item, action, status, f"{action} {status}",
                 {"run": run, "exit_code": 0 if status == "ok" else 1, "duration_s": round(0.2 + r(90_000) / 1000, 3),
                  "lines": lines, "artifacts": artifacts})
        elif kind == "probe":
            item = ITEMS[r(len(ITEMS))]
            emit("probe", release, env, op, host, item, None, probe_statuses[r(len(probe_statuses))],
                 probe_texts[r(len(probe_texts))], {"value": num, "latency_ms": float(num), "previous": None})
        elif kind in ("signoff", "signoff.withdrawn"):
            item = ITEMS[r(len(ITEMS))]
            note = notes[r(len(notes))]
            emit(kind, release, env, op, host, item, None, "signed" if kind == "signoff" else "withdrawn",
                 note or f"signed off: {item}", {"note": note, "title": item})
        elif kind == "decision":
            verdict = ("go", "no-go")[r(2)]
            emit("decision", release, env, op, host, None, None, verdict, f"{verdict.upper()} after review",
                 {"verdict": verdict, "reason": "after review", "open_items": []})
        elif kind == "refused":
            action = ACTIONS[r(len(ACTIONS))]
            emit("refused", release, env, op, host, None, action, "refused",
                 f"{action} changes production: type the environment name to confirm", {})
        elif kind == "lock.takeover":
            emit("lock.takeover", release, env, op, host, None, "rollback", "takeover",
                 f"rollback takes over from {OPERATORS[r(len(OPERATORS))]}", {"holder": {"pid": num}})
        else:
            emit("session.open", release, env, op, host, None, None, None, f"console opened on {env} for {release}",
                 {"checklist": "default"})
        if len(state["rows"]) >= 10_000:
            if thread is None:
                thread = threading.Thread(target=writer, daemon=True)
                thread.start()
            batches_out.put(state["rows"])
            state["rows"] = []
    if thread is None:
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
    batches_out.put(state["rows"])
    batches_out.put(None)
    thread.join()
    if failed:
        raise failed[0]
    inserted = time.perf_counter()
    for _, sql in indexes:
        conn.execute(sql)
    indexed = time.perf_counter()
    conn.execute("INSERT INTO events_fts(events_fts) VALUES ('rebuild')")
    conn.execute(fts_trigger[0])
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL").fetchone()  # as AuditLog keeps it
    conn.close()
    write_anchor(Path(f"{path}.anchor"), state["id"], state["prev"])
    done = time.perf_counter()
    return {"events": state["id"], "seconds": round(done - began, 2), "insert_s": round(inserted - began, 2),
            "index_s": round(indexed - inserted, 2), "fts_s": round(done - indexed, 2), "head_hash": state["prev"]}


if __name__ == "__main__":
    import sys
    import tempfile

    count_arg = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        print(build(Path(tmp) / "audit.db", count_arg))
