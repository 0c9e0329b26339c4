"""signoff, withdraw and decide from the command line: same session, same audit log."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hunter_console.cli import app

runner = CliRunner()


def invoke(tmp_path, *args):
    env = {"SSH_CONNECTION": "192.0.2.77 1 192.0.2.1 22", "HUNTER_CONFIG": ""}
    return runner.invoke(app, ["--audit", str(tmp_path / "audit.db"), "--operator", "dana", *args], env=env)


def manual_item(tmp_path) -> str:
    result = invoke(tmp_path, "checklist", "show", "--json")
    assert result.exit_code == 0, result.output
    tree = json.loads(result.output)
    return next(i["id"] for s in tree["sections"] for i in s["items"] if i["kind"] == "manual" and not i["done"])


def test_signoff_shows_up_in_audit_list_with_operator_origin_and_note(tmp_path):
    item = manual_item(tmp_path)
    result = invoke(tmp_path, "signoff", item, "--note", "looked at it")
    assert result.exit_code == 0, result.output
    assert f"signed off {item} as dana (ssh 192.0.2.77)" in result.output
    listed = invoke(tmp_path, "audit", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [row] = [r for r in json.loads(listed.output) if r["kind"] == "signoff"]
    assert (row["operator"], row["host"], row["item"]) == ("dana", "ssh 192.0.2.77", item)
    assert row["detail"]["note"] == "looked at it"


def test_refusals_are_one_line_and_non_zero(tmp_path):
    item = manual_item(tmp_path)
    assert invoke(tmp_path, "signoff", item).exit_code == 0
    again = invoke(tmp_path, "signoff", item)
    assert again.exit_code == 1 and "already signed off by dana" in again.output
    unknown = invoke(tmp_path, "signoff", "no-such-item")
    assert unknown.exit_code == 1 and "no checklist item 'no-such-item'" in unknown.output
    go = invoke(tmp_path, "decide", "go")
    assert go.exit_code == 1 and "needs a typed reason" in go.output
    bad = invoke(tmp_path, "decide", "perhaps")
    assert bad.exit_code == 2
    for r in (again, unknown, go, bad):
        assert "Traceback" not in r.output


def test_withdraw_and_decide(tmp_path):
    item = manual_item(tmp_path)
    invoke(tmp_path, "signoff", item)
    assert invoke(tmp_path, "withdraw", item, "--note", "premature").exit_code == 0
    result = invoke(tmp_path, "decide", "go", "--reason", "incident fix, CTO approved")
    assert result.exit_code == 0 and "decision recorded: GO" in result.output
    assert invoke(tmp_path, "decide", "no-go").exit_code == 0
    listed = json.loads(invoke(tmp_path, "audit", "list", "--json").output)
    assert [r["kind"] for r in listed if r["kind"] != "session.open"][-4:] == [
        "signoff", "signoff.withdrawn", "decision", "decision"]


def test_bad_config_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "hunter.toml"
    bad.write_text("[environments.x]\nexecutor = 'ftp'\n")
    result = runner.invoke(app, ["--config", str(bad), "signoff", "x"])
    assert result.exit_code == 2 and "config error" in result.output and "Traceback" not in result.output
    missing = runner.invoke(app, ["--config", str(tmp_path / "none.toml"), "checklist", "show"])
    assert missing.exit_code == 2 and "config file not found" in missing.output
