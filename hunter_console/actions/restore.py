"""Restore a database from a backup this console made (Rollback Plan, "restore from backup").

    async for event in restore(database_url, backup_path, expected_sha256=sha):
        ...  # LogLine | Progress, then exactly one Outcome

Before anything is touched, the backup must exist and its sha256 must still be the one recorded
when it was made (the audit log's Artifact); otherwise the restore is refused.

PostgreSQL: `pg_restore --single-transaction --clean --if-exists --no-owner --dbname <db>` with
the password in PGPASSWORD: the whole restore is one transaction (and stops at the first error),
so a restore that fails part-way leaves the database exactly as it was.

SQLite: the backup is integrity-checked, then copied onto the target with the online backup API
in a single step, which SQLite performs as one write transaction on the target (all or nothing,
correct for a WAL-mode target with live connections — replacing the file underneath them would
pair the new file with the old -wal). A target that does not exist yet is written to a temporary
file and atomically renamed into place.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shlex
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import AsyncIterator, Callable

from hunter_console.actions.backup import (
    DatabaseTarget,
    ProcessExit,
    libpq_args,
    parse_database_url,
    run_in_thread_with_progress,
    sqlite_copy,
    sqlite_integrity,
    sqlite_readonly_uri,
    one_line,
    stream_process,
    child_env,
)
from hunter_console.actions.files import atomic_rename, fsync_file, partial_path, remove_quietly, sha256_file
from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.redact import redact

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def pg_restore_command(
    url: str, archive: str | os.PathLike[str], *, pg_restore: str = "pg_restore"
) -> tuple[list[str], dict[str, str]]:
    """(argv, env) that restores a custom-format archive into the URL's database as one
    transaction. Pure: runs nothing. The password is in env["PGPASSWORD"], never in argv."""
    target = parse_database_url(url)
    if target.kind != "postgresql":
        raise ValueError("pg_restore needs a PostgreSQL URL")
    conn_argv, conn_env = libpq_args(target.params, require_dbname=True)
    argv = [
        pg_restore,
        "--single-transaction",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--verbose",
        "--no-password",
        *conn_argv,
        str(archive),
    ]
    return argv, child_env(conn_env)


async def restore(
    database_url: str,
    backup_path: str | os.PathLike[str],
    *,
    expected_sha256: str,
) -> AsyncIterator[LogLine | Progress | Outcome]:
    """Restore backup_path into database_url; see the module docstring. Ends in one Outcome."""
    try:
        target = parse_database_url(database_url)
    except ValueError as exc:
        yield Outcome(False, one_line(f"restore refused: {exc}"))
        return
    path = Path(backup_path)
    detail = {"database": target.redacted, "backup": str(path), "expected_sha256": expected_sha256}
    expected = (expected_sha256 or "").strip().lower()
    if not _SHA256.match(expected):
        yield Outcome(False, "restore refused: no valid expected sha256 given; nothing was touched", detail=detail)
        return
    if not path.is_file():
        yield Outcome(False, f"restore refused: no backup at {path}; nothing was touched", detail=detail)
        return
    yield LogLine(f"checking sha256 of {path}", stream="console")
    try:
        actual = await asyncio.to_thread(sha256_file, path)
    except OSError as exc:
        yield Outcome(False, redact(f"restore refused: cannot read {path}: {exc}; nothing was touched"), detail=detail)
        return
    detail["sha256"] = actual
    if actual != expected:
        yield Outcome(
            False,
            f"restore refused: {path.name} sha256 is {actual[:12]}…, the backup record says {expected[:12]}…"
            " (the file changed since it was made); nothing was touched",
            detail=detail,
        )
        return
    yield LogLine(f"sha256 matches the backup record ({actual})", stream="console")
    steps = _restore_postgres(target, path, detail) if target.kind == "postgresql" else _restore_sqlite(target, path, detail)
    async with contextlib.aclosing(steps) as events:
        async for event in events:
            yield event


async def _restore_postgres(target: DatabaseTarget, archive: Path, detail: dict) -> AsyncIterator[LogLine | Progress | Outcome]:
    pg_restore = shutil.which("pg_restore")
    if not pg_restore:
        yield Outcome(False, "restore failed: pg_restore not found on PATH; nothing was touched", detail=detail)
        return
    try:
        argv, env = pg_restore_command(target.url, archive, pg_restore=pg_restore)
    except ValueError as exc:
        yield Outcome(False, redact(f"restore refused: {exc}"), detail=detail)
        return
    detail = {**detail, "single_transaction": True}
    yield LogLine(redact("$ " + shlex.join(argv)), stream="console")
    restored: ProcessExit | None = None
    try:
        async with contextlib.aclosing(stream_process(argv, env)) as events:
            async for event in events:
                if isinstance(event, ProcessExit):
                    restored = event
                else:
                    yield event
    except OSError as exc:
        yield Outcome(False, one_line(f"restore failed to start pg_restore: {exc}"), detail=detail)
        return
    assert restored is not None
    if restored.returncode != 0:
        reason = restored.reason or "no error output"
        yield Outcome(
            False,
            redact(
                f"restore failed, rolled back (the database is as it was): pg_restore exited with code "
                f"{restored.returncode}: {reason}"
            ),
            exit_code=restored.returncode,
            detail=detail,
        )
        return
    yield Outcome(True, redact(f"restored {archive.name} into {target.redacted}"), exit_code=0, detail=detail)


async def _restore_sqlite(target: DatabaseTarget, backup: Path, detail: dict) -> AsyncIterator[LogLine | Progress | Outcome]:
    assert target.path is not None
    dest = target.path
    integrity = await asyncio.to_thread(sqlite_integrity, backup)
    yield LogLine(f"PRAGMA integrity_check on the backup: {integrity}", stream="console")
    if integrity != "ok":
        yield Outcome(False, f"restore refused: the backup fails integrity_check ({integrity}); nothing was touched", detail=detail)
        return
    source = sqlite_readonly_uri(backup, immutable=True)
    fresh = not dest.exists()
    temp = partial_path(dest.with_name(dest.name + ".restore"))
    created = False
    try:
        if fresh:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
            created = True
            yield LogLine(f"{dest} does not exist: writing {temp}, then renaming it into place", stream="console")

            def work(on_progress: Callable[[int, int], None], stop: threading.Event) -> str:
                sqlite_copy(source, temp, pages=1024, on_progress=on_progress, stop=stop)
                fsync_file(temp)
                return sqlite_integrity(temp)

        else:
            yield LogLine(f"copying onto {dest} in one SQLite transaction (online backup API)", stream="console")

            def work(on_progress: Callable[[int, int], None], stop: threading.Event) -> str:
                conn = sqlite3.connect(dest, timeout=30)
                try:
                    sqlite_copy(source, conn, pages=-1, on_progress=on_progress, stop=stop)
                finally:
                    conn.close()
                return "ok"

        result = "no answer"
        async with contextlib.aclosing(run_in_thread_with_progress(work, "pages", "sqlite restore")) as events:
            async for event in events:
                if isinstance(event, tuple):
                    result = event[1]
                else:
                    yield event
        if fresh:
            if result != "ok":
                yield Outcome(False, f"restore failed: the restored copy fails integrity_check ({result})", detail=detail)
                return
            atomic_rename(temp, dest)
            created = False
        yield Outcome(True, f"restored {backup.name} into {dest}", exit_code=0, detail=detail)
    except Exception as exc:
        yield Outcome(False, one_line(f"restore failed, the database is as it was: {type(exc).__name__}: {exc}"), detail=detail)
    finally:
        if created:
            remove_quietly(temp)
            for suffix in ("-journal", "-wal", "-shm"):
                remove_quietly(temp.with_name(temp.name + suffix))
