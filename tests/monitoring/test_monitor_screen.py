"""The monitoring pane over pinned data: fixed synthetic samples in the audit database, a pinned
clock, no sampling timer (live=False). Snapshots at 80x24 and 120x40; Pilot for the keys."""

from __future__ import annotations

import pytest

from hunter_console.audit import AuditLog
from hunter_console.checklist import load_checklist
from hunter_console.monitoring import SampleStore
from hunter_console.session import ReleaseSession
from hunter_console.tui.app import make_app
from hunter_console.tui.screens.monitor import MonitorScreen
from hunter_console.tui.widgets.sparkline_panel import SparklinePanel, pinned_scale
from monitoring_helpers import steady_series

NOW = 1_795_000_000.0  # 2026-11-18 10:13:20 UTC
HOUR = 3600.0


def seed(path) -> None:
    """An hour at 10 requests a second, 0.2% errors, with a bad 5 minutes half an hour ago
    (30% errors, slow), the cache at 80%: error rate and P95 fail, cache and pool pass."""
    series = steady_series(NOW - HOUR - 60, HOUR + 60, 30, error_ratio=0.002, hit_ratio=0.8)
    out, extra_err, extra_slow = [], 0.0, 0.0
    for ts, d in series:
        if NOW - 30 * 60 < ts <= NOW - 25 * 60:
            extra_err += 30 * 10 * 0.3
            extra_slow += 30 * 10 * 0.9
        lat = {k: (v - extra_slow if k in ("0.05", "0.1", "0.25", "0.5") else v) for k, v in d["lat"].items()}
        out.append((ts, {**d, "req": [d["req"][0], d["req"][1] + extra_err], "lat": lat}))
    with SampleStore(path) as store:
        store.add_many("local", out)


@pytest.fixture
def session(settings):
    seed(settings.audit_path)
    s = ReleaseSession(settings, load_checklist(None), AuditLog(settings.audit_path))
    yield s
    s.audit.close()


def monitor_screen(session, **kw) -> MonitorScreen:
    return MonitorScreen(session, live=False, clock=lambda: NOW, **kw)


async def monitor_done(app) -> None:
    """Wait for the pane's own worker (the app has long-lived workers of its own)."""
    for worker in [w for w in app.workers if w.group == "monitor"]:
        await worker.wait()


async def show(pilot, session) -> None:
    pilot.app.push_screen(monitor_screen(session))
    await pilot.pause()
    await monitor_done(pilot.app)
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


def test_monitor_80x24(session, snap_compare):
    async def run_before(pilot):
        await show(pilot, session)

    assert snap_compare(make_app(session, cursor_blink=False), terminal_size=(80, 24), run_before=run_before)


def test_monitor_120x40(session, snap_compare):
    async def run_before(pilot):
        await show(pilot, session)

    assert snap_compare(make_app(session, cursor_blink=False), terminal_size=(120, 40), run_before=run_before)


async def test_panels_show_verdicts_and_keys_switch_window(session):
    app = make_app(session, cursor_blink=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await show(pilot, session)
        screen = app.screen
        assert isinstance(screen, MonitorScreen)
        states = {p.metric: p.verdict.state for p in screen.query(SparklinePanel)}
        assert states == {"error_rate": "fail", "p95_ms": "fail", "cache_hit_rate": "pass", "pool": "pass"}
        panel = screen.query_one("#panel-error_rate", SparklinePanel)
        assert panel.has_class("-fail") and panel.border_subtitle == "FAIL"
        assert any(panel.verdict.breaches)
        await pilot.press("w")  # 1h -> 24h: the hour of samples is not a day
        await pilot.pause()
        await monitor_done(app)
        await pilot.pause()
        assert screen.window == "24h"
        assert screen.query_one("#panel-pool", SparklinePanel).verdict.label == "measuring (1 of 24 h)"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, MonitorScreen)


def test_pinned_scale_puts_the_threshold_at_half_height():
    data = pinned_scale([0.001, None, 0.5, 0.004], ceiling=0.02)
    assert data == [0.001, 0.0, 0.0, 0.02, 0.02, 0.02, 0.004, 0.004]  # clipped to the ceiling
    assert min(data) == 0.0 and max(data) == 0.02
