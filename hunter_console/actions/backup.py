"""The pre-release database backup (checklist Step 2), as an async generator of events.

    async for event in backup(database_url, out_dir, release):
        ...  # LogLine | Progress | Artifact, then exactly one Outcome

PostgreSQL: `pg_dump --format=custom` into `backup_pre_<release>_<stamp>.dump.partial`, the
password handed to the child in PGPASSWORD (never in argv), stderr streamed, the file's size
polled for Progress; then the archive is read end to end (`pg_restore --file=/dev/null`, which a
truncated archive fails, unlike `--list`), hashed, fsynced, atomically renamed to
`backup_pre_<release>_<stamp>.dump`, and the directory fsynced. SQLite: the online backup API
into the `.partial`, `PRAGMA integrity_check` on the copy, then the same publish steps, as
`backup_pre_<release>_<stamp>.sqlite3`.

On any failure, cancellation or interruption the child is killed and the `.partial` deleted:
nothing ever exists under a final name that is not a complete, verified backup. The stamp is UTC.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import re
import shlex
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Mapping, Sequence
from urllib.parse import quote

from hunter_console.actions.files import (
    atomic_rename,
    fsync_file,
    human_size,
    partial_path,
    remove_quietly,
    sha256_file,
)
from hunter_console.events import Artifact, LogLine, Outcome, Progress
from hunter_console.redact import redact, register_secret

Event = LogLine | Progress | Artifact | Outcome

POLL_S = 0.2  # how often a running dump's file size is looked at
HEARTBEAT_S = 1.0  # a Progress at least this often, even when the size has not moved
TERM_GRACE_S = 5.0  # after SIGTERM, how long a child gets to cancel its query and exit
KILL_WAIT_S = 10.0  # after SIGKILL, how long to wait for its exit to be reported
DEFAULT_CONNECT_TIMEOUT_S = "10"
SQLITE_PAGES_PER_STEP = 1024

# libpq connection keywords that have an environment variable (libpq "Environment Variables").
_LIBPQ_ENV = {
    "password": "PGPASSWORD",
    "passfile": "PGPASSFILE",
    "hostaddr": "PGHOSTADDR",
    "service": "PGSERVICE",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
    "sslmode": "PGSSLMODE",
    "requiressl": "PGREQUIRESSL",
    "sslcompression": "PGSSLCOMPRESSION",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcrl": "PGSSLCRL",
    "sslcrldir": "PGSSLCRLDIR",
    "sslsni": "PGSSLSNI",
    "requirepeer": "PGREQUIREPEER",
    "ssl_min_protocol_version": "PGSSLMINPROTOCOLVERSION",
    "ssl_max_protocol_version": "PGSSLMAXPROTOCOLVERSION",
    "gssencmode": "PGGSSENCMODE",
    "krbsrvname": "PGKRBSRVNAME",
    "gsslib": "PGGSSLIB",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "client_encoding": "PGCLIENTENCODING",
    "target_session_attrs": "PGTARGETSESSIONATTRS",
    "channel_binding": "PGCHANNELBINDING",
    "load_balance_hosts": "PGLOADBALANCEHOSTS",
}


# -- what a database URL names ------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseTarget:
    """A database URL, understood: which engine, and how to reach it."""

    kind: str  # "postgresql" or "sqlite"
    url: str  # as given (holds the password; never print it, print `redacted`)
    params: Mapping[str, str] = field(default_factory=dict)  # libpq keywords (PostgreSQL)
    path: Path | None = None  # the database file (SQLite)

    @property
    def redacted(self) -> str:
        """The URL as it may be shown: the password replaced by ***."""
        return display_url(self.url)

    @property
    def password(self) -> str | None:
        return self.params.get("password")


def parse_database_url(url: str) -> DatabaseTarget:
    """Understand `postgresql://`, `postgres://`, `postgresql+<driver>://` and `sqlite:///path`.

    Percent-encoded parts (a password with `@` or `/` in it) are decoded by libpq's own URI
    parser (`psycopg.conninfo.conninfo_to_dict`). ValueError, redacted, for anything else.
    """
    _register_url_password(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ValueError(f"not a database URL: {redact(url)!r}")
    base = scheme.lower().split("+", 1)[0]
    if base in ("postgresql", "postgres"):
        from psycopg.conninfo import conninfo_to_dict

        try:
            params = conninfo_to_dict("postgresql://" + rest)
        except Exception as exc:  # psycopg.ProgrammingError: bad URI or unknown keyword
            raise ValueError(redact(f"cannot parse the database URL: {exc}")) from None
        params = {k: str(v) for k, v in params.items() if v is not None}
        if params.get("password"):
            register_secret(params["password"])
        return DatabaseTarget("postgresql", url, params=params)
    if base == "sqlite":
        from sqlalchemy.engine import make_url

        try:
            database = make_url(url).database
        except Exception as exc:
            raise ValueError(redact(f"cannot parse the database URL: {exc}")) from None
        if not database or database == ":memory:" or database.startswith("file:"):
            raise ValueError(f"not a SQLite database file: {redact(url)!r}")
        return DatabaseTarget("sqlite", url, path=Path(database))
    raise ValueError(f"unsupported database URL scheme {scheme!r} (postgresql:// or sqlite:///)")


def _register_url_password(url: str) -> None:
    from urllib.parse import unquote, urlsplit

    try:
        raw = urlsplit(url).password
    except ValueError:
        return
    if raw:
        register_secret(raw)
        register_secret(unquote(raw))


def display_url(url: str) -> str:
    """A database URL with its password masked (and anything else secret-looking redacted)."""
    try:
        from sqlalchemy.engine import make_url

        shown = make_url(url).render_as_string(hide_password=True)
    except Exception:
        shown = url
    return redact(shown)


def libpq_args(params: Mapping[str, str], *, require_dbname: bool = False) -> tuple[list[str], dict[str, str]]:
    """Command-line connection options for pg_dump / pg_restore, and the environment they need.

    host, port, user and dbname go on the command line as separate options; the password and
    every other keyword that libpq reads from the environment go in the environment. A keyword
    without an environment variable (e.g. keepalives) rides in a `--dbname` conninfo string,
    which never includes the password.
    """
    from psycopg.conninfo import make_conninfo

    p = dict(params)
    argv: list[str] = []
    env: dict[str, str] = {}
    for key, option in (("host", "--host"), ("port", "--port"), ("user", "--username")):
        value = p.pop(key, None)
        if value:
            argv += [option, value]
    dbname = p.pop("dbname", None) or None
    leftovers: dict[str, str] = {}
    for key, value in p.items():
        var = _LIBPQ_ENV.get(key)
        if var:
            env[var] = value
        else:
            leftovers[key] = value
    if dbname is None and require_dbname:
        dbname = params.get("user") or None
        if dbname is None:
            raise ValueError("the database URL names no database")
    if leftovers or (dbname is not None and _conninfo_like(dbname)):
        conninfo = make_conninfo("", **({"dbname": dbname} if dbname is not None else {}), **leftovers)
        argv += ["--dbname", conninfo]
    elif dbname is not None:
        argv += ["--dbname", dbname]
    env.setdefault("PGCONNECT_TIMEOUT", os.environ.get("PGCONNECT_TIMEOUT", DEFAULT_CONNECT_TIMEOUT_S))
    return argv, env


def _conninfo_like(dbname: str) -> bool:
    # pg_dump/pg_restore expand a --dbname that looks like a conninfo or a URI.
    return "=" in dbname or dbname.startswith(("postgresql://", "postgres://"))


def child_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


def pg_dump_command(url: str, out: str | os.PathLike[str], *, pg_dump: str = "pg_dump") -> tuple[list[str], dict[str, str]]:
    """(argv, env) for a custom-format dump of `url` into `out`. Pure: runs nothing.

    The password is in env["PGPASSWORD"], never in argv; `--no-password` keeps pg_dump from
    ever prompting (there is no terminal to prompt on).
    """
    target = parse_database_url(url)
    if target.kind != "postgresql":
        raise ValueError("pg_dump needs a PostgreSQL URL")
    conn_argv, conn_env = libpq_args(target.params)
    argv = [pg_dump, "--format=custom", "--verbose", "--no-password", "--file", str(out), *conn_argv]
    return argv, child_env(conn_env)


def pg_verify_command(archive: str | os.PathLike[str], *, pg_restore: str = "pg_restore") -> list[str]:
    """argv that reads a custom-format archive end to end (every data block decompressed) and
    throws the SQL away: exit 0 only for a whole archive. `--list` reads only the TOC."""
    return [pg_restore, "--file", os.devnull, str(archive)]


# -- running a child and streaming it -----------------------------------------------------------


@dataclass(frozen=True)
class ProcessExit:
    """The last thing `stream_process` yields (internal; never reaches a consumer of an action)."""

    returncode: int
    reason: str  # the child's most telling stderr line, redacted ("" when it said nothing)


def one_line(text: str) -> str:
    """A message fit for one line of an Outcome: its lines joined, redacted."""
    return redact(" / ".join(line.strip() for line in str(text).splitlines() if line.strip()))


def _reason(lines: Sequence[str]) -> str:
    for line in reversed(lines):
        if "error:" in line or "FATAL" in line:
            return line.strip()
    for line in reversed(lines):
        if line.strip():
            return line.strip()
    return ""


async def stream_process(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    *,
    watch: Path | None = None,
    label: str = "",
) -> AsyncIterator[LogLine | Progress | ProcessExit]:
    """Run argv; yield its output lines (redacted) and, with `watch`, Progress of that file's
    size every POLL_S while it grows; end with ProcessExit. Closing or cancelling the generator
    kills the child and waits for it."""
    proc = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env) if env is not None else None,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        limit=1 << 20,
    )
    queue: asyncio.Queue[LogLine | None] = asyncio.Queue()
    tail: collections.deque[str] = collections.deque(maxlen=100)

    async def pump(stream: asyncio.StreamReader, name: str) -> None:
        try:
            while True:
                try:
                    raw = await stream.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    raw = await stream.read(1 << 16)
                if not raw:
                    return
                text = redact(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
                if name == "stderr":
                    tail.append(text)
                queue.put_nowait(LogLine(text, stream=name))
        finally:
            queue.put_nowait(None)

    readers = [asyncio.create_task(pump(proc.stdout, "stdout")), asyncio.create_task(pump(proc.stderr, "stderr"))]
    try:
        open_streams = len(readers)
        last_size, last_emit = -1, 0.0
        if watch is not None:
            yield Progress(0, None, "bytes", label)
            last_size, last_emit = 0, time.monotonic()
        while open_streams:
            try:
                item = await asyncio.wait_for(queue.get(), POLL_S)
            except TimeoutError:
                item = False
            if item is None:
                open_streams -= 1
            elif item is not False:
                yield item
            if watch is not None:
                now = time.monotonic()
                if now - last_emit >= POLL_S:
                    size = _size(watch)
                    if size != last_size or now - last_emit >= HEARTBEAT_S:
                        last_size, last_emit = size, now
                        yield Progress(size, None, "bytes", label)
        returncode = await proc.wait()
        if watch is not None:
            size = _size(watch)
            if size != last_size:
                yield Progress(size, None, "bytes", label)
        yield ProcessExit(returncode, _reason(tail))
    finally:
        if proc.returncode is None:
            await stop_process(proc)
        for reader in readers:
            reader.cancel()


def published(artifact: Artifact, target: "DatabaseTarget", fmt: str, release: str) -> list[Event]:
    """What a verified, published backup reports: its checksum line, the artifact, the outcome."""
    return [
        LogLine(f"sha256 {artifact.sha256}; published {artifact.path}", stream="console"),
        artifact,
        Outcome(
            True,
            f"backup verified: {human_size(artifact.size)} ({artifact.size} bytes) at {artifact.path}",
            exit_code=0,
            artifacts=(artifact,),
            detail={"database": target.redacted, "format": fmt, "verified": True, "release": release,
                    "path": artifact.path, "size": artifact.size, "sha256": artifact.sha256},
        ),
    ]


async def stop_process(proc: asyncio.subprocess.Process, grace: float = TERM_GRACE_S) -> None:
    """End a child that is still running: SIGTERM, on which pg_dump and pg_restore send the
    server a cancel request for their running query before they exit (a backend blocked on a
    lock does not notice its client vanish otherwise, and would keep waiting in the lock queue
    in front of a migration); SIGKILL if it is not gone after `grace` seconds."""
    interrupted = False
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), grace)
    except TimeoutError:
        pass
    except asyncio.CancelledError:
        interrupted = True
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        try:  # bounded: a child whose exit is never reported must not hang the action
            await asyncio.wait_for(asyncio.shield(proc.wait()), KILL_WAIT_S)
        except TimeoutError:
            pass
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        raise asyncio.CancelledError()


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


async def verify_pg_dump(archive: str | os.PathLike[str], *, pg_restore: str = "pg_restore") -> tuple[bool, str]:
    """Read a custom-format archive end to end; (True, "") when it is whole, else (False, why)."""
    exit_: ProcessExit | None = None
    async with contextlib.aclosing(stream_process(pg_verify_command(archive, pg_restore=pg_restore))) as events:
        async for event in events:
            if isinstance(event, ProcessExit):
                exit_ = event
    assert exit_ is not None
    if exit_.returncode == 0:
        return True, ""
    return False, exit_.reason or f"pg_restore exited with code {exit_.returncode}"


# -- the action -----------------------------------------------------------------------------------


def backup_name(release: str, stamp: str, suffix: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", release).strip("._") or "release"
    return f"backup_pre_{safe}_{stamp}{suffix}"


def _stamp(now: datetime | None) -> str:
    return (now or datetime.now(timezone.utc)).strftime("%Y%m%d_%H%M%S")


async def backup(
    database_url: str,
    out_dir: str | os.PathLike[str],
    release: str,
    *,
    now: datetime | None = None,
) -> AsyncIterator[Event]:
    """Back up the database into out_dir; see the module docstring. Ends in exactly one Outcome."""
    try:
        target = parse_database_url(database_url)
    except ValueError as exc:
        yield Outcome(False, one_line(f"backup refused: {exc}"))
        return
    out_dir = Path(out_dir)
    if target.kind == "postgresql":
        steps = _backup_postgres(target, out_dir, release, _stamp(now))
    else:
        steps = _backup_sqlite(target, out_dir, release, _stamp(now))
    async with contextlib.aclosing(steps) as events:
        async for event in events:
            yield event


def claim(out_dir: Path, final: Path, partial: Path) -> str | None:
    """Create the partial file exclusively (a second backup in the same second fails instead of
    clobbering); the reason for a refusal, or None once the partial is ours."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if final.exists():
        return f"backup refused: {final} already exists"
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    return None


async def _backup_postgres(target: DatabaseTarget, out_dir: Path, release: str, stamp: str) -> AsyncIterator[Event]:
    final = out_dir / backup_name(release, stamp, ".dump")
    partial = partial_path(final)
    pg_dump, pg_restore = shutil.which("pg_dump"), shutil.which("pg_restore")
    if not pg_dump or not pg_restore:
        yield Outcome(False, "backup failed: pg_dump/pg_restore not found on PATH")
        return
    created = False
    try:
        refused = claim(out_dir, final, partial)
        if refused:
            yield Outcome(False, refused)
            return
        created = True

        argv, env = pg_dump_command(target.url, partial, pg_dump=pg_dump)
        yield LogLine(redact("$ " + shlex.join(argv)), stream="console")
        dumped: ProcessExit | None = None
        async with contextlib.aclosing(stream_process(argv, env, watch=partial, label="pg_dump")) as events:
            async for event in events:
                if isinstance(event, ProcessExit):
                    dumped = event
                else:
                    yield event
        assert dumped is not None
        if dumped.returncode != 0:
            created = not remove_quietly(partial)
            reason = dumped.reason or "no error output"
            yield Outcome(
                False,
                redact(f"backup failed: pg_dump exited with code {dumped.returncode}: {reason}"),
                exit_code=dumped.returncode,
                detail={"database": target.redacted, "format": "custom", "verified": False},
            )
            return

        verify_argv = pg_verify_command(partial, pg_restore=pg_restore)
        yield LogLine(redact("verifying: $ " + shlex.join(verify_argv)), stream="console")
        verified: ProcessExit | None = None
        async with contextlib.aclosing(stream_process(verify_argv)) as events:
            async for event in events:
                if isinstance(event, ProcessExit):
                    verified = event
                else:
                    yield event
        assert verified is not None
        if verified.returncode != 0:
            created = not remove_quietly(partial)
            reason = verified.reason or f"pg_restore exited with code {verified.returncode}"
            yield Outcome(
                False,
                redact(f"backup failed verification (pg_restore could not read it back): {reason}"),
                exit_code=verified.returncode,
                detail={"database": target.redacted, "format": "custom", "verified": False},
            )
            return

        artifact = await publish(partial, final)
        created = False
        for event in published(artifact, target, "custom", release):
            yield event
    except Exception as exc:
        if created:
            remove_quietly(partial)
            created = False
        yield Outcome(False, one_line(f"backup failed: {type(exc).__name__}: {exc}"), detail={"database": target.redacted, "verified": False})
    finally:
        # Cancelled, interrupted or closed early: the child is already killed (stream_process),
        # and no partial file may outlive us.
        if created:
            remove_quietly(partial)


async def publish(partial: Path, final: Path, kind: str = "backup") -> Artifact:
    """Hash and fsync the partial (in threads), then rename it to its final name and fsync the
    directory. The rename is synchronous and nothing is awaited after it, so a cancellation
    either comes before it (the partial is still there for the caller to delete) or not at all."""
    digest = await asyncio.to_thread(sha256_file, partial)
    await asyncio.to_thread(fsync_file, partial)
    size = partial.stat().st_size
    atomic_rename(partial, final)
    return Artifact(path=str(final), size=size, sha256=digest, kind=kind)


# -- SQLite ---------------------------------------------------------------------------------------


class _Stop(Exception):
    """Raised in the backup progress callback to abort a SQLite backup that was cancelled."""


def sqlite_readonly_uri(path: Path, *, immutable: bool = False) -> str:
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    return uri + "&immutable=1" if immutable else uri


def sqlite_integrity(path: Path) -> str:
    """'ok', or the first problem PRAGMA integrity_check reports (blocking)."""
    conn = sqlite3.connect(sqlite_readonly_uri(path, immutable=True), uri=True)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return f"not a database: {exc}"
    finally:
        conn.close()
    first = str(rows[0][0]) if rows else "no answer"
    return "ok" if first == "ok" and len(rows) == 1 else first


def sqlite_copy(
    source: str,
    dest: Path | sqlite3.Connection,
    *,
    pages: int,
    on_progress: Callable[[int, int], None],
    stop: threading.Event,
    source_uri: bool = True,
) -> None:
    """Copy a SQLite database with the online backup API (blocking; run it in a thread)."""
    src = sqlite3.connect(source, uri=source_uri, timeout=30)
    own_dest = not isinstance(dest, sqlite3.Connection)
    dst = sqlite3.connect(dest, timeout=30) if own_dest else dest
    try:

        def progress(_status: int, remaining: int, total: int) -> None:
            if stop.is_set():
                raise _Stop("cancelled")
            on_progress(total - remaining, total)

        src.backup(dst, pages=pages, progress=progress)
    finally:
        if own_dest:
            dst.close()
        src.close()


async def run_in_thread_with_progress(
    work: Callable[[Callable[[int, int], None], threading.Event], Any], unit: str, label: str
) -> AsyncIterator[Progress | tuple[str, Any]]:
    """Run work(on_progress, stop) in a thread; yield its Progress; end with ("result", value)
    (or raise what it raised). Cancelled or closed early: set stop, wait for the thread to
    notice (the SQLite progress callback raises), then let the cancellation through."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Progress | None] = asyncio.Queue()
    stop = threading.Event()
    last = [0.0]

    def on_progress(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= POLL_S:
            last[0] = now
            loop.call_soon_threadsafe(queue.put_nowait, Progress(done, total, unit, label))

    task = asyncio.ensure_future(asyncio.to_thread(work, on_progress, stop))
    task.add_done_callback(lambda _: queue.put_nowait(None))
    try:
        while (item := await queue.get()) is not None:
            yield item
        while not queue.empty():
            item = queue.get_nowait()
            if item is not None:
                yield item
        yield ("result", task.result())
    finally:
        if not task.done():
            stop.set()
            with contextlib.suppress(BaseException):
                await asyncio.shield(task)


async def _backup_sqlite(target: DatabaseTarget, out_dir: Path, release: str, stamp: str) -> AsyncIterator[Event]:
    assert target.path is not None
    source = target.path
    final = out_dir / backup_name(release, stamp, ".sqlite3")
    partial = partial_path(final)
    detail = {"database": target.redacted, "format": "sqlite3", "verified": False}
    if not source.is_file():
        yield Outcome(False, f"backup failed: no SQLite database at {source}", detail=detail)
        return
    created = False
    try:
        refused = claim(out_dir, final, partial)
        if refused:
            yield Outcome(False, refused)
            return
        created = True
        yield LogLine(f"sqlite online backup {source} -> {partial}", stream="console")

        def work(on_progress: Callable[[int, int], None], stop: threading.Event) -> str:
            sqlite_copy(sqlite_readonly_uri(source), partial, pages=SQLITE_PAGES_PER_STEP, on_progress=on_progress, stop=stop)
            return sqlite_integrity(partial)

        integrity = "no answer"
        async with contextlib.aclosing(run_in_thread_with_progress(work, "pages", "sqlite backup")) as events:
            async for event in events:
                if isinstance(event, tuple):
                    integrity = event[1]
                else:
                    yield event
        yield LogLine(f"PRAGMA integrity_check: {integrity}", stream="console")
        if integrity != "ok":
            created = not remove_quietly(partial)
            yield Outcome(False, redact(f"backup failed verification (integrity_check): {integrity}"), detail=detail)
            return
        artifact = await publish(partial, final)
        created = False
        for event in published(artifact, target, "sqlite3", release):
            yield event
    except Exception as exc:
        if created:
            remove_quietly(partial)
            created = False
        yield Outcome(False, one_line(f"backup failed: {type(exc).__name__}: {exc}"), detail=detail)
    finally:
        if created:
            remove_quietly(partial)
        for suffix in ("-journal", "-wal", "-shm"):
            remove_quietly(partial.with_name(partial.name + suffix))
