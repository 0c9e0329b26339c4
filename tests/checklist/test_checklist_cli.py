"""`hunter-console checklist show` and `checklist validate`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from checklist_helpers import write
from hunter_console.cli import app

runner = CliRunner()
ENV = {"HUNTER_CONFIG": "", "SSH_CONNECTION": ""}


def invoke(*args, env=None):
    return runner.invoke(app, list(args), env={**ENV, **(env or {})})


def test_show_default_tree(tmp_path):
    result = invoke("--audit", str(tmp_path / "audit.db"), "checklist", "show")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Production Deployment Checklist - Hunter v1.0  (default)"
    assert "  Pre-Deployment Checklist" in lines
    assert "    Teknik Hazırlık (Tamamlandı)  (6/6 done)" in lines
    assert any(l.startswith("      [x] P0 Hardening tamamlandı (G19)  [manual]") for l in lines)
    assert any(l.startswith("        [ ] Liveness probe configured (`/healthz/live`)  [probe http]") for l in lines)
    assert any("[ ] Immediate Rollback  [action rollback]  (optional)  if-issues-detected.immediate-rollback" in l
               for l in lines)


def test_show_json_shape(seed):
    result = invoke("checklist", "show", str(seed), "--json")
    assert result.exit_code == 0, result.output
    tree = json.loads(result.output)
    assert tree["title"] == "Production Deployment Checklist - Hunter v1.0" and tree["source"] == str(seed)
    assert len(tree["sections"]) == 21
    items = [i for s in tree["sections"] for i in s["items"]]
    assert len(items) == 74 and sum(i["done"] for i in items) == 10
    for section in tree["sections"]:
        assert {"id", "title", "path", "items"} <= set(section)
    for item in items:
        assert {"id", "title", "kind", "required", "done"} <= set(item)
    step = next(i for i in items if i["id"] == "step-2-database-backup.backup")
    assert step["kind"] == "action" and step["action"] == "backup" and "pg_dump" in step["commands"][0]


def test_show_default_json_has_probe_kinds():
    tree = json.loads(invoke("checklist", "show", "--json").output)
    kinds = {i.get("probe") for s in tree["sections"] for i in s["items"]}
    assert {"env", "http", "postgres.revision", "metrics.window", "ratelimit"} <= kinds


def test_show_uses_the_configured_checklist(tmp_path):
    mine = write(tmp_path, "team.md", "# Team\n## Checks\n- [ ] one\n")
    config = write(tmp_path, "hunter.toml", f'[console]\nchecklist = "{mine}"\n')
    result = invoke("--config", str(config), "checklist", "show")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == f"Team  ({mine})"


def test_validate_ok(seed):
    result = invoke("checklist", "validate", str(seed))
    assert result.exit_code == 0
    assert result.output.strip() == f"{seed}: OK, 21 sections, 74 items"


def test_validate_problems_exit_1(tmp_path):
    path = write(tmp_path, "bad.md", "# T\n## S\n- [ ] ok\n- [ x] bad\n- []\n")
    result = invoke("checklist", "validate", str(path))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:4: malformed checkbox '[ x]' (write '[ ]' or '[x]')",
        f"{path}:5: malformed checkbox '[]' (write '[ ]' or '[x]')",
    ]
    assert "Traceback" not in result.output


def test_bad_files_are_one_line_never_a_traceback(tmp_path):
    missing = invoke("checklist", "validate", str(tmp_path / "nope.md"))
    assert missing.exit_code == 2 and missing.output.strip() == f"hunter-console: {tmp_path / 'nope.md'}: no such file"
    shown = invoke("checklist", "show", str(tmp_path / "nope.toml"))
    assert shown.exit_code == 2 and len(shown.output.strip().splitlines()) == 1
    directory = invoke("checklist", "validate", str(tmp_path))
    assert directory.exit_code == 2
    broken = write(tmp_path, "broken.toml", "[[sections]]\ntitle = \n")
    result = invoke("checklist", "show", str(broken))
    assert result.exit_code == 1 and result.output.startswith(f"hunter-console: checklist error: {broken}:2: invalid TOML")
    unknown = write(tmp_path, "notes.txt", "- [ ] x\n")
    other = invoke("checklist", "validate", str(unknown))
    assert other.exit_code == 2 and "unknown checklist format '.txt'" in other.output
    for r in (missing, shown, directory, result, other):
        assert "Traceback" not in r.output
        assert r.exception is None or isinstance(r.exception, SystemExit)
        assert len(r.output.strip().splitlines()) == 1
