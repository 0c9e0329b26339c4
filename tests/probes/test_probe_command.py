"""`hunter-console probe`: the headless sweep, through typer, against a running sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import pytest
import typer
from typer.testing import CliRunner

from hunter_console.commands.common import GlobalOptions
from hunter_console.commands.probe import probe

from probe_helpers import PRODUCTION_ENV, environ_for, reset_rate_limit


def make_app() -> typer.Typer:
    """The CLI as the lead wires it: global options on the root, `app.command()(probe)`."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def root(ctx: typer.Context, config: Optional[Path] = typer.Option(None, "--config"),
             audit: Optional[Path] = typer.Option(None, "--audit")) -> None:
        ctx.obj = GlobalOptions(config=config, audit=audit, operator="alice")

    app.command()(probe)
    return app


@pytest.fixture
def run(sandbox, tmp_path):
    config = tmp_path / "hunter.toml"
    config.write_text(f'[environments.staging]\nbase_url = "{sandbox.base_url}"\n')
    env = {**environ_for(database_url=sandbox.database_url), **PRODUCTION_ENV, "HUNTER_ENV": "staging"}

    def invoke(*args: str):
        reset_rate_limit()
        return CliRunner().invoke(make_app(), ["--config", str(config), "--audit", str(tmp_path / "audit.db"),
                                               "probe", *args], env=env)

    return invoke


def test_one_section_passes_and_prints_a_line_an_item(run, sandbox):
    sandbox.reset_faults()
    result = run("--only", "Health Checks")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 4 and all(line.startswith("PASS ") for line in lines[:3]), result.output
    assert "health-checks." in lines[0] and " ms]" in lines[0] and "3 probed, 0 required failing" in lines[3]


def test_a_failing_required_probe_exits_1_and_json_says_why(run, sandbox):
    sandbox.faults(fail_ready=True)
    try:
        result = run("--only", "Health Checks", "--json")
    finally:
        sandbox.reset_faults()
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    ready = [r for r in report["results"] if "ready" in r["id"]]
    assert report["ok"] is False and ready[0]["status"] == "FAIL" and "503" in ready[0]["reason"]


def test_unknown_only_is_usage(run):
    result = run("--only", "no-such-section")
    assert result.exit_code == 2 and "no checklist item or section 'no-such-section'" in result.output


def test_whole_checklist_warns_but_passes(run, sandbox, tmp_path):
    """Every automated item of the default checklist; the metric windows WARN, and WARN passes."""
    import hashlib

    from hunter_console.audit import AuditLog

    first = run("--only", "Operational")
    assert first.exit_code == 1 and "no backup recorded for v1.0.0 on staging" in first.output, first.output
    dump = tmp_path / "backup.sql"
    dump.write_text("-- dump")
    AuditLog(tmp_path / "audit.db").append(
        kind="action.end", release="v1.0.0", environment="staging", operator="alice", host="local", action="backup",
        status="ok", detail={"artifacts": [{"path": str(dump), "size": 7, "sha256": hashlib.sha256(b"-- dump").hexdigest()}]})
    sandbox.reset_faults()
    sandbox.traffic("/api/v1/leads", 6)
    result = run()
    assert result.exit_code == 0, result.output
    statuses = {line.split()[0] for line in result.output.strip().splitlines()[:-1]}
    assert statuses <= {"PASS", "WARN"}, result.output
