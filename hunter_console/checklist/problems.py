"""What is wrong with a checklist file, said as `file:line: message`, and `validate_file`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MARKDOWN_SUFFIXES = (".md", ".markdown")
TOML_SUFFIXES = (".toml",)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int  # 1-based; 0 when the problem is the file as a whole (missing, unreadable)
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ChecklistError(Exception):
    """A checklist that cannot be loaded; `str()` is `file:line: message` (the first problem)."""

    def __init__(self, message: str, problems: tuple[Problem, ...] | list[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    @classmethod
    def of(cls, problems: list[Problem]) -> "ChecklistError":
        first = min(problems, key=lambda p: (p.line, p.message))
        more = len(problems) - 1
        suffix = f" (and {more} more problem{'s' if more > 1 else ''}; run `hunter-console checklist validate {first.path}`)" if more else ""
        return cls(f"{first}{suffix}", sorted(problems, key=lambda p: (p.line, p.message)))


def read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The file's text (BOM dropped, newlines normalised), or the problem reading it."""
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, [Problem(where, 0, "no such file")]
    except IsADirectoryError:
        return None, [Problem(where, 0, "is a directory, not a checklist file")]
    except OSError as e:
        return None, [Problem(where, 0, f"cannot read: {e.strerror or e}")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        return None, [Problem(where, line, f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); save the file as UTF-8")]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def validate_file(path: Path | str) -> list[Problem]:
    """Every problem in a Markdown or TOML checklist file, in line order (empty: the file is fine)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in TOML_SUFFIXES:
        from hunter_console.checklist.toml import parse_toml_file

        _, problems = parse_toml_file(path)
    elif suffix in MARKDOWN_SUFFIXES:
        from hunter_console.checklist.markdown import parse_markdown_file

        _, problems = parse_markdown_file(path)
    else:
        problems = [Problem(str(path), 0, f"unknown checklist format '{path.suffix or '(no suffix)'}' (use .md or .toml)")]
    return sorted(problems, key=lambda p: (p.line, p.message))
