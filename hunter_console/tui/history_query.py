"""What the history screen asks of the audit log, as plain functions (no textual here).

They run in the screen's thread workers on a read connection of their own (`reader`), so a long
read (the export verifies the whole chain) never holds the lock of the session's connection that
the UI thread refreshes through every second.

- `load_page`: one page of rows for the table, newest first, keyset paging (`before_id`), with the
  output and progress rows of runs left out unless asked for. `hunter_console.history.page` has
  no "kind is not" filter, so they are skipped here, reading on until a page is full or
  MAX_SCAN rows were read (the screen asks again when the operator scrolls on).
- `load_newer`: the rows appended since the newest one the table holds.
- `count_shown`: the count next to the filters, capped like `history.count`.
- `parse_when`: "1h", "30m", "2d", "10:00", "2026-11-27 10:00" -> a bound for HistoryFilter.
- `write_report`: the release report (Markdown) next to the audit db.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

from hunter_console import history
from hunter_console.audit import KINDS, AuditEvent, AuditLog
from hunter_console.history import COUNT_CAP, HistoryCount, HistoryFilter

HIDDEN_KINDS = ("action.output", "action.progress")
PAGE_ROWS = 100  # rows a page adds to the table
SCAN_BATCH = 200  # rows read at a time while skipping hidden ones
MAX_SCAN = 5_000  # rows read at most for one page (then the page ends short, and resumes on demand)
# The kinds most rows are (probes, runs, sign-offs): counted first, they reach the cap soonest.
COMMON_FIRST = {k: i for i, k in enumerate(("probe", "action.start", "action.end", "signoff", "session.open"))}
MAX_NEWER = 2_000  # new rows taken in at once; more than that and the table is reloaded instead


def reader(path: Path | str) -> AuditLog:
    """A read connection of the screen's own (never creates nor migrates the log)."""
    return AuditLog(path, create=False)


def shows_hidden(filters: HistoryFilter, show_output: bool) -> bool:
    """Output and progress rows are shown when asked for, or when the kind filter picks one."""
    return show_output or filters.kind in HIDDEN_KINDS


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]  # the rows to show, newest first
    before_id: int | None  # where the next page starts (the oldest id read, shown or not)
    done: bool  # nothing older matches


def load_page(log: AuditLog, filters: HistoryFilter, *, before_id: int | None = None, show_output: bool = False,
              limit: int = PAGE_ROWS, max_scan: int = MAX_SCAN) -> Page:
    """Up to `limit` rows older than `before_id`, newest first (keyset: never OFFSET)."""
    keep_all = shows_hidden(filters, show_output)
    shown: list[AuditEvent] = []
    cursor, scanned = before_id, 0
    while len(shown) < limit and scanned < max_scan:
        want = limit - len(shown) if keep_all else SCAN_BATCH
        batch = history.page(log, filters=filters, before_id=cursor, limit=want)
        if not batch:
            return Page(shown, cursor, True)
        scanned += len(batch)
        cursor = batch[-1].id
        for event in batch:
            if keep_all or event.kind not in HIDDEN_KINDS:
                shown.append(event)
                if len(shown) == limit:
                    return Page(shown, event.id, False)
        if len(batch) < want:
            return Page(shown, cursor, True)
    return Page(shown, cursor, False)


def load_newer(log: AuditLog, filters: HistoryFilter, newest_id: int, *, show_output: bool = False,
               limit: int = MAX_NEWER) -> list[AuditEvent] | None:
    """The matching rows with an id above `newest_id`, newest first; None when there are more
    than `limit` of them (the caller reloads instead of inserting them all)."""
    keep_all = shows_hidden(filters, show_output)
    found: list[AuditEvent] = []
    cursor, read = None, 0
    while True:
        batch = history.page(log, filters=filters, before_id=cursor, limit=SCAN_BATCH)
        for event in batch:
            if event.id <= newest_id:
                return found
            if keep_all or event.kind not in HIDDEN_KINDS:
                found.append(event)
        read += len(batch)
        if len(batch) < SCAN_BATCH:
            return found
        if read >= limit:
            return None
        cursor = batch[-1].id


def head_id(log: AuditLog) -> int:
    return log.head()[0]


def count_shown(log: AuditLog, filters: HistoryFilter, *, show_output: bool = False,
                kinds: Iterable[str] = (), cap: int = COUNT_CAP) -> HistoryCount:
    """How many rows the table would show, counted up to `cap` (like `history.count`)."""
    total = history.count(log, filters, cap=cap)
    if shows_hidden(filters, show_output) or filters.kind:
        return total
    if not total.capped:  # exact: take the hidden kinds away
        hidden = sum(history.count(log, replace(filters, kind=k), cap=cap).n for k in HIDDEN_KINDS)
        return HistoryCount(total.n - hidden)
    n = 0  # the shown kinds one by one, the commonest first, until the cap
    for kind in sorted(set(KINDS) | set(kinds), key=lambda k: (COMMON_FIRST.get(k, len(COMMON_FIRST)), k)):
        if kind in HIDDEN_KINDS:
            continue
        c = history.count(log, replace(filters, kind=kind), cap=cap - n)
        n += c.n
        if c.capped or n >= cap:
            return HistoryCount(min(n, cap), True)
    return HistoryCount(n)


# -- the time range --------------------------------------------------------------------------------
_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)$", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_when(text: str, now: datetime) -> str | None:
    """A bound typed in the filter bar, as `HistoryFilter.since`/`until` take it (UTC ISO text).

    "1h", "30m", "2d": that long before `now`; "10:00": today (UTC) at 10:00; "2026-11-27",
    "2026-11-27 10:00", "2026-11-27T10:00:30": as written (UTC). "" is no bound. Raises ValueError
    with the operator's words for anything else.
    """
    text = text.strip()
    if not text:
        return None
    m = _RELATIVE.match(text)
    if m:
        seconds = float(m.group(1)) * _UNITS[m.group(2).lower()]
        return history.timestamp(now - timedelta(seconds=seconds))
    if re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
        hh, mm, *ss = (int(p) for p in text.split(":"))
        try:
            at = now.astimezone(timezone.utc).replace(hour=hh, minute=mm, second=ss[0] if ss else 0, microsecond=0)
        except ValueError:
            raise ValueError(f"not a time of day: {text!r}") from None
        return history.timestamp(at)
    normal = text.replace("T", " ").rstrip("Z")
    try:
        parsed = datetime.fromisoformat(normal)
    except ValueError:
        raise ValueError(f"not a time: {text!r} (try 1h, 30m, 2d, 10:00 or 2026-11-27 10:00)") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    if len(normal) == 10:  # a day: as written, it compares as the start of that day
        return parsed.strftime("%Y-%m-%d")
    return history.timestamp(parsed.replace(tzinfo=timezone.utc))


# -- the release report ------------------------------------------------------------------------------
def report_path(audit_path: Path, release: str, environment: str, now: datetime) -> Path:
    """`release-report-<release>-<env>-<stamp>.md` next to the audit db; never over an earlier one."""
    safe = [re.sub(r"[^A-Za-z0-9._-]+", "_", part) for part in (release, environment)]
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    base = audit_path.parent / f"release-report-{safe[0]}-{safe[1]}-{stamp}"
    path, n = base.with_name(base.name + ".md"), 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}.md")
    return path


def write_report(session, now: datetime) -> Path:
    """The release report of the session's release and environment (Markdown, as
    `hunter-console audit export` writes it), read on a connection of its own."""
    from hunter_console.audit.export import export

    log = reader(session.audit.path)
    try:
        text = export(log, "md", session=session, release=session.release, environment=session.environment)
    finally:
        log.close()
    path = report_path(session.audit.path, session.release, session.environment, now)
    with open(path, "x", encoding="utf-8") as out:  # "x": a report is never written over
        out.write(text)
    return path
