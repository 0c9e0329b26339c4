"""Real-world Markdown checklists: front matter, emoji, numbers, nesting, bold, blanks, prose,
HTML comments, CRLF, a BOM; and every broken file reported at the right file:line."""

from __future__ import annotations

import pytest

from checklist_helpers import write
from hunter_console.checklist import ChecklistError, ItemKind, load_checklist, validate_file
from hunter_console.checklist.ids import slugify
from hunter_console.checklist.markdown import infer_action, parse_markdown

MESSY = """\ufeff---
title: Release checklist
owner: ops
---

# 🚀 Release Checklist — API v2

Some intro prose. **Read this first.**

<!-- - [ ] hidden item in a comment -->

## 1. ✅ Preparation

Prose between lists.

- [ ] **Backups** verified (`pg_dump` ran)
- [X] Owner: ______
* [ ] Ticket linked: [JIRA-123](https://example.com/JIRA-123)
  - [ ] Nested sub-item
  - note under the ticket
1. [ ] Numbered checkbox

More prose.

+ [x] Plus bullet done <!-- inline comment -->

## 2. Deploy 🚢

### 2.1 Run the deploy
```bash
kubectl apply -f deploy.yaml
```

## Notes

Nothing here.
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"], ids=["lf", "crlf", "cr"])
def test_messy_checklist_loads(tmp_path, newline):
    path = write(tmp_path, "release.md", MESSY, newline)
    assert validate_file(path) == []
    checklist = load_checklist(path)
    assert checklist.title == "Release Checklist — API v2"
    assert [(s.id, s.title, s.path, s.line) for s in checklist.sections] == [
        ("preparation", "Preparation", (), 12),
        ("run-the-deploy", "Run the deploy", ("Deploy",), 29),
    ]
    prep = checklist.sections[0]
    assert [(i.title, i.done_before, i.line) for i in prep.items] == [
        ("Backups verified (`pg_dump` ran)", False, 16),
        ("Owner: ______", True, 17),
        ("Ticket linked: JIRA-123", False, 18),
        ("Nested sub-item", False, 19),
        ("Numbered checkbox", False, 21),
        ("Plus bullet done", True, 25),
    ]
    assert prep.items[2].detail == "note under the ticket"
    assert all(i.kind is ItemKind.MANUAL and i.required for i in prep.items)
    [deploy] = checklist.sections[1].items
    assert (deploy.id, deploy.kind, deploy.action, deploy.commands, deploy.line) == (
        "run-the-deploy.deploy", ItemKind.ACTION, "deploy", ("kubectl apply -f deploy.yaml",), 29)
    assert "hidden" not in " ".join(i.title for i in checklist.items())


def test_no_h1_takes_the_file_name_and_several_h1s_are_headings(tmp_path):
    path = write(tmp_path, "deploy-notes.md", "## Checks\n- [ ] a\n")
    assert load_checklist(path).title == "deploy-notes"
    text = "# Backend\n## Checks\n- [ ] a\n# Frontend\n## Checks\n- [ ] a\n"
    checklist = load_checklist(write(tmp_path, "two.md", text))
    assert checklist.title == "Backend"
    assert [(s.id, s.path) for s in checklist.sections] == [("checks", ("Backend",)), ("checks-2", ("Frontend",))]
    assert [i.id for i in checklist.items()] == ["checks.a", "checks-2.a"]


def test_items_directly_under_the_title_and_setext_headings(tmp_path):
    text = "Release\n=======\n\n- [ ] first\n\nLater\n-----\n- [x] second\n"
    checklist = load_checklist(write(tmp_path, "setext.md", text))
    assert checklist.title == "Release"
    assert [(s.title, [i.title for i in s.items]) for s in checklist.sections] == [
        ("Release", ["first"]), ("Later", ["second"])]


def test_same_slug_different_titles_get_numbered_ids(tmp_path):
    text = "# T\n## Health\n- [ ] Health: ok\n- [ ] Health ok\n- [ ] Health (ok)\n"
    checklist = load_checklist(write(tmp_path, "dup.md", text))
    assert [i.id for i in checklist.items()] == ["health.health-ok", "health.health-ok-2", "health.health-ok-3"]


def test_nested_headings_and_headings_without_items(tmp_path):
    text = "# T\n## A\nprose only\n### B\n#### C\n- [ ] deep\n### D\n- [ ] shallow\n"
    checklist = load_checklist(write(tmp_path, "nest.md", text))
    assert [(s.title, s.path, s.depth) for s in checklist.sections] == [("C", ("A", "B"), 2), ("D", ("A",), 1)]


def test_step_with_unknown_action_is_a_manual_item_with_commands(tmp_path):
    text = "# T\n## Clear the CDN\n```sh\naws cloudfront create-invalidation --paths '/*'\n```\n```yaml\nnot: a command\n```\n"
    [item] = load_checklist(write(tmp_path, "cdn.md", text)).items()
    assert (item.id, item.kind, item.action) == ("clear-the-cdn.run", ItemKind.MANUAL, None)
    assert item.commands == ("aws cloudfront create-invalidation --paths '/*'",)


def test_checkbox_with_a_command_block_under_it_keeps_the_commands(tmp_path):
    text = "# T\n## Backup\n- [ ] Dump the database\n  ```bash\n  pg_dump hunter > b.sql\n  ```\n- [ ] Copy it off-site\n"
    checklist = load_checklist(write(tmp_path, "b.md", text))
    dump, copy = checklist.items()
    assert dump.commands == ("pg_dump hunter > b.sql",) and copy.commands == ()
    assert (dump.line, copy.line) == (3, 7)


@pytest.mark.parametrize(("title", "action"), [
    ("Step 2: Database Backup", "backup"), ("Run migrations", "migrate"), ("Deploy to prod", "deploy"),
    ("Post-Deployment Verification", "verify"), ("Immediate Rollback", "rollback"),
    ("Database Rollback (if needed)", "restore"), ("Lunch", None),
])
def test_infer_action(title, action):
    assert infer_action(title) == action


def test_infer_action_from_commands():
    assert infer_action("Step 9", ["pg_dump -d x > y.sql"]) == "backup"
    assert infer_action("Step 9", ["kubectl rollout undo deployment/api"]) == "rollback"


def test_slugs_transliterate_turkish_and_stay_ascii():
    assert slugify("Teknik Hazırlık (Tamamlandı)") == "teknik-hazirlik-tamamlandi"
    assert slugify("Şirket çğöüİ güncelle") == "sirket-cgoui-guncelle"
    assert slugify("🚀🚀") == "item"
    long = slugify("word " * 30)
    assert len(long) <= 48 and not long.endswith("-")


def test_parse_markdown_is_deterministic():
    a, _ = parse_markdown(MESSY, "x.md")
    b, _ = parse_markdown(MESSY, "x.md")
    assert a == b


# -- broken files ------------------------------------------------------------------------------
BROKEN = [
    ("malformed-inner-space", "# T\n## S\n- [ ] fine\n- [ x] bad\n", 4, "malformed checkbox '[ x]'"),
    ("no-space-after-marker", "# T\n## S\n- [ ] fine\n-[ ] bad\n", 4, "no space after the list marker"),
    ("empty-brackets", "# T\n## S\n- [ ] fine\n\n- [] bad\n", 5, "malformed checkbox '[]'"),
    ("glued", "# T\n## S\n- [ ] fine\n- [x]bad\n", 4, "no space after the checkbox"),
    ("empty-item", "# T\n## S\n- [ ] fine\n- [ ]\n", 4, "empty checklist item"),
    ("duplicate", "# T\n## S\n- [ ] Same thing\n- [ ] other\n- [ ] same THING\n", 5,
     "duplicate item 'same THING' in section 'S' (first at line 3)"),
    ("unclosed-fence", "# T\n## S\n- [ ] fine\n\n## Step\n```bash\nrm -rf /tmp/x\n", 6, "unclosed ``` block"),
    ("before-heading", "- [ ] orphan\n# T\n## S\n- [ ] fine\n", 1, "checkbox item before any heading"),
    ("no-items", "# T\n\nJust prose.\n", 1, "no checklist items"),
    ("unclosed-comment", "# T\n## S\n- [ ] fine\n<!-- todo\n- [ ] hidden\n", 4, "unclosed HTML comment"),
    ("crlf-line-numbers", "# T\r\n## S\r\n- [ ] fine\r\n- [ x] bad\r\n", 4, "malformed checkbox"),
]


@pytest.mark.parametrize(("name", "text", "line", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_markdown_reports_file_and_line(tmp_path, name, text, line, message):
    path = write(tmp_path, f"{name}.md", text)
    problems = validate_file(path)
    assert problems, "expected a problem"
    first = problems[0]
    assert (first.path, first.line) == (str(path), line)
    assert message in first.message
    assert str(first) == f"{path}:{line}: {first.message}"
    with pytest.raises(ChecklistError) as raised:
        load_checklist(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")


def test_fenced_and_commented_checkbox_lookalikes_are_not_problems(tmp_path):
    text = "# T\n## S\n- [ ] fine\n- [docs](https://x) link\n- [1] footnote-ish\n```md\n- [ x] in a code block\n```\n<!--\n-[ ] in a comment\n-->\n"
    assert validate_file(write(tmp_path, "ok.md", text)) == []


def test_missing_unreadable_and_non_utf8_files(tmp_path):
    missing = tmp_path / "nope.md"
    assert [str(p) for p in validate_file(missing)] == [f"{missing}:0: no such file"]
    assert validate_file(tmp_path)[0].line == 0
    latin = write(tmp_path, "latin.md", "# T\n## S\n- [ ] ok\n- [ ] Hazırlık\n".encode("cp1254"))
    [problem] = validate_file(latin)
    assert problem.line == 4 and "not UTF-8" in problem.message
    with pytest.raises(ChecklistError, match=r"latin\.md:4: not UTF-8"):
        load_checklist(latin)
    with pytest.raises(ChecklistError, match=r"notes\.txt:0: unknown checklist format"):
        load_checklist(tmp_path / "notes.txt")


def test_several_problems_are_all_listed_in_line_order(tmp_path):
    path = write(tmp_path, "many.md", "# T\n## S\n- [ ]\n- [ x] a\n- [ ] b\n- [ ] b\n")
    assert [p.line for p in validate_file(path)] == [3, 4, 6]
    with pytest.raises(ChecklistError, match=r"many\.md:3: empty checklist item .*\(and 2 more problems"):
        load_checklist(path)
