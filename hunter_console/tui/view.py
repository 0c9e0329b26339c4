"""How session state reads on screen: pure functions from domain objects to Rich text.

No widgets here, so these are easy to test and shared by every pane and screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.text import Text

from hunter_console.checklist.model import Checklist, Item, Section
from hunter_console.events import Decision

# One colour per meaning; all of them read in 256 colours.
BADGE_STYLES = {
    "DONE": "green",
    "SIGNED": "bold green",
    "PASS": "bold green",
    "WARN": "bold yellow",
    "FAIL": "bold red",
    "ERROR": "bold red",
    "OPEN": "bold",
}
BADGE_WIDTH = 6
CODE_STYLE = "bold cyan"


def badge(label: str) -> Text:
    """The fixed-width status badge: `SIGNED`, `OPEN  `, `FAIL  `."""
    return Text(label.ljust(BADGE_WIDTH), style=BADGE_STYLES.get(label, "bold"))


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
