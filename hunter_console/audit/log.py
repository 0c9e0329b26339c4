"""AuditLog: the append-only, hash-chained SQLite log every console and runner writes to.

One row an event. Appends take the write lock first (`BEGIN IMMEDIATE`), read the head and
insert in the same transaction, so two processes appending at once serialize on SQLite's lock
(waiting up to the busy timeout) and never fork the chain. Triggers refuse UPDATE and DELETE.
After an event that matters (ANCHOR_KINDS) and on close, the head is copied to an anchor file
next to the database, so cutting events off the end is detected too.
"""

from __future__ import annotations

import json
import logging
import fcntl
import os
import re
import sqlite3
import tempfile
import threading
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from hunter_console.audit.chain import COLUMNS, GENESIS, HASHED_COLUMNS, canonical_json, normalize_detail, row_hash
from hunter_console.redact import redact, redact_obj

log = logging.getLogger(__name__)

BUSY_TIMEOUT_S = 30.0
SCHEMA_VERSION = 2  # 2: the history indexes (environment, operator, status, ts, run)
ANCHOR_KINDS = frozenset({"signoff", "signoff.withdrawn", "decision", "action.end"})
APPEND_ONLY = "audit log is append-only"

# The queries we run, each with the index that answers it (see PERFORMANCE.md, SQLite).
INDEXES: tuple[tuple[str, ...], ...] = (
    ("release", "environment", "id"),  # a release's trail: the session replay, list, export
    ("kind", "id"),  # every decision / action.start without an end
    ("item", "id"),  # an item's history
    ("action", "ts"),  # the latest runs of an action
    # the history screen (hunter_console.history): each filter with id, newest first by keyset
    ("release", "id"),  # also: a filter's first and last id, to bound a full-text search
    ("environment", "id"),
    ("operator", "id"),
    ("status", "id"),
    ("ts",),  # since / until
)
# A run's rows (action.output / progress / end carry {"run": start_id} in detail): replaying one
# action's output must not scan the log. A partial expression index; the query must use the
# very same expression (RUN_EXPR) and repeat the index's WHERE. Guarded by json_valid so that a
# row whose detail is not JSON (a tampered one) stays readable and verify() can name it.
RUN_EXPR = "(CASE WHEN json_valid(detail) THEN json_extract(detail, '$.run') END)"
RUN_INDEX = (f"CREATE INDEX IF NOT EXISTS idx_events_run ON events ({RUN_EXPR}, id) "
             f"WHERE {RUN_EXPR} IS NOT NULL")

_TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS events_refuse_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;
CREATE TRIGGER IF NOT EXISTS events_refuse_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END;
"""

_FIELDS = ("kind", "release", "environment", "operator", "host", "item", "action", "status", "message", "detail")
_REQUIRED = ("kind", "release", "environment", "operator", "host")
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM events"
_INSERT = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})"


class AuditError(Exception):
    """The audit database cannot be opened or read; said in one line."""


@dataclass(frozen=True)
class AuditEvent:
    id: int
    ts: str
    release: str
    environment: str
    operator: str
    host: str
    kind: str
    item: str | None
    action: str | None
    status: str | None
    message: str
    detail: dict
    prev_hash: str
    hash: str

    @property
    def origin(self) -> str:
        """Where the operator came from ("ssh 10.1.2.3" or "local bastion-1")."""
        return self.host

    @property
    def time(self) -> datetime:
        return datetime.fromisoformat(self.ts.replace("Z", "+00:00"))

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int  # events whose hash and link were checked
    first_bad: int | None  # the first event id found wrong (a missing one included)
    reason: str  # "intact", or why, in the operator's words
    head_id: int = 0  # the last event checked
    head_hash: str = GENESIS
    anchor_seq: int | None = None  # what the anchor file says, when there is one


@contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """Serialise opening among processes: SQLite does not wait on a busy handler while it
    switches a new database to WAL, so two first opens at once can fail with 'locked'."""
    fd = os.open(directory if str(directory) else ".", os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def utc_timestamp() -> str:
    """UTC, ISO 8601 with microseconds, always ending in Z."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditLog:
    """The audit database at `path` (created with its schema unless `create=False`)."""

    def __init__(self, path: Path | str, *, create: bool = True) -> None:
        self.path = Path(path)
        self.anchor_path = Path(f"{self.path}.anchor")
        self._lock = threading.RLock()
        self._unanchored = False  # appended since the anchor was last written
        self._closed = False
        if not create and not self.path.is_file():
            raise AuditError(f"no audit log at {self.path}")
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        with _directory_lock(self.path.parent):  # two consoles creating the same db at once
            self._connect(create)

    def _connect(self, create: bool) -> None:
        conn = sqlite3.connect(
            str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            if not create and not _has_events_table(conn):
                raise AuditError(f"{self.path}: not an audit log (it has no events table)")
            conn.execute("PRAGMA journal_mode=WAL").fetchone()
            conn.execute("PRAGMA synchronous=FULL")
            self.conn = conn
            self._db = None
            if create:
                self._ensure_schema()
            self._fts = _has_table(conn, "events_fts")
        except sqlite3.DatabaseError as e:
            conn.close()
            raise AuditError(f"{self.path}: not a usable audit database ({e})") from None
        except BaseException:
            conn.close()
            raise

    @property
    def db(self):
        """The connection as a sqlite_utils.Database (imported on first use: it costs ~90 ms,
        and appending and reading need only the plain connection)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn, execute_plugins=False)
        return self._db

    # -- schema ----------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        if _has_events_table(self.conn):
            self._migrate()
            return
        with self._write():
            if _has_events_table(self.conn):  # another process made it while we waited
                self._migrate_locked()
                return
            events = self.db["events"]
            events.create(
                {
                    "id": int, "ts": str, "release": str, "environment": str, "operator": str, "host": str,
                    "kind": str, "item": str, "action": str, "status": str, "message": str, "detail": str,
                    "prev_hash": str, "hash": str,
                },
                pk="id",
                not_null={"ts", "release", "environment", "operator", "host", "kind", "message", "detail",
                          "prev_hash", "hash"},
            )
            _create_indexes(self.conn)
            self.db.executescript(_TRIGGERS)
            events.enable_fts(["message"], create_triggers=True)
            self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _migrate(self) -> None:
        """An existing log from an older version gains what this one queries with: the missing
        indexes (created if not there, so running it twice, or in two processes, is harmless)
        and the schema version. Rows are never touched. Only writers (create=True) migrate: the
        reading commands leave the file as they found it."""
        if not self._needs_migration():
            return
        with self._write():
            self._migrate_locked()

    def _needs_migration(self) -> bool:
        if self.conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            return True
        present = {row[0] for row in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        return not {index_name(c) for c in INDEXES} | {"idx_events_run"} <= present

    def _migrate_locked(self) -> None:
        if not self._needs_migration():
            return
        _create_indexes(self.conn)
        if self.conn.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
            self.conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: the lock is taken first, so the head read inside stays the head."""
        conn = self.conn
        with self._lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                conn.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot however many statements it takes."""
        conn = self.conn
        with self._lock:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")

    def snapshot(self) -> "AbstractContextManager[sqlite3.Connection]":
        """A read-only snapshot for queries of its own (hunter_console.history): the connection,
        inside one read transaction, under this instance's lock."""
        return self._read()

    @property
    def has_fts(self) -> bool:
        """Whether the full-text index on message exists (searches use it; else a substring)."""
        return self._fts

    # -- writing -----------------------------------------------------------------------------
    def append(
        self,
        *,
        kind: str,
        release: str,
        environment: str,
        operator: str,
        host: str,
        item: str | None = None,
        action: str | None = None,
        status: str | None = None,
        message: str = "",
        detail: dict | None = None,
    ) -> AuditEvent:
        """Record one event (its own transaction, durable when this returns)."""
        [event] = self.append_many([dict(kind=kind, release=release, environment=environment, operator=operator,
                                         host=host, item=item, action=action, status=status, message=message,
                                         detail=detail)])
        return event

    def append_many(self, rows: Iterable[Mapping[str, Any]]) -> list[AuditEvent]:
        """Record several events in one transaction, in order (all or none).

        Each row is a mapping with append()'s keyword arguments.
        """
        cleaned = [_clean(row) for row in rows]
        if not cleaned:
            return []
        self._check_open()
        events: list[AuditEvent] = []
        with self._write() as conn:
            head_id, head_hash = _head(conn)
            for fields in cleaned:
                head_id += 1
                record = {"id": head_id, "ts": utc_timestamp(), **fields, "prev_hash": head_hash}
                record["hash"] = head_hash = row_hash(record)
                events.append(AuditEvent(**record))
            conn.executemany(_INSERT, [_stored(e) for e in events])
        self._unanchored = True
        if any(e.kind in ANCHOR_KINDS for e in events):
            self._advance_anchor()
        return events

    # -- reading -----------------------------------------------------------------------------
    def events(
        self,
        *,
        release: str | None = None,
        environment: str | None = None,
        kind: str | None = None,
        item: str | None = None,
        action: str | None = None,
        search: str | None = None,
        since_id: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEvent]:
        """Events matching every filter given, oldest first (or newest first), at most `limit`.

        `search` matches words of the message: with the full-text index each word as a prefix
        ("migr" finds "migrate"), all words required; without it, a substring.
        """
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("release", release), ("environment", environment), ("kind", kind),
                              ("item", item), ("action", action)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if since_id is not None:
            where.append("id > ?")
            params.append(int(since_id))
        if search:
            match = fts_query(search) if self._fts else None
            if match:
                where.append("id IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?)")
                params.append(match)
            else:
                where.append("message LIKE ? ESCAPE '\\'")
                params.append("%" + re.sub(r"([%_\\])", r"\\\1", search) + "%")
        sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY id DESC" if newest_first else " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(max(0, int(limit)))
        with self._read() as conn:
            rows = conn.execute(sql, params).fetchall()
        return [event_from_row(row) for row in rows]

    def get(self, event_id: int) -> AuditEvent:
        with self._read() as conn:
            row = conn.execute(_SELECT + " WHERE id = ?", (int(event_id),)).fetchone()
        if row is None:
            raise KeyError(f"no audit event #{event_id}")
        return event_from_row(row)

    def head(self) -> tuple[int, str]:
        """(id, hash) of the last event; (0, GENESIS) when the log is empty."""
        with self._read() as conn:
            return _head(conn)

    def count(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]

    # -- checking ----------------------------------------------------------------------------
    def verify(self) -> VerifyResult:
        """Walk the chain from genesis, then hold its head against the anchor file.

        Names the first event found wrong and why: edited, missing (deleted), holding another
        event's content (reordered or swapped), or the log ending before the anchor (truncated).
        """
        # The anchor first: it is written after its event commits, so it can never be ahead of
        # the snapshot read below unless events really went missing.
        anchor_problem = None
        try:
            anchor = read_anchor(self.anchor_path)
        except ValueError as e:
            anchor, anchor_problem = None, str(e)
        anchor_seq = anchor[0] if anchor else None
        anchored_hash = None
        checked, prev_id, prev_hash = 0, 0, GENESIS

        def bad(event_id: int | None, reason: str) -> VerifyResult:
            return VerifyResult(False, checked, event_id, reason, prev_id, prev_hash, anchor_seq)

        with self._read() as conn:
            for row in conn.execute(_SELECT + " ORDER BY id"):
                record = dict(zip(COLUMNS, row))
                event_id = record["id"]
                expected = prev_id + 1
                if event_id != expected:
                    if isinstance(event_id, int) and event_id > expected:
                        gap = f"#{expected}" if event_id == expected + 1 else f"#{expected}..#{event_id - 1}"
                        return bad(expected, f"event {gap} is missing (deleted): the log jumps from "
                                             f"#{prev_id} to #{event_id}")
                    return bad(expected, f"event #{expected} is missing: found an event with id {event_id!r}")
                try:
                    record["detail"] = json.loads(record["detail"])
                    if not isinstance(record["detail"], dict):
                        raise ValueError
                    if any(not isinstance(record[c], str) for c in HASHED_COLUMNS if c not in
                           ("id", "item", "action", "status", "detail")):
                        raise ValueError
                except (TypeError, ValueError):
                    return bad(event_id, "its stored fields are malformed (edited)")
                if row_hash(record) != record["hash"]:
                    moved_from = _moved_from(conn, record)
                    if moved_from is not None:
                        return bad(event_id, f"it holds the content of event #{moved_from} "
                                             f"(events reordered or swapped)")
                    return bad(event_id, "its content does not match its hash (edited)")
                if record["prev_hash"] != prev_hash:
                    return bad(event_id, f"its prev_hash does not match the hash of event #{prev_id} "
                                         f"(an earlier event was rewritten or reordered)")
                if event_id == anchor_seq:
                    anchored_hash = record["hash"]
                checked, prev_id, prev_hash = checked + 1, event_id, record["hash"]
        if anchor_problem:
            return bad(None, f"anchor file {self.anchor_path.name}: {anchor_problem}")
        if anchor is not None:
            seq, expected_hash = anchor
            if seq > prev_id:
                return bad(prev_id + 1, f"log ends at {prev_id} but the anchor says {seq} (truncated)")
            if anchored_hash != expected_hash:
                return bad(seq, f"its hash differs from the anchor's (the log was rewritten at or before #{seq})")
        return VerifyResult(True, checked, None, "intact", prev_id, prev_hash, anchor_seq)

    # -- the anchor --------------------------------------------------------------------------
    def _advance_anchor(self) -> None:
        """Copy the head to the anchor file, never backwards, and never over evidence.

        Runs under the database write lock, so concurrent writers take turns; if the anchor on
        disk no longer matches the log, it is kept as it is for verify() to report.
        """
        try:
            with self._write() as conn:
                head_id, head_hash = _head(conn)
                if head_id == 0:
                    return
                try:
                    current = read_anchor(self.anchor_path)
                except ValueError:
                    log.warning("audit anchor %s is unreadable; left as it is", self.anchor_path)
                    return
                if current is not None:
                    seq, expected = current
                    if seq >= head_id:
                        self._unanchored = False
                        return
                    row = conn.execute("SELECT hash FROM events WHERE id = ?", (seq,)).fetchone()
                    if row is None or row[0] != expected:
                        log.warning("audit anchor %s does not match the log; left as it is", self.anchor_path)
                        return
                write_anchor(self.anchor_path, head_id, head_hash)
                self._unanchored = False
        except (OSError, sqlite3.Error) as e:  # the event is recorded; a stale anchor is only weaker
            log.warning("could not write the audit anchor %s: %s", self.anchor_path, e)

    def close(self) -> None:
        """Anchor what this instance appended, then close the connection. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._unanchored:
                    self._advance_anchor()
            finally:
                self._closed = True
                self.conn.close()

    def __enter__(self) -> "AuditLog":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise AuditError(f"audit log {self.path} is closed")

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"


# -- helpers -------------------------------------------------------------------------------------
def index_name(columns: tuple[str, ...]) -> str:
    return "idx_events_" + "_".join(columns)


def _create_indexes(conn: sqlite3.Connection) -> None:
    """Every index in INDEXES plus the run index; idempotent (IF NOT EXISTS)."""
    for columns in INDEXES:
        quoted = ", ".join(f'"{c}"' for c in columns)
        conn.execute(f'CREATE INDEX IF NOT EXISTS "{index_name(columns)}" ON "events" ({quoted})')
    conn.execute(RUN_INDEX)


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


def _has_events_table(conn: sqlite3.Connection) -> bool:
    return _has_table(conn, "events")


def _head(conn: sqlite3.Connection) -> tuple[int, str]:
    row = conn.execute("SELECT id, hash FROM events ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, GENESIS)


def _clean(row: Mapping[str, Any]) -> dict[str, Any]:
    """An event's fields checked and redacted: what will be hashed and stored."""
    unknown = set(row) - set(_FIELDS)
    if unknown:
        raise TypeError(f"unknown audit event field(s): {', '.join(sorted(unknown))}")
    for name in _REQUIRED:
        value = row.get(name)
        if not isinstance(value, str) or (name == "kind" and not value.strip()):
            raise ValueError(f"audit event field '{name}' must be a non-empty string" if name == "kind"
                             else f"audit event field '{name}' must be a string")
    fields: dict[str, Any] = {}
    for name in ("kind", "release", "environment", "operator", "host"):
        fields[name] = redact(row[name])
    for name in ("item", "action", "status"):
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"audit event field '{name}' must be a string or None")
        fields[name] = redact(value) if value else value
    message = row.get("message") or ""
    if not isinstance(message, str):
        message = str(message)
    fields["message"] = redact(message)
    detail = normalize_detail(row.get("detail"))  # plain JSON first, so redact_obj keeps it plain
    fields["detail"] = redact_obj(detail) if detail else {}
    return fields




def _stored(event: AuditEvent) -> tuple:
    return tuple(canonical_json(event.detail) if c == "detail" else getattr(event, c) for c in COLUMNS)


def event_from_row(row: tuple) -> AuditEvent:
    """An AuditEvent from a row of every column in COLUMNS order (detail parsed)."""
    record = dict(zip(COLUMNS, row))
    try:
        record["detail"] = json.loads(record["detail"])
    except (TypeError, ValueError):
        record["detail"] = {"unreadable_detail": str(record["detail"])}
    if not isinstance(record["detail"], dict):
        record["detail"] = {"value": record["detail"]}
    return AuditEvent(**record)


def fts_query(text: str) -> str | None:
    """An FTS5 MATCH for the words of `text`: each a quoted prefix, all required."""
    words = re.findall(r"\w+", text)
    return " ".join(f'"{word}"*' for word in words) or None


def _moved_from(conn: sqlite3.Connection, record: dict[str, Any]) -> int | None:
    """The id this row's content was hashed under, when it is another event's (reordering)."""
    candidates = set()
    if record["prev_hash"] == GENESIS:
        candidates.add(1)
    linked = conn.execute("SELECT id FROM events WHERE hash = ?", (record["prev_hash"],)).fetchone()
    if linked is not None and isinstance(linked[0], int):
        candidates.add(linked[0] + 1)
    for candidate in sorted(candidates - {record["id"]}):
        if row_hash({**record, "id": candidate}) == record["hash"]:
            return candidate
    return None


# -- the anchor file ------------------------------------------------------------------------------
def read_anchor(path: Path) -> tuple[int, str] | None:
    """(seq, hash) from the anchor file; None when there is none; ValueError when unreadable."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot be read ({e})") from None
    try:
        data = json.loads(text)
        seq, digest = data["seq"], data["hash"]
        if not isinstance(seq, int) or seq < 1 or not isinstance(digest, str) or len(digest) != 64:
            raise ValueError
    except (ValueError, TypeError, KeyError):
        raise ValueError("is not a valid anchor") from None
    return seq, digest


def write_anchor(path: Path, seq: int, digest: str) -> None:
    """Replace the anchor atomically and durably: temp file, fsync, rename, fsync the directory."""
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(json.dumps({"seq": seq, "hash": digest}) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)
