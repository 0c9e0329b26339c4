"""The checklist as data: sections of items, each item checked by a probe, done by an
action, or signed off by a person. Pure data, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterator


class ItemKind(StrEnum):
    PROBE = "probe"  # a machine can check it
    ACTION = "action"  # the console does it (backup, migrate, deploy, ...)
    MANUAL = "manual"  # only a person can judge it: a sign-off


@dataclass(frozen=True)
class ProbeSpec:
    """Which probe checks an item, and with what parameters (thresholds, paths)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    interval: float = 30.0  # seconds between refreshes
    timeout: float = 5.0


@dataclass(frozen=True)
class Item:
    id: str  # stable: "health-checks.liveness-probe"; what the audit log refers to
    title: str  # as the checklist writes it, code spans kept: "Liveness probe (`/healthz/live`)"
    kind: ItemKind = ItemKind.MANUAL
    required: bool = True
    probe: ProbeSpec | None = None
    action: str | None = None  # "backup", "migrate", "deploy", "verify", "rollback"
    done_before: bool = False  # ticked in the checklist before this console saw it
    commands: tuple[str, ...] = ()  # fenced command blocks attached to the step
    detail: str = ""  # what it checks, in the operator's words
    line: int | None = None  # where it came from, for file:line errors


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    items: tuple[Item, ...] = ()
    path: tuple[str, ...] = ()  # the titles of the headings above it, outermost first
    line: int | None = None

    @property
    def depth(self) -> int:
        return len(self.path)


@dataclass(frozen=True)
class Checklist:
    title: str
    sections: tuple[Section, ...]
    source: str = "default"  # a file path, or "default"

    def items(self) -> Iterator[Item]:
        for section in self.sections:
            yield from section.items

    def item(self, item_id: str) -> Item:
        for item in self.items():
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def section_of(self, item_id: str) -> Section:
        for section in self.sections:
            if any(item.id == item_id for item in section.items):
                return section
        raise KeyError(item_id)

    def find(self, item_or_section: str) -> list[Item]:
        """Items matching an item id, a section id or a section title (case-insensitive)."""
        wanted = item_or_section.casefold()
        for section in self.sections:
            if wanted in (section.id.casefold(), section.title.casefold()):
                return list(section.items)
        return [item for item in self.items() if item.id.casefold() == wanted]

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "source": self.source,
            "sections": [
                {
                    "id": section.id,
                    "title": section.title,
                    "path": list(section.path),
                    "items": [
                        {
                            "id": item.id,
                            "title": item.title,
                            "kind": item.kind.value,
                            "required": item.required,
                            "done": item.done_before,
                            **({"probe": item.probe.kind} if item.probe else {}),
                            **({"action": item.action} if item.action else {}),
                            **({"commands": list(item.commands)} if item.commands else {}),
                        }
                        for item in section.items
                    ],
                }
                for section in self.sections
            ],
        }
