"""`hunter-console monitor`, headless: exit 0 when every metric passes, 1 when one fails (or no
scrape succeeded), 2 on bad usage, 3 with --strict while a window is still measuring."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hunter_console.commands.common import GlobalOptions
from hunter_console.commands.monitor import monitor
from hunter_console.monitoring import SampleStore
from monitoring_helpers import API_KEY, free_port, steady_series


def make_app() -> typer.Typer:
    """The command on a small app with the console's global options, as cli.py registers it."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def root(ctx: typer.Context, config: Path = typer.Option(None, "--config"),
             audit: Path = typer.Option(None, "--audit")) -> None:
        ctx.obj = GlobalOptions(config=config, audit=audit, operator="alice")

    app.command()(monitor)
    return app


def config_for(tmp_path: Path, base_url: str) -> Path:
    (tmp_path / "service.env").write_text(f"HUNTER_API_KEY={API_KEY}\n")
    path = tmp_path / "hunter.toml"
    path.write_text(f'[environments.local]\nbase_url = "{base_url}"\nenv_file = "service.env"\n')
    return path


def invoke(tmp_path: Path, base_url: str, *args: str):
    argv = ["--config", str(config_for(tmp_path, base_url)), "--audit", str(tmp_path / "audit.db"), "monitor", *args]
    return CliRunner().invoke(make_app(), argv)


def seed(tmp_path: Path, **kw) -> None:
    now = time.time()
    with SampleStore(tmp_path / "audit.db") as store:
        store.add_many("local", steady_series(now - 3600, 3590, 30, **kw))


@pytest.mark.parametrize("args", [["--window", "7x"], ["--window", "1d"], ["--interval", "0"],
                                  ["--samples", "-1"], ["--samples", "many"]])
def test_bad_usage_exits_2(tmp_path, args):
    result = invoke(tmp_path, "http://127.0.0.1:9", *args)
    assert result.exit_code == 2, result.output


def test_all_passing_exits_0(tmp_path):
    seed(tmp_path, error_ratio=0.001, hit_ratio=0.9)
    result = invoke(tmp_path, "http://127.0.0.1:9", "--samples", "0")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["PASS"] * 4
    assert "error_rate" in lines[0] and "p95_ms" in lines[1]
    assert "1h window: 59 of 60 min measured" in lines[-1]


def test_a_failing_metric_exits_1(tmp_path):
    seed(tmp_path, error_ratio=0.05)
    result = invoke(tmp_path, "http://127.0.0.1:9", "--samples", "0", "--json")
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    states = {v["metric"]: v["state"] for v in report["verdicts"]}
    assert states == {"error_rate": "fail", "p95_ms": "pass", "cache_hit_rate": "pass", "pool": "pass"}
    assert report["exit_code"] == 1 and report["all_pass"] is False and report["measured"] is True


def test_no_scrape_succeeding_exits_1(tmp_path):
    seed(tmp_path)
    result = invoke(tmp_path, f"http://127.0.0.1:{free_port()}", "--samples", "1")
    assert result.exit_code == 1
    assert "scrape failed: connection refused" in result.output


def test_live_samples_measuring_then_measured(tmp_path, sandbox):
    result = invoke(tmp_path, sandbox.base_url, "--samples", "2", "--interval", "0.2", "--window", "1h")
    assert result.exit_code == 0, result.output  # measuring, nothing failing
    assert "MEASURING" in result.output and "(2 of 2 scrapes now ok)" in result.output
    strict = invoke(tmp_path, sandbox.base_url, "--samples", "1", "--strict")
    assert strict.exit_code == 3, strict.output
    # five seconds of samples measure a five-second window (no traffic: nothing to judge but the pool)
    result = invoke(tmp_path, sandbox.base_url, "--samples", "7", "--interval", "0.8", "--window", "5s", "--json")
    report = json.loads(result.output)
    assert report["measured"] is True, report
    pool = next(v for v in report["verdicts"] if v["metric"] == "pool")
    assert pool["state"] == "pass"

