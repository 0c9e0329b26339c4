"""A strict TOML checklist format, for teams that want probe specs and action names explicit.

    title = "Hunter v1.0"                       # optional; default: the file name

    [[sections]]
    title = "Health Checks"                     # required
    id = "health-checks"                        # optional; default: slug of the title
    path = ["Pre-Deployment Checklist"]         # optional: the headings above it

    [[sections.items]]
    title = "Liveness probe configured (`/healthz/live`)"   # required
    kind = "probe"                              # required: probe | action | manual
    id = "liveness"                             # optional; the full id is "<section id>.<id>"
    required = true                             # optional, default true
    done = false                                # optional: ticked before this console
    probe = { kind = "http", path = "/healthz/live", expect = 200, interval = 30, timeout = 5 }
    action = "deploy"                           # kind = "action" only
    commands = ["kubectl apply -f k8s/deployment.yaml"]
    detail = "GET /healthz/live answers 200."

A probe table holds the probe `kind`, optional `interval` and `timeout` (seconds), and the
probe's parameters; the parameters are checked against the probe registry. Unknown keys
anywhere are errors, reported with their key path (`sections[0].items[2].probee`) and, where the
file's text shows it, their line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from hunter_console.checklist.default import ACTIONS, PROBE_KINDS
from hunter_console.checklist.ids import slugify, unique
from hunter_console.checklist.model import Checklist, Item, ItemKind, ProbeSpec, Section
from hunter_console.checklist.problems import ChecklistError, Problem, read_text

__all__ = ["load_toml", "parse_toml", "parse_toml_file", "ACTIONS"]

TOP_KEYS = ("title", "sections")
SECTION_KEYS = ("id", "title", "path", "items")
ITEM_KEYS = ("id", "title", "kind", "required", "done", "probe", "action", "commands", "detail")
PROBE_META = ("kind", "interval", "timeout")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_KEY = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\'[^\']*\'|[A-Za-z0-9_-]+)\s*(?:\.|=)')


class _Lines:
    """Where things are in the file's text: table headers and key lines, by section/item index."""

    def __init__(self, text: str) -> None:
        self.sections: list[int] = []
        self.items: list[list[int]] = []
        self.keys: dict[tuple[int, int | None, str], int] = {}
        section, item, sub = -1, None, ""
        for number, raw in enumerate(text.split("\n"), 1):
            line = raw.strip()
            header = re.match(r"^(\[\[?)\s*([^\]]+?)\s*\]\]?", line)
            if header:
                name = re.sub(r"\s*\.\s*", ".", header.group(2))
                sub = ""
                if name == "sections" and header.group(1) == "[[":
                    section, item = section + 1, None
                    self.sections.append(number)
                    self.items.append([])
                elif name == "sections.items" and header.group(1) == "[[" and section >= 0:
                    item = len(self.items[section])
                    self.items[section].append(number)
                elif name.startswith("sections.items.") and item is not None:
                    sub = name.split(".", 2)[2]
                    self.keys.setdefault((section, item, sub), number)
                continue
            key = _KEY.match(raw)
            if key:
                name = key.group(1).strip("\"'")
                self.keys.setdefault((section, item, f"{sub}.{name}" if sub else name), number)

    def section(self, s: int) -> int:
        return self.sections[s] if 0 <= s < len(self.sections) else 1

    def item(self, s: int, i: int) -> int:
        if 0 <= s < len(self.items) and 0 <= i < len(self.items[s]):
            return self.items[s][i]
        return self.section(s)

    def key(self, s: int, i: int | None, key: str) -> int:
        if (s, i, key) in self.keys:
            return self.keys[(s, i, key)]
        if "." in key and (s, i, key.split(".", 1)[0]) in self.keys:  # an inline table: its line
            return self.keys[(s, i, key.split(".", 1)[0])]
        return self.item(s, i) if i is not None else self.section(s) if s >= 0 else 1


def _probe_problems(spec: ProbeSpec) -> list[str]:
    try:
        from hunter_console.probes.registry import spec_problems
    except ImportError:  # pragma: no cover - the probes package is part of the console
        return [] if spec.kind in PROBE_KINDS else [f"unknown probe kind '{spec.kind}'"]
    return spec_problems(spec)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Reader:
    def __init__(self, text: str, source: str, default_title: str) -> None:
        self.text = text
        self.source = source
        self.default_title = default_title
        self.problems: list[Problem] = []
        self.lines = _Lines(text)

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.source, line, message))

    def run(self) -> Checklist | None:
        try:
            data = tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as e:
            message = str(e)
            where = re.search(r"\(at line (\d+), column (\d+)\)", message)
            line = int(where.group(1)) if where else 1
            message = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
            message = message if message.endswith(")") or not where else f"{message} (column {where.group(2)})"
            self.problem(line, f"invalid TOML: {message}")
            return None
        for key in data:
            if key not in TOP_KEYS:
                self.problem(self.lines.key(-1, None, key), f"unknown key '{key}' (expected {', '.join(TOP_KEYS)})")
        title = data.get("title", self.default_title)
        if not isinstance(title, str) or not title.strip():
            self.problem(self.lines.key(-1, None, "title"), "title: expected a non-empty string")
            title = self.default_title
        raw_sections = data.get("sections")
        if raw_sections is None:
            self.problem(1, "no sections (expected [[sections]] tables with [[sections.items]])")
            return None
        if not isinstance(raw_sections, list) or not all(isinstance(s, dict) for s in raw_sections):
            self.problem(self.lines.key(-1, None, "sections"), "sections: expected [[sections]] tables")
            return None
        section_ids: set[str] = set()
        sections = [self.section(s, raw, section_ids) for s, raw in enumerate(raw_sections)]
        if not raw_sections:
            self.problem(1, "no sections (expected [[sections]] tables with [[sections.items]])")
        if self.problems:
            return None
        return Checklist(title=title.strip(), sections=tuple(s for s in sections if s), source=self.source)

    # -- a section -----------------------------------------------------------------------------
    def section(self, s: int, raw: dict[str, Any], section_ids: set[str]) -> Section | None:
        where = f"sections[{s}]"
        line = self.lines.section(s)
        for key in raw:
            if key not in SECTION_KEYS:
                self.problem(self.lines.key(s, None, key),
                             f"{where}: unknown key '{key}' (expected {', '.join(SECTION_KEYS)})")
        title = raw.get("title")
        if not isinstance(title, str) or not title.strip():
            self.problem(self.lines.key(s, None, "title") if "title" in raw else line,
                         f"{where}: {'missing title' if 'title' not in raw else 'title: expected a non-empty string'}")
            title = ""
        title = title.strip()
        named = f"{where} ('{title}')" if title else where
        section_id = self._id(raw, s, None, named, section_ids, title, "section")
        path = raw.get("path", [])
        if not isinstance(path, list) or not all(isinstance(p, str) for p in path):
            self.problem(self.lines.key(s, None, "path"), f"{named}.path: expected a list of strings")
            path = []
        raw_items = raw.get("items")
        if raw_items is None or raw_items == []:
            self.problem(line, f"{named}: no items (add [[sections.items]] tables under it)")
            return None
        if not isinstance(raw_items, list) or not all(isinstance(i, dict) for i in raw_items):
            self.problem(self.lines.key(s, None, "items"), f"{named}.items: expected [[sections.items]] tables")
            return None
        item_ids: set[str] = set()
        titles: dict[str, int] = {}
        items = []
        for i, raw_item in enumerate(raw_items):
            item = self.item(s, i, raw_item, section_id, item_ids)
            if item is None:
                continue
            key = item.title.casefold()
            if key in titles:
                self.problem(item.line or line, f"{where}.items[{i}]: duplicate item '{item.title}' in section"
                                                f" '{title}' (also items[{titles[key]}])")
            titles.setdefault(key, i)
            items.append(item)
        return Section(section_id, title, tuple(items), tuple(path), line)

    def _id(self, raw: dict[str, Any], s: int, i: int | None, where: str, taken: set[str], title: str,
            fallback: str) -> str:
        if "id" not in raw:
            return unique(slugify(title, fallback), taken)
        value = raw["id"]
        line = self.lines.key(s, i, "id")
        if not isinstance(value, str) or not _ID.match(value):
            self.problem(line, f"{where}.id: {value!r} is not an id (lowercase letters, digits and '-')")
            return unique(slugify(str(value), fallback), taken)
        if value in taken:
            self.problem(line, f"{where}.id: duplicate id '{value}'")
            return unique(value, taken)
        taken.add(value)
        return value

    # -- an item -------------------------------------------------------------------------------
    def item(self, s: int, i: int, raw: dict[str, Any], section_id: str, taken: set[str]) -> Item | None:
        where = f"sections[{s}].items[{i}]"
        line = self.lines.item(s, i)
        before = len(self.problems)

        def bad(key: str, message: str) -> None:
            self.problem(self.lines.key(s, i, key), f"{where}.{key}: {message}")

        for key in raw:
            if key not in ITEM_KEYS:
                self.problem(self.lines.key(s, i, key), f"{where}: unknown key '{key}' (expected {', '.join(ITEM_KEYS)})")
        missing = [key for key in ("title", "kind") if key not in raw]
        if missing:
            self.problem(line, f"{where}: missing {' and '.join(repr(k) for k in missing)}")
        title = raw.get("title", "")
        if "title" in raw and (not isinstance(title, str) or not title.strip()):
            bad("title", "expected a non-empty string")
        title = title.strip() if isinstance(title, str) else ""
        item_id = self._id(raw, s, i, where, taken, title, "item")

        kind = raw.get("kind")
        kinds = [k.value for k in ItemKind]
        if "kind" in raw and kind not in kinds:
            bad("kind", f"{kind!r} is not one of {', '.join(kinds)}")
        for key in ("required", "done"):
            if key in raw and not isinstance(raw[key], bool):
                bad(key, f"expected true or false, not {raw[key]!r}")
        detail = raw.get("detail", "")
        if not isinstance(detail, str):
            bad("detail", "expected a string")
            detail = ""
        commands = raw.get("commands", [])
        if isinstance(commands, str):
            commands = [commands]
        if not isinstance(commands, list) or not all(isinstance(c, str) for c in commands):
            bad("commands", "expected a string or a list of strings")
            commands = []

        spec = self.probe(raw, s, i, where) if "probe" in raw else None
        action = raw.get("action")
        if action is not None and action not in ACTIONS:
            bad("action", f"{action!r} is not one of {', '.join(ACTIONS)}")
        if kind == "probe" and "probe" not in raw:
            self.problem(line, f"{where}: kind is 'probe' but there is no probe = {{ kind = ... }}")
        if kind == "action" and action is None:
            self.problem(line, f"{where}: kind is 'action' but there is no action = \"...\"")
        if kind != "probe" and "probe" in raw and kind in kinds:
            bad("probe", f"a probe on a kind = '{kind}' item (use kind = 'probe')")
        if kind != "action" and action is not None and kind in kinds:
            bad("action", f"an action on a kind = '{kind}' item (use kind = 'action')")
        if len(self.problems) > before:
            return None
        return Item(
            id=f"{section_id}.{item_id}",
            title=title,
            kind=ItemKind(kind),
            required=raw.get("required", True),
            probe=spec,
            action=action,
            done_before=raw.get("done", False),
            commands=tuple(commands),
            detail=detail.strip(),
            line=line,
        )

    def probe(self, raw: dict[str, Any], s: int, i: int, where: str) -> ProbeSpec | None:
        table = raw["probe"]
        at = f"{where}.probe"
        if not isinstance(table, dict):
            self.problem(self.lines.key(s, i, "probe"), f"{at}: expected a table {{ kind = \"...\", ... }}")
            return None
        kind = table.get("kind")
        if not isinstance(kind, str) or not kind:
            self.problem(self.lines.key(s, i, "probe.kind"), f"{at}: missing probe kind (probe = {{ kind = \"http\", ... }})")
            return None
        timing: dict[str, float] = {}
        for key in ("interval", "timeout"):
            if key in table:
                if not _number(table[key]) or table[key] <= 0:
                    self.problem(self.lines.key(s, i, f"probe.{key}"), f"{at}.{key}: expected a number of seconds > 0")
                    return None
                timing[key] = float(table[key])
        params = {k: v for k, v in table.items() if k not in PROBE_META}
        spec = ProbeSpec(kind, params, **timing)
        for message in _probe_problems(spec):
            key = next((f"probe.{k}" for k in params if f" {k}" in message), "probe")
            self.problem(self.lines.key(s, i, key), f"{at}: {message}")
        return spec


def parse_toml(text: str, source: str = "<string>", default_title: str = "Checklist") -> tuple[Checklist | None, list[Problem]]:
    """The checklist in `text` (None when it has problems) and every problem found."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    reader = _Reader(text, source, default_title)
    checklist = reader.run()
    return checklist, sorted(reader.problems, key=lambda p: (p.line, p.message))


def parse_toml_file(path: Path | str) -> tuple[Checklist | None, list[Problem]]:
    path = Path(path)
    text, problems = read_text(path)
    if text is None:
        return None, problems
    return parse_toml(text, str(path), path.stem)


def load_toml(path: Path | str) -> Checklist:
    """The checklist in a TOML file; `ChecklistError` (`file:line: message`) if it has problems."""
    checklist, problems = parse_toml_file(path)
    if problems or checklist is None:
        raise ChecklistError.of(problems)
    return checklist
