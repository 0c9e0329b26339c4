"""`hunter-console monitor`: the post-deployment metrics, headless.

Takes `--samples N` scrapes of the environment's `/healthz/metrics`, `--interval S` seconds apart
(each stored in the audit database's `metric_samples`, where the TUI's monitoring pane and the
`metrics.window` probes find them too), then judges every metric over `--window` (5m, 1h, 24h)
from everything stored: error rate < 1%, P95 < 500 ms, cache hit rate > 50%, DB pool with no
connection waiting. One line a metric, or `--json`.

Exit codes: 0 when every metric passes; 1 when any fails, or when no scrape succeeded; 2 on bad
usage. A window still MEASURING (or with nothing to judge yet) is said, and exits 0 only when
nothing fails, like a WARN of `probe` (--strict: only all-PASS exits 0, MEASURING exits 3).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import typer

from hunter_console.commands.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, print_json, say, settings

EXIT_MEASURING = 3


def monitor(
    ctx: typer.Context,
    window: str = typer.Option("1h", "--window", "-w", help="Window to judge: 5m, 1h or 24h."),
    json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
    samples: int = typer.Option(1, "--samples", "-n", min=0, help="Scrapes to take first (0: judge what is stored)."),
    interval: float = typer.Option(5.0, "--interval", "-i", help="Seconds between scrapes."),
    strict: bool = typer.Option(False, "--strict", help="Exit 3 while a window is still being measured."),
) -> None:
    """Sample the API's metrics and judge them over a window; exit 1 if any metric fails."""
    from hunter_console.monitoring import MetricsSampler, SampleStore, evaluate_all, load_window, parse_window
    from hunter_console.monitoring.windows import FAIL, PASS

    try:
        span = parse_window(window)
    except ValueError as e:
        fail(str(e), EXIT_USAGE)
    if not interval > 0:
        fail(f"--interval: {interval} must be more than 0 seconds", EXIT_USAGE)
    current = settings(ctx)
    try:
        store = SampleStore(current.audit_path)
    except Exception as e:  # sqlite3 errors: the path the operator gave, in one line
        fail(f"cannot open the samples store in {current.audit_path}: {e}", EXIT_USAGE)
    with store:
        sampler = MetricsSampler.for_settings(current, store, interval=interval)
        outcomes = asyncio.run(sampler.run(samples, interval=interval)) if samples else []
        window_ = load_window(store, current.env_name, span, time.time())
        verdicts = evaluate_all(window_)
    scraped = sum(1 for o in outcomes if o.ok)
    errors = [o.error for o in outcomes if o.error]
    if samples and not scraped:
        code = EXIT_FAILED
    elif any(v.state == FAIL for v in verdicts):
        code = EXIT_FAILED
    elif strict and any(v.state != PASS for v in verdicts):
        code = EXIT_MEASURING
    else:
        code = EXIT_OK
    if json:
        print_json(_as_json(current, window_, verdicts, outcomes, code))
    else:
        for error in dict.fromkeys(errors):
            say(f"scrape failed: {error}")
        for verdict in verdicts:
            say(format_line(verdict))
        say(f"{current.env_name} {window_.label} window: {window_.progress} measured, {len(window_.samples)} samples"
            f" ({scraped} of {samples} scrapes now ok)" + (f", {window_.restarts} restart(s)" if window_.restarts else ""))
    raise typer.Exit(code)


def format_line(verdict: Any) -> str:
    label = verdict.label if verdict.state != "measuring" else "MEASURING"
    return f"{label:<9}  {verdict.metric:<14}  {verdict.value_text:>9}  {verdict.reason}"


def _as_json(current: Any, window: Any, verdicts: list, outcomes: list, code: int) -> dict[str, Any]:
    return {
        "environment": current.env_name,
        "release": current.release,
        "window": window.label,
        "span_s": window.span,
        "measured_s": round(window.measured_s, 1),
        "measured": window.measured,
        "samples": len(window.samples),
        "restarts": window.restarts,
        "scrapes": [{"ts": o.ts, "ok": o.ok, "error": o.error} for o in outcomes],
        "verdicts": [v.as_dict() for v in verdicts],
        "all_pass": all(v.state == "pass" for v in verdicts),
        "exit_code": code,
    }
