"""How session state reads on screen: pure functions from domain objects to Rich text.

No widgets here, so these are easy to test and shared by every pane and screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

from rich.text import Text

from hunter_console.checklist.model import Checklist, Item, Section
from hunter_console.events import ActionFinished, ActionStarted, Decision, ProbeResult

# One colour per meaning; all of them read in 256 colours.
BADGE_STYLES = {
    "DONE": "green",
    "SIGNED": "bold green",
    "PASS": "bold green",
    "WARN": "bold yellow",
    "FAIL": "bold red",
    "ERROR": "bold red",
    "PENDING": "dim",
    "OPEN": "bold",
    "RUNNING": "bold yellow",
    "OK": "bold green",
    "FAILED": "bold red",
    "INTERRUPTED": "bold magenta",
}
BADGE_WIDTH = 7
CODE_STYLE = "bold cyan"


def badge(label: str) -> Text:
    """The fixed-width status badge: `SIGNED `, `OPEN   `, `RUNNING`; longer words are cut
    (`INTERR…`), the detail screen says them in full."""
    shown = label if len(label) <= BADGE_WIDTH else label[: BADGE_WIDTH - 1] + "…"
    return Text(shown.ljust(BADGE_WIDTH), style=BADGE_STYLES.get(label, "bold"))


def now() -> datetime:
    """The console's clock for ages ("12 min old"); tests pin it."""
    return datetime.now(timezone.utc)


def title_text(title: str, style: str = "") -> Text:
    """A checklist title with its `code spans` shown as code, without the backticks."""
    text = Text(style=style)
    for index, part in enumerate(title.split("`")):
        if part:
            text.append(part, style=CODE_STYLE if index % 2 else "")
    return text


def when(ts: datetime | None) -> str:
    if ts is None:
        return "-"
    return ts.strftime("%Y-%m-%d %H:%M:%S UTC")


def origin(operator: str, host: str) -> str:
    """alice@192.0.2.10 for `ssh 192.0.2.10`, alice@bastion for `local bastion`."""
    where = host.split(" ", 1)[1] if " " in host else host
    return f"{operator}@{where}" if where else operator


@dataclass(frozen=True)
class ReleaseSummary:
    """What the header shows; built from the session by the screen and handed down."""

    release: str = ""
    environment: str = ""
    operator: str = ""
    host: str = ""
    gate: str = "NO-GO"
    open_required: int = 0
    decision: Decision | None = None
    holder: str | None = None  # who runs an action on the environment now (the lock's words)


@dataclass(frozen=True)
class SectionRow:
    """One line of the sections pane: a section with items, or a heading above some."""

    id: str
    title: str
    indent: int
    section: Section | None = None  # None for a heading that only groups sections


def section_rows(checklist: Checklist) -> list[SectionRow]:
    """The sections as an indented outline, the headings above them shown once each.

    The path every section shares (the document's own title) is left out.
    """
    paths = [tuple(s.path) for s in checklist.sections]
    common = _common_prefix(paths)
    rows: list[SectionRow] = []
    shown: set[tuple[str, ...]] = set()
    for section in checklist.sections:
        path = tuple(section.path)[len(common) :]
        for depth in range(len(path)):
            heading = path[: depth + 1]
            if heading not in shown:
                shown.add(heading)
                rows.append(SectionRow(f"heading-{len(rows)}", heading[-1], depth))
        shown.add(path + (section.title,))
        rows.append(SectionRow(section.id, section.title, len(path), section))
    return rows


def section_path(checklist: Checklist, section: Section) -> str:
    """`Deployment Hazırlık › Health Checks`: the headings above a section and its title,
    without the document title every section shares."""
    common = _common_prefix([tuple(s.path) for s in checklist.sections])
    return " › ".join((*tuple(section.path)[len(common) :], section.title))


def _common_prefix(paths: list[tuple[str, ...]]) -> tuple[str, ...]:
    if not paths:
        return ()
    prefix = paths[0]
    for path in paths[1:]:
        n = 0
        while n < min(len(prefix), len(path)) and prefix[n] == path[n]:
            n += 1
        prefix = prefix[:n]
    return prefix


def kind_label(item: Item) -> str:
    return item.kind.value


PROBE_LABELS = ("OPEN", "PASS", "WARN", "FAIL", "ERROR", "PENDING")


def item_label(label: str, *, has_probe: bool, probing: bool, pending: bool) -> str:
    """What the badge says: the session's label, or PENDING while this item's probe is being
    (re-)run, or before its first answer while the probes run. A sign-off or a run wins."""
    if has_probe and label in PROBE_LABELS and (pending or (probing and label == "OPEN")):
        return "PENDING"
    return label


# -- probes ---------------------------------------------------------------------------------------
def latency(ms: float) -> str:
    """`9 ms`, `2.3 s`: at most 6 characters up to 999 s."""
    return f"{ms:.0f} ms" if ms < 999.5 else f"{ms / 1000:.1f} s"


def health_path(item: Item) -> str | None:
    """The /healthz/* path an http probe item checks, or None: these are the target's health."""
    spec = item.probe
    if spec is None or spec.kind != "http":
        return None
    path = str(spec.params.get("path", ""))
    return path if path.startswith("/healthz") else None


# -- actions --------------------------------------------------------------------------------------
def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def age(ts: datetime | str | None) -> str:
    """`12 min old`, from a datetime or an ISO 8601 string, against `now()`."""
    if ts is None:
        return "age unknown"
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return "age unknown"
    seconds = max(0.0, (now() - ts).total_seconds())
    if seconds < 90:
        return f"{seconds:.0f} s old"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min old"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.0f} h old"
    return f"{seconds / 86400:.0f} days old"


def size(n: int | float | None) -> str:
    if n is None:
        return "size unknown"
    value = float(n)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


def short_path(path: str, width: int) -> str:
    """A path cut from the left to fit: `…/backups/backup_pre_v1.0.0.dump`."""
    if len(path) <= width:
        return path
    name = PurePath(path).name
    if len(name) + 2 >= width:
        return "…" + name[-(width - 1):]
    return "…" + path[-(width - 1):]


def backup_choice(backup: dict[str, Any]) -> str:
    """How the restore option names the backup: its file, size and age."""
    name = PurePath(str(backup.get("path", "?"))).name
    return f"restore {short_path(name, 34)} ({size(backup.get('size'))}, {age(backup.get('taken'))})"


def backup_facts(backup: dict[str, Any], width: int = 70) -> str:
    """The backup a restore would use, in full: where it is and the start of its sha256."""
    sha = f" · sha256 {str(backup.get('sha256', ''))[:12]}"
    return f"backup {short_path(str(backup.get('path', '?')), max(20, width - 7 - len(sha)))}{sha}"


def run_status(event: ActionStarted | ActionFinished | None) -> str:
    """RUNNING, OK, FAILED, CANCELLED or INTERRUPTED (STARTING before the start is known)."""
    if event is None:
        return "STARTING"
    if isinstance(event, ActionStarted):
        return "RUNNING"
    return {"ok": "OK", "interrupted": "INTERRUPTED", "cancelled": "CANCELLED"}.get(event.status, "FAILED")


def outcome_text(end: ActionFinished) -> Text:
    """`OK  backup finished in 0.4 s: backup verified …` (green), or FAILED in red."""
    status = run_status(end)
    style = "bold green" if status == "OK" else ("bold magenta" if status == "INTERRUPTED" else "bold red")
    verb = "finished" if status == "OK" else status.lower()
    return Text.assemble((f" {status} ", f"reverse {style}"), " ",
                         (f"{end.action} {verb} in {duration(end.duration_s)}", style),
                         (f": {end.outcome.message}" if end.outcome.message else "", ""))
