"""`checklist show` and `checklist validate`: what the console will take a release through."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hunter_console.checklist import Checklist, ChecklistError, Item, load_checklist, validate_file
from hunter_console.checklist.problems import MARKDOWN_SUFFIXES, TOML_SUFFIXES
from hunter_console.commands.common import EXIT_FAILED, EXIT_USAGE, fail, print_json, say, settings

app = typer.Typer(
    help="Show or validate a checklist (the default Hunter v1.0 one, a team's Markdown, or TOML).",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _existing(path: Path) -> Path:
    if not path.exists():
        fail(f"{path}: no such file", EXIT_USAGE)
    if path.is_dir():
        fail(f"{path}: is a directory, not a checklist file", EXIT_USAGE)
    if path.suffix.lower() not in MARKDOWN_SUFFIXES + TOML_SUFFIXES:
        fail(f"{path}: unknown checklist format '{path.suffix or '(no suffix)'}' (use .md or .toml)", EXIT_USAGE)
    return path


def _item_line(item: Item, indent: str) -> str:
    mark = "[x]" if item.done_before else "[ ]"
    what = item.kind.value
    if item.probe is not None:
        what += f" {item.probe.kind}"
    elif item.action:
        what += f" {item.action}"
    optional = "  (optional)" if not item.required else ""
    return f"{indent}{mark} {item.title}  [{what}]{optional}  {item.id}"


def render_tree(checklist: Checklist) -> list[str]:
    """The checklist as an indented outline: headings once each, sections by depth, then items."""
    lines = [f"{checklist.title}  ({checklist.source})"]
    shown: set[tuple[str, ...]] = set()
    for section in checklist.sections:
        for depth in range(len(section.path)):
            heading = tuple(section.path[: depth + 1])
            if heading not in shown:
                shown.add(heading)
                lines.append(f"{'  ' * (depth + 1)}{heading[-1]}")
        indent = "  " * (section.depth + 1)
        done = sum(item.done_before for item in section.items)
        lines.append(f"{indent}{section.title}  ({done}/{len(section.items)} done)")
        lines.extend(_item_line(item, indent + "  ") for item in section.items)
    return lines


@app.command()
def show(
    ctx: typer.Context,
    file: Optional[Path] = typer.Argument(None, help="Checklist file (.md or .toml); default: the configured one."),
    as_json: bool = typer.Option(False, "--json", help="Print the checklist as JSON."),
) -> None:
    """Show the checklist: sections, items, whether each is a probe, an action or a sign-off."""
    path = _existing(file) if file is not None else settings(ctx).checklist_path
    try:
        checklist = load_checklist(path)
    except ChecklistError as e:
        fail(f"checklist error: {e}", EXIT_FAILED if file is not None else EXIT_USAGE)
    if as_json:
        print_json(checklist.to_json())
        return
    for line in render_tree(checklist):
        say(line)


@app.command()
def validate(
    file: Path = typer.Argument(..., help="Checklist file to check (.md or .toml)."),
) -> None:
    """Check a checklist file; print every problem as file:line: message (exit 1 if any)."""
    _existing(file)
    problems = validate_file(file)
    if problems:
        for problem in problems:
            say(str(problem))
        raise typer.Exit(EXIT_FAILED)
    checklist = load_checklist(file)
    sections = len(checklist.sections)
    items = sum(len(section.items) for section in checklist.sections)
    say(f"{file}: OK, {sections} section{'s' if sections != 1 else ''}, {items} item{'s' if items != 1 else ''}")
