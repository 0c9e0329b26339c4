"""Backup freshness, read from a real audit log (the rows the backup action will write)."""

from __future__ import annotations

import hashlib

from hunter_console.audit import AuditLog
from hunter_console.events import Status
from hunter_console.probes import run_probe

from probe_helpers import item


def record_backup(audit: AuditLog, path, *, release="v1.0.0", environment="test", status="ok", **detail):
    data = path.read_bytes() if path.exists() else b""
    artifact = {"path": str(path), "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "kind": "backup"}
    audit.append(kind="action.end", release=release, environment=environment, operator="alice", host="local",
                 action="backup", status=status, message="backup done",
                 detail={"artifacts": [artifact], "duration_s": 1.2, **detail})


async def check(open_context, audit, **params):
    async with open_context({}, audit=audit) as ctx:
        return await run_probe(item("db.backup", "backup.fresh", **params), ctx)


async def test_no_backup_then_a_fresh_verified_one(open_context, tmp_path):
    audit = AuditLog(tmp_path / "audit.db")
    none = await check(open_context, audit)
    assert none.status is Status.FAIL and none.reason == "no backup recorded for v1.0.0 on test: run the backup action"
    dump = tmp_path / "backup_pre_v1.0.sql"
    dump.write_text("-- pg_dump\nCREATE TABLE companies ();\n")
    record_backup(audit, dump, release="v0.9.0")  # another release's backup does not count
    record_backup(audit, dump, environment="production")  # nor another environment's
    assert (await check(open_context, audit)).status is Status.FAIL
    record_backup(audit, dump)
    fresh = await check(open_context, audit, rehash=True)
    assert fresh.status is Status.PASS, fresh
    assert "backup_pre_v1.0.sql" in fresh.reason and fresh.value["size"] == dump.stat().st_size


async def test_stale_failed_tampered_and_vanished_backups(open_context, tmp_path):
    audit = AuditLog(tmp_path / "audit.db")
    dump = tmp_path / "backup.sql"
    dump.write_text("data")
    record_backup(audit, dump, status="failed")
    failed = await check(open_context, audit)
    assert failed.status is Status.FAIL and "ended 'failed'" in failed.reason
    record_backup(audit, dump, verified=False)
    unverified = await check(open_context, audit)
    assert unverified.status is Status.FAIL and "verification" in unverified.reason
    record_backup(audit, dump)
    stale = await check(open_context, audit, max_age_s=0)
    assert stale.status is Status.FAIL and "old" in stale.reason
    dump.write_text("data, changed since")
    tampered = await check(open_context, audit)
    assert tampered.status is Status.FAIL and "the record says 4" in tampered.reason
    dump.write_text("DATA")  # same size, different bytes: only a rehash tells
    assert (await check(open_context, audit)).status is Status.PASS
    assert (await check(open_context, audit, rehash=True)).status is Status.FAIL
    dump.unlink()
    gone = await check(open_context, audit)
    assert gone.status is Status.FAIL and "gone from this host" in gone.reason


async def test_no_audit_log_is_an_error(open_context):
    result = await check(open_context, None)
    assert result.status is Status.ERROR and result.reason == "no audit log to read backups from"
