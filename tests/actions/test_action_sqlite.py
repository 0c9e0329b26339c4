"""The SQLite backup and restore: online backup API, integrity check, atomic publish."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from hunter_console.actions import backup, restore
from hunter_console.events import Artifact, Progress


def make_sqlite(path, rows: int = 5000, *, wal: bool = True) -> None:
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE leads (id INTEGER PRIMARY KEY, domain TEXT NOT NULL, score INTEGER)")
    conn.executemany("INSERT INTO leads (domain, score) VALUES (?, ?)", ((f"d{i}.example", i % 100) for i in range(rows)))
    conn.commit()
    conn.close()


def content(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT id, domain, score FROM leads ORDER BY id").fetchall()
    finally:
        conn.close()


async def test_sqlite_backup_is_verified_and_published(tmp_path, out_dir, now, helpers):
    db = tmp_path / "hunter.db"
    make_sqlite(db)
    live = sqlite3.connect(db)  # a live connection holding the WAL open, as the app would
    live.execute("INSERT INTO leads (domain, score) VALUES ('in-wal.example', 1)")
    live.commit()

    events, outcome = await helpers.collect(backup(f"sqlite:///{db}", out_dir, "v1.0.0", now=now))
    live.close()
    assert outcome.ok, outcome.message
    final = out_dir / "backup_pre_v1.0.0_20250128_101500.sqlite3"
    assert sorted(p.name for p in out_dir.iterdir()) == [final.name]
    assert outcome.detail["verified"] is True and outcome.detail["format"] == "sqlite3"
    artifact = outcome.artifacts[0]
    assert artifact == Artifact(str(final), final.stat().st_size, hashlib.sha256(final.read_bytes()).hexdigest(), "backup")
    assert [e for e in events if isinstance(e, Artifact)] == [artifact]
    pages = [e for e in events if isinstance(e, Progress)]
    assert pages and pages[-1].unit == "pages" and pages[-1].done == pages[-1].total > 0
    assert any("integrity_check: ok" in getattr(e, "text", "") for e in events)
    assert content(final) == content(db)
    assert ("in-wal.example",) in [(r[1],) for r in content(final)]


async def test_sqlite_backup_of_a_missing_file_fails_and_leaves_nothing(tmp_path, out_dir, helpers):
    _, outcome = await helpers.collect(backup(f"sqlite:///{tmp_path / 'nope.db'}", out_dir, "v1"))
    assert not outcome.ok and "no SQLite database" in outcome.message
    assert list(out_dir.iterdir()) == []
    assert not (tmp_path / "nope.db").exists()  # and did not create one


async def test_sqlite_restore_over_a_live_target(tmp_path, out_dir, now, helpers):
    db = tmp_path / "hunter.db"
    make_sqlite(db, rows=3000)
    _, made = await helpers.collect(backup(f"sqlite:///{db}", out_dir, "v1.0.0", now=now))
    assert made.ok
    expected = content(db)

    # the release went wrong: rows changed, one connection still open
    live = sqlite3.connect(db)
    live.execute("DELETE FROM leads WHERE id > 10")
    live.execute("UPDATE leads SET score = -1")
    live.commit()
    assert content(db) != expected

    artifact = made.artifacts[0]
    events, outcome = await helpers.collect(restore(f"sqlite:///{db}", artifact.path, expected_sha256=artifact.sha256))
    assert outcome.ok, outcome.message
    assert content(db) == expected
    assert live.execute("SELECT count(*) FROM leads").fetchone() == (len(expected),)  # the open connection sees it
    live.close()
    assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_sqlite_restore_into_a_new_file(tmp_path, out_dir, now, helpers):
    db = tmp_path / "hunter.db"
    make_sqlite(db, rows=100, wal=False)
    _, made = await helpers.collect(backup(f"sqlite:///{db}", out_dir, "v1.0.0", now=now))
    artifact = made.artifacts[0]
    fresh = tmp_path / "restored" / "hunter.db"
    _, outcome = await helpers.collect(restore(f"sqlite:///{fresh}", artifact.path, expected_sha256=artifact.sha256))
    assert outcome.ok, outcome.message
    assert content(fresh) == content(db)
    assert sorted(p.name for p in fresh.parent.iterdir()) == ["hunter.db"]


async def test_sqlite_restore_refuses_a_mismatch_or_a_corrupt_backup(tmp_path, out_dir, now, helpers):
    db = tmp_path / "hunter.db"
    make_sqlite(db, rows=100)
    before = content(db)
    _, made = await helpers.collect(backup(f"sqlite:///{db}", out_dir, "v1.0.0", now=now))
    artifact = made.artifacts[0]

    _, outcome = await helpers.collect(restore(f"sqlite:///{db}", artifact.path, expected_sha256="f" * 64))
    assert not outcome.ok and "sha256" in outcome.message

    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"SQLite format 3\0" + b"\x07" * 8192)
    sha = hashlib.sha256(garbage.read_bytes()).hexdigest()
    _, outcome = await helpers.collect(restore(f"sqlite:///{db}", garbage, expected_sha256=sha))
    assert not outcome.ok and "integrity_check" in outcome.message
    assert content(db) == before


def make_big_sqlite(path, megabytes: int = 24) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB)")
    conn.execute(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) "
        "INSERT INTO blobs SELECT x, randomblob(1000) FROM c",
        (megabytes * 1000,),
    )
    conn.commit()
    conn.close()


@pytest.mark.parametrize("how", ["cancel", "aclose"])
async def test_stopping_a_sqlite_backup_midway_removes_the_partial(tmp_path, out_dir, now, how):
    import asyncio

    db = tmp_path / "big.db"
    make_big_sqlite(db)
    seen: list = []

    async def run():
        events = backup(f"sqlite:///{db}", out_dir, "v1.0.0", now=now)
        async for event in events:
            seen.append(event)
            if isinstance(event, Progress) and event.done < event.total:
                assert any(p.name.endswith(".partial") for p in out_dir.iterdir())
                if how == "cancel":
                    asyncio.current_task().cancel()  # lands at the generator's next await
                else:
                    await events.aclose()
                    return "closed"

    task = asyncio.create_task(run())
    if how == "cancel":
        with pytest.raises(asyncio.CancelledError):
            await task
    else:
        assert await task == "closed"
    assert any(isinstance(e, Progress) for e in seen)
    assert list(out_dir.iterdir()) == []
