"""History: what the history screen asks of the audit log, answered fast at a million events.

Every function takes an open `AuditLog` and only reads (each call is one read snapshot).

    page(log, filters=HistoryFilter(...), before_id=None, limit=50) -> list[AuditEvent]
        newest first; the next page is `page(..., before_id=events[-1].id)` (keyset: id < before_id,
        never OFFSET, so page 1000 costs what page 1 costs).
    count(log, filters, cap=COUNT_CAP) -> HistoryCount
        how many events match, counted up to `cap` and no further ("10,000+"): exact below the
        cap, a lower bound at it. Counting every match of a broad filter over 1M rows is what
        would make the screen slow, and "more than 10,000" is all a person reads there.
    facets(log) -> Facets
        the distinct releases, environments, kinds, operators and statuses, for the filter
        pickers: each found by skipping through its index (a few lookups per distinct value),
        never by scanning the rows.
    run_output(log, run_id) -> list[(stream, text)]
        a stored action's output replayed in order (from its action.output rows).
    run_summary(log, run_id) -> RunSummary
        a run's start, end, status, duration, lines, exit code and artifacts.

Filters: every field of `HistoryFilter` is optional and they combine with AND. `text` searches
the message through the FTS5 index (each word a prefix, all words required: "migr fail" finds
"migration failed"); on a log without the index it falls back to a substring match. `since` is
inclusive, `until` exclusive; each a datetime (naive means UTC) or an ISO 8601 string in UTC
("2026-11-27", "2026-11-27T02:37"), compared with the stored timestamps as text.

Indexes answering these queries are in `hunter_console.audit.log.INDEXES` (each filter column with
id, and ts) plus the run index on `detail.run`; a log made by an older version gains them the next
time a console or runner opens it (`AuditLog(path)`, not the read-only `create=False`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import Any

from hunter_console.audit.chain import COLUMNS
from hunter_console.audit.log import RUN_EXPR, AuditEvent, AuditLog, event_from_row, fts_query

PAGE_SIZE = 50
COUNT_CAP = 10_000
FACET_COLUMNS = ("release", "environment", "kind", "operator", "status")
_COLS = ", ".join(f"e.{c}" for c in COLUMNS)
_RUN_ROWS = f"{RUN_EXPR} = ? AND {RUN_EXPR} IS NOT NULL"  # matches the partial index idx_events_run


@dataclass(frozen=True)
class HistoryFilter:
    """What the history screen filters on; None (or "") means any."""

    release: str | None = None
    environment: str | None = None
    kind: str | None = None
    operator: str | None = None
    status: str | None = None
    since: datetime | str | None = None  # ts >= since
    until: datetime | str | None = None  # ts < until
    text: str | None = None  # words of the message (FTS5, each word a prefix)

    def active(self) -> dict[str, Any]:
        """The fields that filter, by name."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) not in (None, "")}


@dataclass(frozen=True)
class HistoryCount:
    """How many events match: `n` exact unless `capped` (then "at least n")."""

    n: int
    capped: bool = False

    def __int__(self) -> int:
        return self.n

    def __str__(self) -> str:
        return f"{self.n:,}+" if self.capped else f"{self.n:,}"


@dataclass(frozen=True)
class Facets:
    releases: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    operators: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RunSummary:
    """One action run, from its action.start row (run_id) and its action.end row, if any."""

    run_id: int
    action: str
    item: str | None
    release: str
    environment: str
    operator: str
    host: str
    started: str  # ts of action.start
    ended: str | None  # ts of action.end; None while it has none (running, or died: see session.interrupted())
    status: str  # "running" (no end recorded yet), "ok", "failed", "cancelled", "interrupted"
    message: str  # the end's message (the outcome), or the start's
    duration_s: float | None
    exit_code: int | None
    lines: int  # output lines stored
    artifacts: list[dict[str, Any]]  # [{path, size, sha256, kind}]
    plan: list[str]
    end_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # the end's detail (revisions, reconciliation, ...)

    @property
    def finished(self) -> bool:
        return self.ended is not None


# -- the filters as SQL -------------------------------------------------------------------------------
def timestamp(value: datetime | str) -> str:
    """A bound as the stored text compares: datetimes in UTC with microseconds and Z; strings as given
    (an ISO prefix such as "2026-11-27" compares correctly with the stored values)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    text = str(value).strip()
    if text.endswith("+00:00"):
        text = text[:-6] + "Z"
    return text.replace(" ", "T", 1)


EXACT_WINDOW_ROWS = 200_000  # a time window up to about this many rows is turned into exact id bounds


def _where(filters: HistoryFilter, alias: str = "e") -> tuple[list[str], list[Any]]:
    """The conditions on the events table (text aside), with their parameters. The time bounds are
    written `+ts` so that the planner walks ids (newest first) rather than the ts index and a sort;
    `_id_bounds` gives it the id range to walk."""
    where: list[str] = []
    params: list[Any] = []
    for column in FACET_COLUMNS:
        value = getattr(filters, column)
        if value not in (None, ""):
            where.append(f"{alias}.{column} = ?")
            params.append(value)
    if filters.since not in (None, ""):
        where.append(f"+{alias}.ts >= ?")
        params.append(timestamp(filters.since))
    if filters.until not in (None, ""):
        where.append(f"+{alias}.ts < ?")
        params.append(timestamp(filters.until))
    return where, params


def _id_bounds(conn, filters: HistoryFilter) -> tuple[int, int] | None:
    """An id range every matching event lies in (None: nothing can match), from the indexes.

    Each equality filter gives its first and last id (two lookups in its (column, id) index: a
    release's events are one stretch of the log, so a search within it walks only that stretch).
    A time window gives the first and last id of the events in it, exactly (a covering scan of the
    ts index, so even a clock that stepped back cannot hide an event), when the window holds up to
    about EXACT_WINDOW_ROWS events, or when walking it costs less than walking the events newer
    than it; otherwise (a wide window reaching the present) the row-by-row `ts` check is cheaper.
    """
    lo, hi = 1, _max_id(conn)
    for column in FACET_COLUMNS:
        value = getattr(filters, column)
        if value in (None, ""):
            continue
        first = conn.execute(f"SELECT min(id) FROM events WHERE {column} = ?", (value,)).fetchone()[0]
        if first is None:
            return None
        last = conn.execute(f"SELECT max(id) FROM events WHERE {column} = ?", (value,)).fetchone()[0]
        lo, hi = max(lo, first), min(hi, last)
    since = timestamp(filters.since) if filters.since not in (None, "") else None
    until = timestamp(filters.until) if filters.until not in (None, "") else None
    if since is not None or until is not None:
        window = "ts >= ? AND ts < ?" if since and until else ("ts >= ?" if since else "ts < ?")
        bounds = [b for b in (since, until) if b is not None]
        # the window's edges in ts order: how many events it holds, roughly
        edge_lo = conn.execute(f"SELECT id FROM events WHERE {window} ORDER BY ts LIMIT 1", bounds).fetchone()
        if edge_lo is None:
            return None
        edge_hi = conn.execute(f"SELECT id FROM events WHERE {window} ORDER BY ts DESC LIMIT 1", bounds).fetchone()
        window_rows = abs(edge_hi[0] - edge_lo[0])
        newer_rows = hi - max(edge_hi[0], edge_lo[0])  # what walking ids back from the newest would skip
        # exact bounds cost a walk of the window in the ts index; without them a page walks ids back
        # from the newest through every newer event (about 2.5 times dearer per event)
        if window_rows <= EXACT_WINDOW_ROWS or window_rows < 2.5 * newer_rows:
            first, last = conn.execute(f"SELECT min(id), max(id) FROM events WHERE {window}", bounds).fetchone()
            lo, hi = max(lo, first), min(hi, last)
    return (lo, hi) if lo <= hi else None


def _max_id(conn) -> int:
    return conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]


def _query(conn, log: AuditLog, filters: HistoryFilter, select: str, *, before_id: int | None, tail: str,
           tail_params: list[Any]) -> tuple[str, list[Any]] | None:
    """SELECT `select` over the matching events, newest first (None: nothing can match). With text
    and the FTS index, the FTS table drives (its rowids walked newest first, lazily, within the id
    bounds), the events joined to it by id."""
    bounds = _id_bounds(conn, filters)
    if bounds is None:
        return None
    lo, hi = bounds
    if before_id is not None:
        hi = min(hi, int(before_id) - 1)
        if hi < lo:
            return None
    where, params = _where(filters)
    match = fts_query(filters.text) if filters.text and log.has_fts else None
    if match:
        sql = f"SELECT {select} FROM events_fts JOIN events e ON e.id = events_fts.rowid"
        where.insert(0, "events_fts MATCH ?")
        params.insert(0, match)
        order_key = "events_fts.rowid"
    else:
        sql = f"SELECT {select} FROM events e"
        if filters.text:
            where.append("e.message LIKE ? ESCAPE '\\'")
            params.append("%" + re.sub(r"([%_\\])", r"\\\1", filters.text) + "%")
        order_key = "e.id"
    where.append(f"{order_key} BETWEEN ? AND ?")
    params += [lo, hi]
    sql += " WHERE " + " AND ".join(where)
    return sql + f" ORDER BY {order_key} DESC" + tail, params + tail_params


# -- the queries ------------------------------------------------------------------------------------
def page(log: AuditLog, *, filters: HistoryFilter | None = None, before_id: int | None = None,
         limit: int = PAGE_SIZE) -> list[AuditEvent]:
    """Up to `limit` matching events, newest first, all older than `before_id` when given."""
    filters = filters or HistoryFilter()
    with log.snapshot() as conn:
        query = _query(conn, log, filters, _COLS, before_id=before_id, tail=" LIMIT ?",
                       tail_params=[max(0, int(limit))])
        if query is None:
            return []
        return [event_from_row(row) for row in conn.execute(*query).fetchall()]


def count(log: AuditLog, filters: HistoryFilter | None = None, *, cap: int = COUNT_CAP) -> HistoryCount:
    """How many events match, counted no further than `cap` (then `capped` is True)."""
    filters = filters or HistoryFilter()
    with log.snapshot() as conn:
        query = _query(conn, log, filters, "1", before_id=None, tail=" LIMIT ?", tail_params=[int(cap) + 1])
        if query is None:
            return HistoryCount(0)
        n = conn.execute(f"SELECT count(*) FROM ({query[0]})", query[1]).fetchone()[0]
    return HistoryCount(min(n, cap), n > cap)


def facets(log: AuditLog) -> Facets:
    """Every distinct value of each filter column, sorted, by a skip scan of its index."""
    found: dict[str, list[str]] = {}
    with log.snapshot() as conn:
        for column in FACET_COLUMNS:
            values: list[str] = []
            value = conn.execute(f"SELECT min({column}) FROM events").fetchone()[0]
            while value is not None:
                values.append(value)
                value = conn.execute(f"SELECT min({column}) FROM events WHERE {column} > ?", (value,)).fetchone()[0]
            found[column] = values
    return Facets(found["release"], found["environment"], found["kind"], found["operator"], found["status"])


def _start_row(log: AuditLog, run_id: int) -> AuditEvent:
    try:
        start = log.get(run_id)
    except KeyError:
        raise KeyError(f"no run #{run_id}: no such audit event") from None
    if start.kind != "action.start":
        raise KeyError(f"no run #{run_id}: event #{run_id} is a {start.kind}, not an action.start")
    return start


def run_output(log: AuditLog, run_id: int) -> list[tuple[str, str]]:
    """The output of run `run_id` (the id of its action.start), in order: (stream, text) a line."""
    _start_row(log, run_id)
    lines: list[tuple[str, str]] = []
    with log.snapshot() as conn:
        rows = conn.execute(f"SELECT message, detail FROM events WHERE {_RUN_ROWS} AND kind = 'action.output' "
                            f"ORDER BY id", (int(run_id),)).fetchall()
    for message, detail_text in rows:
        try:
            detail = json.loads(detail_text)
        except ValueError:
            detail = {}
        streams = detail.get("streams") if isinstance(detail, dict) else None
        for i, text in enumerate(message.split("\n")):
            stream = streams[i] if isinstance(streams, list) and i < len(streams) else "stdout"
            lines.append((str(stream), text))
    return lines


def run_summary(log: AuditLog, run_id: int) -> RunSummary:
    """What run `run_id` was and how it ended (status "running" while no end is recorded)."""
    start = _start_row(log, run_id)
    with log.snapshot() as conn:
        row = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM events WHERE {_RUN_ROWS} AND kind = 'action.end' "
                           f"ORDER BY id LIMIT 1", (int(run_id),)).fetchone()
        end = event_from_row(row) if row else None
        stored = None
        if end is None or "lines" not in end.detail:
            stored = conn.execute(f"SELECT coalesce(sum(json_extract(detail, '$.count')), 0) FROM events "
                                  f"WHERE {_RUN_ROWS} AND kind = 'action.output'", (int(run_id),)).fetchone()[0]
    d = end.detail if end else {}
    duration = d.get("duration_s")
    if duration is None and end is not None:
        duration = round((end.time - start.time).total_seconds(), 3)
    return RunSummary(
        run_id=start.id, action=start.action or "", item=start.item, release=start.release,
        environment=start.environment, operator=start.operator, host=start.host, started=start.ts,
        ended=end.ts if end else None, status=(end.status or "") if end else "running",
        message=end.message if end else start.message, duration_s=duration, exit_code=d.get("exit_code"),
        lines=int(d["lines"]) if "lines" in d else int(stored or 0),
        artifacts=[a for a in d.get("artifacts", []) if isinstance(a, dict)],
        plan=list(start.detail.get("plan", [])), end_id=end.id if end else None, detail=d,
    )


def runs(log: AuditLog, *, filters: HistoryFilter | None = None, before_id: int | None = None,
         limit: int = PAGE_SIZE) -> list[RunSummary]:
    """The action runs (action.start rows) matching `filters` (its kind is ignored), newest first."""
    from dataclasses import replace

    starts = page(log, filters=replace(filters or HistoryFilter(), kind="action.start"), before_id=before_id,
                  limit=limit)
    return [run_summary(log, s.id) for s in starts]


__all__ = ["COUNT_CAP", "PAGE_SIZE", "Facets", "HistoryCount", "HistoryFilter", "RunSummary", "count", "facets",
           "page", "run_output", "run_summary", "runs", "timestamp"]
