"""Checklist model, loaders and the default Hunter v1.0 checklist.

    load_checklist(None)            the default Hunter v1.0 checklist
    load_checklist(Path("x.md"))    the team's Markdown checklist, as written
    load_checklist(Path("x.toml"))  the strict TOML format (explicit probes and actions)
    validate_file(path)             every problem, as `file:line: message`

A file that cannot be loaded raises `ChecklistError`, whose text is `file:line: message`.
"""

from __future__ import annotations

from pathlib import Path

from hunter_console.checklist.default import DEFAULT_CHECKLIST, EXPECTED_HEAD, default_checklist
from hunter_console.checklist.model import Checklist, Item, ItemKind, ProbeSpec, Section
from hunter_console.checklist.problems import (
    MARKDOWN_SUFFIXES,
    TOML_SUFFIXES,
    ChecklistError,
    Problem,
    validate_file,
)

__all__ = [
    "Checklist", "Item", "ItemKind", "ProbeSpec", "Section",
    "ChecklistError", "Problem", "validate_file", "load_checklist",
    "DEFAULT_CHECKLIST", "EXPECTED_HEAD", "default_checklist",
]


def load_checklist(path: Path | str | None = None) -> Checklist:
    """The default checklist for None; else the file, by its suffix (.md/.markdown or .toml)."""
    if path is None:
        return DEFAULT_CHECKLIST
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        from hunter_console.checklist.markdown import load_markdown

        return load_markdown(path)
    if suffix in TOML_SUFFIXES:
        from hunter_console.checklist.toml import load_toml

        return load_toml(path)
    raise ChecklistError(f"{path}:0: unknown checklist format '{path.suffix or '(no suffix)'}' (use .md or .toml)",
                         [Problem(str(path), 0, f"unknown checklist format '{path.suffix or '(no suffix)'}' (use .md or .toml)")])
