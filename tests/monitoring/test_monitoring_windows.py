"""Windows over synthetic samples with known answers: coverage, each metric's verdict, counter
resets, stability slices, gaps."""

from __future__ import annotations

import pytest

from hunter_console.monitoring import FAIL, MEASURING, NO_DATA, PASS, Sample, build_window, evaluate, parse_window
from hunter_console.monitoring.windows import is_reset, progress_text
from monitoring_helpers import sample_data, steady_series

NOW = 1_790_000_000.0
HOUR = 3600.0


def samples(series):
    return [Sample(ts, data, "local", i) for i, (ts, data) in enumerate(series)]


def window(series, span=HOUR, now=NOW, **kw):
    return build_window(samples(series), span, now, **kw)


def test_parse_window():
    assert parse_window("5m") == 300 and parse_window("1h") == 3600 and parse_window("24h") == 86400
    assert parse_window("5s") == 5 and parse_window("0.5s") == 0.5
    for bad in ("", "1d", "abc", "0s", "-5m"):
        with pytest.raises(ValueError):
            parse_window(bad)


def test_progress_words():
    assert progress_text(12 * 60 + 5, HOUR) == "12 of 60 min"
    assert progress_text(3.5 * HOUR, 24 * HOUR) == "3.5 of 24 h"
    assert progress_text(3.2, 5) == "3 of 5 s"


def test_a_window_is_measuring_until_samples_cover_90_percent():
    w = window(steady_series(NOW - 12 * 60, 12 * 60, 15))
    v = evaluate(w, "error_rate")
    assert not w.measured and v.state == MEASURING
    assert v.label == "measuring (12 of 60 min)"
    assert "measuring: 12 of 60 min" in v.reason
    w = window(steady_series(NOW - 55 * 60, 55 * 60, 15))  # 91.7%
    assert w.measured and evaluate(w, "error_rate").state == PASS


def test_error_rate_p95_cache_pass_and_fail():
    good = window(steady_series(NOW - HOUR, HOUR, 30, error_ratio=0.002, slow_ratio=0.01, hit_ratio=0.8))
    err, p95, cache, pool = (evaluate(good, m) for m in ("error_rate", "p95_ms", "cache_hit_rate", "pool"))
    assert (err.state, p95.state, cache.state, pool.state) == (PASS, PASS, PASS, PASS)
    assert err.value == pytest.approx(0.002)
    assert p95.value is not None and 25 <= p95.value <= 50  # the fast ones: 25-50 ms
    assert cache.value == pytest.approx(0.8)
    assert pool.value == pytest.approx(0.2)

    bad = window(steady_series(NOW - HOUR, HOUR, 30, error_ratio=0.05, slow_ratio=0.2, hit_ratio=0.3))
    err, p95, cache = (evaluate(bad, m) for m in ("error_rate", "p95_ms", "cache_hit_rate"))
    assert (err.state, p95.state, cache.state) == (FAIL, FAIL, FAIL)
    assert "error rate 5.00%" in err.reason and "limit < 1%" in err.reason
    assert 500 < p95.value <= 750  # the slow ones: 0.5-0.75 s
    assert "cache hit rate 30%" in cache.reason


def test_only_the_window_counts_not_the_process_lifetime():
    """A bad first hour, then a good hour: the last hour passes (deltas, not lifetime totals)."""
    series = steady_series(NOW - 2 * HOUR, HOUR, 60, error_ratio=0.5)
    last_ts, last = series[-1]
    base = (last["req"][0], last["req"][1], last["lat"]["0.05"], last["cache"][0], last["cache"][1])
    series += steady_series(NOW - HOUR + 60, HOUR - 60, 60, error_ratio=0.0, base=base)
    v = evaluate(window(series), "error_rate")
    assert v.state == PASS and v.value == 0.0


def test_partial_window_already_failing_fails_early():
    w = window(steady_series(NOW - 10 * 60, 10 * 60, 15, error_ratio=0.5))
    v = evaluate(w, "error_rate")
    assert v.state == FAIL and "measured so far" in v.reason


def test_no_traffic_on_a_measured_window_is_no_data():
    w = window(steady_series(NOW - HOUR, HOUR, 60, rps=0))
    assert evaluate(w, "error_rate").state == NO_DATA
    assert evaluate(w, "cache_hit_rate").state == NO_DATA


def test_pool_waiting_fails_and_usage_limit():
    series = steady_series(NOW - HOUR, HOUR, 60)
    ts, data = series[30]
    series[30] = (ts, {**data, "pool": {"size": 10, "checked_out": 10, "waiting": 3}})
    v = evaluate(window(series), "pool")
    assert v.state == FAIL and "pool exhausted" in v.reason and "3 waiting" in v.reason
    healthy = window(steady_series(NOW - HOUR, HOUR, 60))
    assert evaluate(healthy, "pool", {"max": 0.1}).state == FAIL  # 2 of 10 in use > 10%
    assert evaluate(healthy, "pool", {"max": 0.5}).state == PASS


def test_counter_reset_starts_a_new_segment():
    """The API restarted at half time (a deploy): counters fall to zero and grow again."""
    first = steady_series(NOW - HOUR, HOUR / 2, 60, error_ratio=0.0, epoch=1000.0)
    second = steady_series(NOW - HOUR / 2 + 60, HOUR / 2 - 60, 60, error_ratio=0.0, epoch=2000.0)
    # the new process errs on 10 of its first requests: counted, and nothing negative anywhere
    second = [(ts, {**d, "req": [d["req"][0] + 1000, d["req"][1] + 10]}) for ts, d in second]
    w = window(first + second)
    assert w.restarts == 1 and w.measured
    v = evaluate(w, "error_rate")
    expected_requests = first[-1][1]["req"][0] - first[0][1]["req"][0] + second[-1][1]["req"][0]
    assert v.amount == pytest.approx(expected_requests)
    assert v.value == pytest.approx(10 / expected_requests)
    assert "1 restart seen" in v.reason
    assert all(inc.requests >= 0 and inc.errors >= 0 for inc in w.increments)


def test_a_restart_is_seen_even_when_the_new_counters_are_higher():
    a = Sample(0, sample_data(100, 0, epoch=1000.0))
    b = Sample(15, sample_data(500, 50, epoch=2000.0))  # a new process, already busier
    assert is_reset(a, b)
    c = Sample(30, sample_data(80, 0))  # no epoch, but the counter went down
    assert is_reset(Sample(0, {"req": [100, 0]}), Sample(15, {"req": [80, 0]}))
    assert not is_reset(a, Sample(15, sample_data(150, 0, epoch=1000.0)))
    assert c.counter("req") == 80


def test_stable_means_every_slice_within_threshold():
    """A day under 1% on average, with one bad 5-minute slice: passes, but is not stable."""
    day = 24 * HOUR
    series = steady_series(NOW - day, day, 60, rps=10, error_ratio=0.001)
    spike_from = NOW - 6 * HOUR
    out, extra = [], 0.0
    for ts, d in series:
        if spike_from < ts <= spike_from + 300:
            extra += 60 * 10 * 0.2  # 20% errors for five minutes
        out.append((ts, {**d, "req": [d["req"][0], d["req"][1] + extra]}))
    w = window(out, span=day)
    plain = evaluate(w, "error_rate", {"max": 0.01})
    assert plain.state == PASS and plain.value < 0.01
    stable = evaluate(w, "error_rate", {"max": 0.01, "stable": True})
    assert stable.state == FAIL and stable.reason.startswith("not stable: 1 of 288 5m slices")
    calm = evaluate(window(series, span=day), "error_rate", {"max": 0.01, "stable": True})
    assert calm.state == PASS and "in every slice" in calm.reason
    assert any(stable.breaches) and len(stable.series) == 48


def test_a_gap_in_the_samples_is_not_covered():
    series = steady_series(NOW - HOUR, HOUR, 30)
    holed = [(ts, d) for ts, d in series if not (NOW - 40 * 60 < ts < NOW - 20 * 60)]
    w = window(holed)
    assert not w.measured and 38 * 60 <= w.measured_s <= 41 * 60
    assert evaluate(w, "error_rate").state == MEASURING
    stale = window(series, now=NOW + 20 * 60)  # sampling stopped 20 minutes ago
    assert not stale.measured


def test_display_series_marks_breaching_slices():
    series = steady_series(NOW - HOUR, HOUR, 15, error_ratio=0.0)
    out, extra = [], 0.0
    for ts, d in series:
        if NOW - 30 * 60 < ts <= NOW - 25 * 60:
            extra += 15 * 10 * 0.5
        out.append((ts, {**d, "req": [d["req"][0], d["req"][1] + extra]}))
    v = evaluate(window(out), "error_rate", {"max": 0.01})
    assert len(v.series) == 48 and len(v.breaches) == 48
    assert 3 <= sum(v.breaches) <= 6
    assert v.breaches[23] or v.breaches[24]
