"""Load a checklist written in Markdown the way teams write them (the seed file as it is).

What becomes what:

- headings -> sections. A section's `path` is the titles of the headings above it. A heading
  with nothing of its own (only sub-headings, or prose) is not a section, only a path element.
  The document's single H1 is the checklist's title, not a path element.
- `- [ ] text`, `- [x] text` (also `*`/`+` bullets, `[X]`, `1. [ ]`) -> items; `[x]` is
  `done_before`. Nested checkboxes are items of the same section; plain bullets and paragraphs
  under a checkbox become its `detail`; command blocks under it become its `commands`.
- a heading whose own content has fenced shell blocks (```bash, ```sh, ``` ...) is a *step*:
  one item titled by the heading, the blocks as its `commands`, kind `action` when the action
  is obvious from the heading or the commands (backup / migrate / deploy / verify / rollback /
  restore), else `manual` (the operator runs the commands and signs off). Its id is
  `<section>.<action>` (`step-2-database-backup.backup`).
- a numbered procedure (a top-level `1.` list where at least one step has a command block, as
  in the Rollback Plan) -> one item per numbered step, titled by its first line.
- steps under a heading that says rollback / if needed / if issues / optional are not required.

Titles keep code spans as written (`` `/healthz/live` ``); **bold**, links and HTML comments
are reduced to their text; emoji are dropped. Headings also lose a leading outline number
("## 🚀 1. Deploy" -> "Deploy"), but words with numbers stay ("Step 1: Pre-Deployment
Verification"). YAML/TOML front matter is skipped; CRLF, CR and a UTF-8 BOM are accepted.

Ids are `<section-slug>.<item-slug>` (see `ids.slugify`), deduplicated with -2, -3 in order of
appearance, so the same file always gives the same ids. `Item.line` is the item's line in the
file (a step's: its heading's).

Anything the loader would have to guess at — a malformed checkbox (`- [ x]`, `-[ ]`, `- []`), an
empty item, a duplicate title in a section, an unclosed ``` block or HTML comment, a checkbox
before any heading, no items at all — is a `Problem`, and `load_markdown` refuses such a file:
a release checklist that silently loses an item is worse than one that does not load.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt
from markdown_it.token import Token

from hunter_console.checklist.ids import slugify, unique
from hunter_console.checklist.model import Checklist, Item, ItemKind, Section
from hunter_console.checklist.problems import ChecklistError, Problem, read_text

__all__ = ["load_markdown", "parse_markdown", "parse_markdown_file", "infer_action", "SHELL_LANGUAGES"]

_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])

SHELL_LANGUAGES = frozenset({"", "bash", "sh", "shell", "zsh", "fish", "ksh", "console", "shell-session",
                             "shellsession", "terminal", "powershell", "pwsh", "ps1", "cmd", "bat", "batch"})

CHECKBOX = re.compile(r"^\[([ xX])\](?:[ \t]+|$)")
_MARKER = r"^[ \t]*(?:[-*+]|\d{1,9}[.)])"
_BAD_NO_SPACE = re.compile(_MARKER + r"\[[ xX]?\]")
_BAD_EMPTY = re.compile(_MARKER + r"[ \t]+\[\](?![(\[:])")
_BAD_MARK = re.compile(_MARKER + r"[ \t]+\[([ \txX✓✔✗*\-vV]{1,3})\](?![(\[:])")
_BAD_GLUED = re.compile(_MARKER + r"[ \t]+\[[ xX]\](?=[^\s(\[:])")

# "1. Deploy", "2) Deploy", "2.1 Deploy" lose their outline number; "10 Domains" keeps its number.
_OUTLINE_NUMBER = re.compile(r"^(?:\d{1,3}[.)]|\d{1,3}(?:\.\d{1,3})+[.)]?)(?:\s+|$)")
_OPTIONAL_CONTEXT = re.compile(r"(?i)\b(roll ?back|rollback|if needed|if issues|if required|optional|contingency)\b")
_OPTIONAL_ITEM = re.compile(r"(?i)\(optional\)|^optional\b")

# (action, pattern on the step's title), first match wins; then the same on its commands.
_ACTION_TITLES = (
    ("restore", re.compile(r"(?i)\brestor|\b(database|db|schema|data)\b.*\broll ?back\b")),
    ("rollback", re.compile(r"(?i)\broll ?back|\bundo\b|\brevert\b")),
    ("backup", re.compile(r"(?i)\bback ?up|\bdump\b|\bsnapshot\b")),
    ("migrate", re.compile(r"(?i)\bmigrat")),
    ("verify", re.compile(r"(?i)\bverif|\bsmoke\b|\bvalidat|\bcheck")),
    ("deploy", re.compile(r"(?i)\bdeploy|\brelease\b|\broll ?out\b")),
)
_ACTION_COMMANDS = (
    ("rollback", re.compile(r"rollout undo|helm rollback")),
    ("restore", re.compile(r"alembic downgrade|pg_restore|psql\b[^\n]*<")),
    ("backup", re.compile(r"\bpg_dump")),
    ("migrate", re.compile(r"alembic upgrade")),
    ("deploy", re.compile(r"kubectl apply|kubectl set image|docker[- ]compose\b[^\n]*\bup\b|helm (?:upgrade|install)")),
    ("verify", re.compile(r"\bcurl\b|\bpytest\b|alembic current")),
)


def infer_action(title: str, commands: list[str] | tuple[str, ...] = ()) -> str | None:
    """The console action a step is, when it is obvious: from its title, else its commands."""
    for action, pattern in _ACTION_TITLES:
        if pattern.search(title):
            return action
    text = "\n".join(commands)
    for action, pattern in _ACTION_COMMANDS:
        if pattern.search(text):
            return action
    return None


# -- text ------------------------------------------------------------------------------------
def _is_emoji(ch: str) -> bool:
    cp = ord(ch)
    if cp in (0xFE0F, 0xFE0E, 0x200D, 0x20E3) or 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F:
        return True
    return cp >= 0x2300 and unicodedata.category(ch) == "So"


def _render(children: list[Token] | None) -> str:
    """Inline tokens back to text: code spans as written, emphasis/links/HTML reduced to text."""
    out: list[str] = []
    for token in children or []:
        if token.type == "text":
            out.append(token.content)
        elif token.type == "code_inline":
            out.append(f"{token.markup}{token.content}{token.markup}")
        elif token.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif token.type == "image":
            out.append(_render(token.children))
    return "".join(out)


def _clean(text: str) -> str:
    text = "".join(ch for ch in text if not _is_emoji(ch))
    return re.sub(r"\s+", " ", text).strip()


def _heading_title(text: str) -> str:
    text = _OUTLINE_NUMBER.sub("", _clean(text))
    return text.rstrip(":").strip()


def _comment_summary(commands: list[str]) -> str:
    """`# 1. Health checks` lines of a step's commands: what the step does, in its author's words."""
    said = []
    for block in commands:
        for line in block.splitlines():
            stripped = line.strip()
            if stripped.startswith("#") and not stripped.startswith("#!"):
                words = re.sub(r"^\d{1,3}[.)]\s*", "", stripped.lstrip("#").strip())
                if words:
                    said.append(words)
    return "; ".join(said)


def _strip_front_matter(lines: list[str]) -> int:
    """Blank out a leading YAML (---) or TOML (+++) front matter block; how many lines it had."""
    if not lines or lines[0].strip() not in ("---", "+++"):
        return 0
    fence = lines[0].strip()
    closers = ("---", "...") if fence == "---" else ("+++",)
    for index in range(1, len(lines)):
        if lines[index].strip() in closers:
            for blank in range(index + 1):
                lines[blank] = ""
            return index + 1
    return 0


# -- parsing ---------------------------------------------------------------------------------
@dataclass
class _Draft:
    title: str
    line: int
    done: bool = False
    kind: ItemKind = ItemKind.MANUAL
    action: str | None = None
    commands: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    required: bool = True
    slug: str | None = None
    detail: str = ""


@dataclass
class _Step:
    title: str
    line: int
    fences: list[str]
    notes: list[str]


@dataclass
class _SectionDraft:
    title: str
    path: tuple[str, ...]
    line: int
    under_heading: bool
    items: list[_Draft] = field(default_factory=list)
    fences: list[str] = field(default_factory=list)
    steps: list[_Step] = field(default_factory=list)


@dataclass
class _ListItem:
    line: int
    ordered: bool
    top: bool
    seen_first: bool = False
    item: _Draft | None = None
    text: str = ""
    notes: list[str] = field(default_factory=list)
    fences: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self, text: str, source: str, default_title: str) -> None:
        self.source = source
        self.lines = text.split("\n")
        self.front_matter = _strip_front_matter(self.lines)
        self.tokens = _MD.parse("\n".join(self.lines))
        self.default_title = default_title
        self.problems: list[Problem] = []
        self.sections: list[tuple[_SectionDraft, list[_Draft]]] = []
        self.item_lines: set[int] = set()
        self.skip_lines: set[int] = set(range(self.front_matter))

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.source, line, message))

    def run(self) -> tuple[Checklist, list[Problem]]:
        tokens = self.tokens
        headings = [i for i, t in enumerate(tokens) if t.type == "heading_open"]
        h1s = [i for i in headings if tokens[i].tag == "h1"]
        title = _heading_title(_render(tokens[h1s[0] + 1].children)) if h1s else ""
        title = title or self.default_title
        title_heading = h1s[0] if len(h1s) == 1 else None

        stack: list[tuple[int, str]] = []
        current = _SectionDraft(title, (), 1, under_heading=False)
        lists: list[bool] = []  # ordered?
        open_items: list[_ListItem] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            if kind == "heading_open":
                level = int(token.tag[1])
                text = _heading_title(_render(tokens[i + 1].children))
                line = token.map[0] + 1 if token.map else 1
                self.finish(current)
                if i == title_heading:
                    stack = []
                    current = _SectionDraft(title, (), line, under_heading=True)
                else:
                    while stack and stack[-1][0] >= level:
                        stack.pop()
                    path = tuple(t for _, t in stack)
                    stack.append((level, text))
                    current = _SectionDraft(text, path, line, under_heading=True)
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                lists.append(kind == "ordered_list_open")
            elif kind in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
            elif kind == "list_item_open":
                line = token.map[0] + 1 if token.map else 1
                open_items.append(_ListItem(line, lists[-1] if lists else False, top=not open_items))
            elif kind == "list_item_close":
                self.close_list_item(open_items.pop(), open_items[-1] if open_items else None, current)
            elif kind == "inline" and open_items:
                self.list_text(token, open_items[-1], current)
            elif kind in ("fence", "code_block", "html_block"):
                self.block(token, open_items[-1] if open_items else None, current)
            i += 1
        self.finish(current)
        self.scan_lines()
        if not any(drafts for _, drafts in self.sections):
            self.problem(1, "no checklist items (expected lines like '- [ ] Health checks passing')")
        return Checklist(title=title, sections=self.build(), source=self.source), self.problems

    # -- blocks ------------------------------------------------------------------------------
    def list_text(self, token: Token, li: _ListItem, section: _SectionDraft) -> None:
        rendered = _render(token.children)
        if li.seen_first:
            if rendered.strip():
                li.notes.append(_clean(rendered))
            return
        li.seen_first = True
        match = CHECKBOX.match(token.content)
        if not match:
            li.text = _clean(rendered)
            return
        title = _clean(CHECKBOX.sub("", rendered.lstrip(), count=1))
        self.item_lines.add(li.line)
        if not title:
            self.problem(li.line, "empty checklist item (a checkbox with no text)")
            return
        draft = _Draft(title, li.line, done=match.group(1) in "xX", required=not _OPTIONAL_ITEM.search(title))
        li.item = draft
        section.items.append(draft)

    def close_list_item(self, li: _ListItem, parent: _ListItem | None, section: _SectionDraft) -> None:
        if li.item is not None:
            li.item.commands.extend(li.fences)
            li.item.notes.extend(li.notes)
            return
        if li.top and li.ordered:
            section.steps.append(_Step(li.text.rstrip(":").strip(), li.line, li.fences, li.notes))
            return
        said = [text for text in (li.text, *li.notes) if text]
        if parent is None:
            section.fences.extend(li.fences)
        elif parent.item is not None:
            parent.item.notes.extend(said)
            parent.item.commands.extend(li.fences)
        else:
            parent.notes.extend(said)
            parent.fences.extend(li.fences)

    def block(self, token: Token, li: _ListItem | None, section: _SectionDraft) -> None:
        if token.map is None:
            return
        start, end = token.map
        self.skip_lines.update(range(start, end))
        if token.type == "html_block":
            if token.content.lstrip().startswith("<!--") and "-->" not in token.content:
                self.problem(start + 1, "unclosed HTML comment: '<!--' without '-->' hides the rest of the file")
            return
        if token.type != "fence":
            return
        closing = self.lines[end - 1].strip() if end - 1 > start else ""
        fence_char = token.markup[:1]
        if not (closing.startswith(token.markup) and closing.strip(fence_char) == ""):
            self.problem(start + 1, f"unclosed {token.markup} block (opened here, never closed)")
        language = (token.info or "").strip().split(None, 1)[0].lower() if (token.info or "").strip() else ""
        if language not in SHELL_LANGUAGES:
            return
        commands = token.content.rstrip("\n")
        if not commands.strip():
            return
        if li is not None:
            li.fences.append(commands)
        else:
            section.fences.append(commands)

    def finish(self, section: _SectionDraft) -> None:
        drafts: list[_Draft] = []
        context = (*section.path, section.title)
        if section.under_heading and section.fences:
            action = infer_action(section.title, section.fences)
            drafts.append(_Draft(
                section.title, section.line, kind=ItemKind.ACTION if action else ItemKind.MANUAL, action=action,
                commands=list(section.fences), slug=action or "run", detail=_comment_summary(section.fences),
                required=not any(_OPTIONAL_CONTEXT.search(t) for t in context)))
        if section.under_heading and any(step.fences for step in section.steps):
            for step in section.steps:
                if not step.title:
                    self.problem(step.line, "numbered step with no title")
                    continue
                action = infer_action(step.title, step.fences) if step.fences else None
                detail = "; ".join(step.notes) or _comment_summary(step.fences)
                drafts.append(_Draft(
                    step.title, step.line, kind=ItemKind.ACTION if action else ItemKind.MANUAL, action=action,
                    commands=list(step.fences), detail=detail,
                    required=not any(_OPTIONAL_CONTEXT.search(t) for t in (*context, step.title))))
        drafts.extend(section.items)
        if not drafts:
            return
        if not section.under_heading:
            first = min(d.line for d in section.items)
            self.problem(first, "checkbox item before any heading (put it under a '## Section' heading)")
        drafts.sort(key=lambda d: d.line)
        seen: dict[str, int] = {}
        for draft in drafts:
            key = draft.title.casefold()
            if key in seen:
                self.problem(draft.line, f"duplicate item '{draft.title}' in section '{section.title}'"
                                         f" (first at line {seen[key]})")
            else:
                seen[key] = draft.line
        self.sections.append((section, drafts))

    def scan_lines(self) -> None:
        """Checkbox look-alikes the Markdown parser would not read as checkboxes."""
        for index, line in enumerate(self.lines):
            number = index + 1
            if index in self.skip_lines or number in self.item_lines:
                continue
            if _BAD_NO_SPACE.match(line):
                self.problem(number, f"malformed checkbox '{line.strip()[:40]}': no space after the list marker"
                                     " (write '- [ ] ...')")
            elif _BAD_EMPTY.match(line):
                self.problem(number, "malformed checkbox '[]' (write '[ ]' or '[x]')")
            elif (m := _BAD_MARK.match(line)) and m.group(1) not in (" ", "x", "X"):
                self.problem(number, f"malformed checkbox '[{m.group(1)}]' (write '[ ]' or '[x]')")
            elif _BAD_GLUED.match(line):
                self.problem(number, "malformed checkbox: no space after the checkbox (write '- [ ] text')")

    # -- the result --------------------------------------------------------------------------
    def build(self) -> tuple[Section, ...]:
        section_ids: set[str] = set()
        sections = []
        for draft_section, drafts in self.sections:
            section_id = unique(slugify(draft_section.title, "section"), section_ids)
            item_ids: set[str] = set()
            items = tuple(
                Item(
                    id=f"{section_id}.{unique(d.slug or slugify(d.title), item_ids)}",
                    title=d.title,
                    kind=d.kind,
                    required=d.required,
                    action=d.action,
                    done_before=d.done,
                    commands=tuple(d.commands),
                    detail=d.detail or "; ".join(n for n in d.notes if n),
                    line=d.line,
                )
                for d in drafts
            )
            sections.append(Section(section_id, draft_section.title, items, draft_section.path, draft_section.line))
        return tuple(sections)


def parse_markdown(text: str, source: str = "<string>", default_title: str = "Checklist") -> tuple[Checklist, list[Problem]]:
    """The checklist in `text` and every problem found in it (line numbers are the file's)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    checklist, problems = _Parser(text, source, default_title).run()
    return checklist, sorted(problems, key=lambda p: (p.line, p.message))


def parse_markdown_file(path: Path | str) -> tuple[Checklist | None, list[Problem]]:
    path = Path(path)
    text, problems = read_text(path)
    if text is None:
        return None, problems
    return parse_markdown(text, str(path), path.stem)


def load_markdown(path: Path | str) -> Checklist:
    """The checklist in a Markdown file; `ChecklistError` (`file:line: message`) if it has problems."""
    checklist, problems = parse_markdown_file(path)
    if problems or checklist is None:
        raise ChecklistError.of(problems)
    return checklist
