"""Windows: error rate, P95 latency, cache hit rate and pool usage over a sliding window, from the
deltas between stored samples, and a verdict per metric against the checklist's thresholds.

Definitions (the operator's words on the left):

  window       the last `span` seconds up to `now`: 5m, 1h, 24h (any "<n>s|m|h" for tests).
  increment    what the cumulative counters did between two consecutive samples a -> b. A
               restart of the API process between them (its epoch changed, or any counter went
               down) starts a new segment: the increment is then b's own counts (the new process
               started from zero), nothing is subtracted across the restart.
  covered      time between consecutive samples no further apart than `max_gap` (default
               span/12, at least 30 s), clipped to the window. A window is MEASURED when its
               covered time is >= 90% of its span; before that its verdict is MEASURING ("12 of 60
               min"), and a console that stopped sampling sees its coverage fall again.
  error rate   5xx / all API requests over the window's increments                  < max (1%)
  P95          histogram_quantile(0.95) over the summed bucket increments, in ms    < max (500)
  cache hit    hits / (hits + misses) over the increments                           > min (50%)
  pool         gauges of every sample in the window: FAIL if any shows a connection waiting, or
               usage (checked out / size) above max when max is given
  stable       (stable=True) the metric is within threshold in every stable slice (5 min, or
               span/12 for shorter windows) that has at least `slice_min` requests (10) or
               lookups; a single bad slice in 24 hours is "not stable" although the day's
               average may pass.

Verdict states: PASS and FAIL on a measured window; MEASURING before (or FAIL early, "so far",
when what is measured already breaks the threshold: waiting for the rest of the hour would only
hide it); NO DATA on a measured window with nothing to judge (no API request, no cache lookup).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping, Sequence

from hunter_console.monitoring.store import Sample
from hunter_console.probes.metrics import DEFAULTS, METRIC_ALIASES, histogram_quantile

WINDOWS: dict[str, float] = {"5m": 300.0, "1h": 3600.0, "24h": 86400.0}
METRICS = ("error_rate", "p95_ms", "cache_hit_rate", "pool")
TITLES = {"error_rate": "Error rate", "p95_ms": "Latency P95", "cache_hit_rate": "Cache hit rate", "pool": "DB pool"}
COVERAGE = 0.9
DISPLAY_SLICES = 48
STABLE_SLICE_S = 300.0
SLICE_MIN = 10

PASS, FAIL, MEASURING, NO_DATA = "pass", "fail", "measuring", "no data"

_WINDOW_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$", re.I)


def parse_window(text: str | float) -> float:
    """Seconds in a window: "5m", "1h", "24h", "90s", "5s", or a number of seconds."""
    if isinstance(text, (int, float)):
        seconds = float(text)
    else:
        match = _WINDOW_RE.match(str(text))
        if not match:
            raise ValueError(f"window '{text}': expected 5m, 1h, 24h (or <n>s, <n>m, <n>h)")
        unit = (match.group(2) or "s").lower()
        seconds = float(match.group(1)) * {"s": 1, "m": 60, "min": 60, "h": 3600}[unit]
    if not seconds > 0:
        raise ValueError(f"window '{text}': must be longer than 0 s")
    return seconds


def window_label(span: float) -> str:
    if span >= 3600 and span % 3600 == 0:
        return f"{int(span // 3600)}h"
    if span >= 60 and span % 60 == 0:
        return f"{int(span // 60)}m"
    return f"{span:g}s"


def default_max_gap(span: float) -> float:
    return max(span / 12.0, 30.0)


def progress_text(measured_s: float, span: float) -> str:
    """"12 of 60 min", "3.5 of 24 h", "3 of 5 s"."""
    measured_s = max(0.0, min(measured_s, span))
    if span >= 7200:
        return f"{measured_s / 3600:.1f} of {span / 3600:g} h".replace(".0 of", " of")
    if span >= 120:
        return f"{int(measured_s // 60)} of {span / 60:g} min"
    return f"{int(measured_s)} of {span:g} s"


# -- increments --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Increment:
    """What the counters did from t0 to t1 (a restart in between: counted from zero)."""

    t0: float
    t1: float
    requests: float = 0.0
    errors: float = 0.0
    buckets: Mapping[float, float] = field(default_factory=dict)
    hits: float = 0.0
    misses: float = 0.0
    reset: bool = False
    has_req: bool = False
    has_lat: bool = False
    has_cache: bool = False


def _buckets(sample: Sample) -> dict[float, float]:
    raw = sample.data.get("lat")
    if not isinstance(raw, dict):
        return {}
    return {float(k): float(v) for k, v in raw.items()}


def is_reset(a: Sample, b: Sample) -> bool:
    """b comes from a new process: another epoch, or a counter that went down."""
    ea, eb = a.data.get("epoch"), b.data.get("epoch")
    if ea is not None and eb is not None and abs(float(ea) - float(eb)) > 1e-6:
        return True
    for key, index in (("req", 0), ("req", 1), ("cache", 0), ("cache", 1)):
        va, vb = a.counter(key, index), b.counter(key, index)
        if va is not None and vb is not None and vb < va:
            return True
    ba, bb = _buckets(a), _buckets(b)
    return any(bb.get(bound, 0.0) < count for bound, count in ba.items() if bound in bb)


def increment(a: Sample, b: Sample) -> Increment:
    reset = is_reset(a, b)

    def delta(key: str, index: int) -> float:
        vb = b.counter(key, index)
        if vb is None:
            return 0.0
        va = a.counter(key, index)
        return vb if reset or va is None else max(0.0, vb - va)

    bb = _buckets(b)
    ba = {} if reset else _buckets(a)
    buckets = {bound: max(0.0, count - ba.get(bound, 0.0)) for bound, count in bb.items()}
    return Increment(a.ts, b.ts, delta("req", 0), delta("req", 1), buckets, delta("cache", 0), delta("cache", 1),
                     reset, "req" in b.data, "lat" in b.data, "cache" in b.data)


# -- a window of samples -------------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    span: float
    now: float
    samples: tuple[Sample, ...]  # every sample in (start, now]
    increments: tuple[Increment, ...]  # those ending in (start, now]
    measured_s: float
    max_gap: float

    @property
    def start(self) -> float:
        return self.now - self.span

    @property
    def label(self) -> str:
        return window_label(self.span)

    @property
    def coverage(self) -> float:
        return min(1.0, self.measured_s / self.span)

    @property
    def measured(self) -> bool:
        return self.coverage >= COVERAGE

    @property
    def restarts(self) -> int:
        return sum(1 for inc in self.increments if inc.reset)

    @property
    def progress(self) -> str:
        return progress_text(self.measured_s, self.span)


def build_window(samples: Sequence[Sample], span: float, now: float, *, max_gap: float | None = None) -> Window:
    """The window (now - span, now] over `samples` (any order; those outside are ignored, but
    one before the start is the baseline of the first increment)."""
    gap = default_max_gap(span) if max_gap is None else max_gap
    start = now - span
    ordered = sorted((s for s in samples if s.ts <= now), key=lambda s: (s.ts, s.id or 0))
    inside = tuple(s for s in ordered if s.ts > start)
    increments: list[Increment] = []
    covered = 0.0
    for a, b in zip(ordered, ordered[1:]):
        if b.ts <= start:
            continue
        dt = b.ts - a.ts
        if dt <= gap:
            covered += b.ts - max(a.ts, start)
        if dt <= gap or a.ts >= start:
            increments.append(increment(a, b))
    return Window(span, now, inside, tuple(increments), min(covered, span), gap)


# -- aggregates ----------------------------------------------------------------------------------
@dataclass
class Aggregate:
    requests: float = 0.0
    errors: float = 0.0
    buckets: dict[float, float] = field(default_factory=dict)
    hits: float = 0.0
    misses: float = 0.0
    pool: list[dict[str, float]] = field(default_factory=list)
    has_req: bool = False
    has_lat: bool = False
    has_cache: bool = False

    def add(self, inc: Increment) -> None:
        self.requests += inc.requests
        self.errors += inc.errors
        for bound, count in inc.buckets.items():
            self.buckets[bound] = self.buckets.get(bound, 0.0) + count
        self.hits += inc.hits
        self.misses += inc.misses
        self.has_req |= inc.has_req
        self.has_lat |= inc.has_lat
        self.has_cache |= inc.has_cache


def aggregate(increments: Iterable[Increment], samples: Iterable[Sample] = ()) -> Aggregate:
    agg = Aggregate()
    for inc in increments:
        agg.add(inc)
    for sample in samples:
        pool = sample.data.get("pool")
        if isinstance(pool, dict):
            agg.pool.append({k: float(v) for k, v in pool.items()})
    return agg


@dataclass(frozen=True)
class Measure:
    value: float | None  # the metric (rate 0..1, ms, usage 0..1)
    amount: float  # what it is judged on: requests, observations, lookups, samples
    said: str  # the value in words
    instrumented: bool = True
    waiting: float = 0.0  # pool only
    beyond: bool = False  # p95 only: at or past the last finite bucket


def measure(metric: str, agg: Aggregate, quantile: float = 0.95) -> Measure:
    if metric == "error_rate":
        if not agg.has_req:
            return Measure(None, 0, "no request counter", instrumented=False)
        rate = agg.errors / agg.requests if agg.requests else None
        said = (f"error rate {rate:.2%} ({int(agg.errors)} of {int(agg.requests)} API requests 5xx)"
                if rate is not None else "no API requests")
        return Measure(rate, agg.requests, said)
    if metric == "p95_ms":
        if not agg.has_lat:
            return Measure(None, 0, "no latency histogram", instrumented=False)
        buckets = sorted(agg.buckets.items())
        count = buckets[-1][1] if buckets else 0.0
        if not count:
            return Measure(None, 0, "no API requests")
        seconds = histogram_quantile(quantile, buckets)
        finite = [b for b, _ in buckets if not math.isinf(b)]
        beyond = bool(finite) and seconds >= finite[-1]
        ms = seconds * 1000
        return Measure(ms, count, f"P{quantile * 100:g} {'>= ' if beyond else ''}{ms:.0f} ms over {int(count)} API requests",
                       beyond=beyond)
    if metric == "cache_hit_rate":
        if not agg.has_cache:
            return Measure(None, 0, "no cache counters", instrumented=False)
        lookups = agg.hits + agg.misses
        rate = agg.hits / lookups if lookups else None
        said = (f"cache hit rate {rate:.0%} ({int(agg.hits)} hits, {int(agg.misses)} misses)"
                if rate is not None else "no cache lookups")
        return Measure(rate, lookups, said)
    # pool
    if not agg.pool:
        return Measure(None, 0, "no pool gauges", instrumented=False)
    usage: float | None = None
    worst: dict[str, float] = {}
    waiting = 0.0
    for gauges in agg.pool:
        size, in_use = gauges.get("size"), gauges.get("checked_out", gauges.get("in_use"))
        waiting = max(waiting, gauges.get("waiting", 0.0))
        if size and in_use is not None and (usage is None or in_use / size > usage):
            usage, worst = in_use / size, gauges
    if usage is None:
        return Measure(None, len(agg.pool), "pool gauges incomplete (need size and checked_out)", waiting=waiting)
    said = (f"pool at most {int(worst.get('checked_out', worst.get('in_use', 0)))} of {int(worst['size'])} "
            f"in use ({usage:.0%}), {int(waiting)} waiting")
    return Measure(usage, len(agg.pool), said, waiting=waiting)


def threshold(metric: str, params: Mapping[str, Any]) -> tuple[str, float | None]:
    direction, default = DEFAULTS[metric]
    if direction in params:
        return direction, float(params[direction])
    if "threshold" in params:
        return direction, float(params["threshold"])
    return direction, default


def within(metric: str, m: Measure, limit: float | None) -> bool:
    if metric == "pool":
        return m.waiting <= 0 and (limit is None or m.value is None or m.value <= limit)
    if m.value is None or limit is None:
        return True
    direction, _ = DEFAULTS[metric]
    return m.value < limit if direction == "max" else m.value > limit


def limit_text(metric: str, limit: float | None) -> str:
    if metric == "error_rate":
        return f"< {limit:.0%}" if limit is not None else ""
    if metric == "p95_ms":
        return f"< {limit:g} ms" if limit is not None else ""
    if metric == "cache_hit_rate":
        return f"> {limit:.0%}" if limit is not None else ""
    return f"<= {limit:.0%} used, none waiting" if limit is not None else "none waiting"


def value_text(metric: str, value: float | None, beyond: bool = False) -> str:
    if value is None:
        return "-"
    if metric == "error_rate":
        return f"{value:.2%}"
    if metric == "p95_ms":
        return f"{'>=' if beyond else ''}{value:.0f} ms"
    return f"{value:.0%}"


# -- verdicts ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Verdict:
    metric: str
    window: str  # "1h"
    state: str  # pass | fail | measuring | no data
    value: float | None
    limit: float | None
    direction: str  # "max" / "min"
    reason: str
    measured_s: float
    span_s: float
    amount: float = 0.0
    stable: bool = False
    restarts: int = 0
    series: tuple[float | None, ...] = ()  # the metric per display slice, oldest first
    breaches: tuple[bool, ...] = ()  # the slice breaks the threshold
    beyond: bool = False

    @property
    def title(self) -> str:
        return TITLES.get(self.metric, self.metric)

    @property
    def measured(self) -> bool:
        return self.measured_s >= COVERAGE * self.span_s

    @property
    def progress(self) -> str:
        return progress_text(self.measured_s, self.span_s)

    @property
    def value_text(self) -> str:
        return value_text(self.metric, self.value, self.beyond)

    @property
    def limit_text(self) -> str:
        return limit_text(self.metric, self.limit)

    @property
    def label(self) -> str:
        """The state as the panes show it: PASS, FAIL, NO DATA, "measuring (12 of 60 min)"."""
        if self.state == MEASURING:
            return f"measuring ({self.progress})"
        return self.state.upper()

    def as_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric, "window": self.window, "state": self.state, "value": self.value,
            "value_text": self.value_text, "limit": self.limit, "direction": self.direction,
            "limit_text": self.limit_text, "reason": self.reason, "measured_s": round(self.measured_s, 1),
            "span_s": self.span_s, "measured": self.measured, "amount": self.amount, "stable": self.stable,
            "restarts": self.restarts,
        }


def _slices(window: Window, n: int) -> list[tuple[list[Increment], list[Sample]]]:
    length = window.span / n
    out: list[tuple[list[Increment], list[Sample]]] = [([], []) for _ in range(n)]

    def index(ts: float) -> int:  # (a, b] belongs to the slice holding its end b
        return min(n - 1, max(0, math.ceil((ts - window.start) / length - 1e-9) - 1))

    for inc in window.increments:
        out[index(inc.t1)][0].append(inc)
    for sample in window.samples:
        out[index(sample.ts)][1].append(sample)
    return out


def _hhmm(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%H:%M:%S UTC")


def evaluate(window: Window, metric: str, params: Mapping[str, Any] | None = None, *,
             slices: int = DISPLAY_SLICES) -> Verdict:
    """The verdict on one metric over `window`. params: max / min / threshold, stable,
    min_requests (1), slice_min (10), quantile (0.95), stable_slice_s."""
    params = dict(params or {})
    metric = METRIC_ALIASES.get(metric, metric)
    if metric not in DEFAULTS:
        raise ValueError(f"unknown metric '{metric}' (known: {', '.join(DEFAULTS)})")
    direction, limit = threshold(metric, params)
    stable = bool(params.get("stable", False))
    q = float(params.get("quantile", 0.95))
    min_amount = float(params.get("min_requests", 1))
    slice_min = float(params.get("slice_min", SLICE_MIN if metric != "pool" else 1))

    whole = measure(metric, aggregate(window.increments, window.samples), q)
    series, breaches = [], []
    for incs, samples in _slices(window, slices):
        m = measure(metric, aggregate(incs, samples), q)
        judged = m.value is not None and m.amount >= 1
        series.append(m.value if judged else None)
        breaches.append(judged and not within(metric, m, limit))

    span_words = f"over the last {window.label}"
    so_far = f"over {window.progress} measured so far"
    base = dict(metric=metric, window=window.label, value=whole.value, limit=limit, direction=direction,
                measured_s=window.measured_s, span_s=window.span, amount=whole.amount, stable=stable,
                restarts=window.restarts, series=tuple(series), breaches=tuple(breaches), beyond=whole.beyond)
    restarts = f"; {window.restarts} restart{'s' if window.restarts != 1 else ''} seen" if window.restarts else ""
    lim = limit_text(metric, limit) if metric != "pool" or limit is not None else ""

    if not whole.instrumented:
        state = MEASURING if not window.measured else NO_DATA
        why = f"{whole.said} in the samples" if window.samples else "no samples yet"
        prefix = f"measuring: {window.progress}; " if state == MEASURING else ""
        return Verdict(state=state, reason=f"{prefix}{why}", **base)
    if whole.value is None or whole.amount < min_amount:
        if metric == "pool" and whole.waiting > 0:
            return Verdict(state=FAIL, reason=f"pool exhausted: {whole.said}", **base)
        if window.measured:
            return Verdict(state=NO_DATA, reason=f"{whole.said} to judge {span_words}", **base)
        return Verdict(state=MEASURING, reason=f"measuring: {window.progress}; {whole.said} yet", **base)
    if not within(metric, whole, limit):
        where = span_words if window.measured else so_far
        exhausted = "pool exhausted: " if metric == "pool" and whole.waiting > 0 else ""
        limit_said = f", limit {lim}" if lim else ""
        return Verdict(state=FAIL, reason=f"{exhausted}{whole.said} {where}{limit_said}{restarts}", **base)
    if stable and metric != "pool":
        length = float(params.get("stable_slice_s", min(STABLE_SLICE_S, window.span / 12)))
        n = max(1, round(window.span / length))
        bad, judged, worst = [], 0, None
        for i, (incs, samples) in enumerate(_slices(window, n)):
            m = measure(metric, aggregate(incs, samples), q)
            if m.value is None or m.amount < slice_min:
                continue
            judged += 1
            if not within(metric, m, limit):
                bad.append((window.start + i * window.span / n, m))
        if bad:
            worst_ts, worst_m = max(bad, key=lambda b: b[1].value if direction == "max" else -b[1].value)
            return Verdict(state=FAIL, reason=(
                f"not stable: {len(bad)} of {judged} {window_label(window.span / n)} slices break {lim} "
                f"(worst {value_text(metric, worst_m.value, worst_m.beyond)} from {_hhmm(worst_ts)}); "
                f"{whole.said} {span_words if window.measured else so_far}"), **base)
    if not window.measured:
        return Verdict(state=MEASURING, reason=f"measuring: {window.progress}; so far {whole.said} {lim}".rstrip(), **base)
    steady = " in every slice" if stable and metric != "pool" else ""
    return Verdict(state=PASS, reason=f"{whole.said} {span_words}{steady} {lim}".rstrip() + restarts, **base)


def evaluate_all(window: Window, params: Mapping[str, Mapping[str, Any]] | None = None, *,
                 metrics: Sequence[str] = METRICS, slices: int = DISPLAY_SLICES) -> list[Verdict]:
    params = params or {}
    return [evaluate(window, m, params.get(m, {}), slices=slices) for m in metrics]


def load_window(store: Any, environment: str, span: float, now: float, *, max_gap: float | None = None) -> Window:
    """The window from the store: its samples, and the baseline before it."""
    gap = default_max_gap(span) if max_gap is None else max_gap
    return build_window(store.samples(environment, since=now - span - gap, until=now), span, now, max_gap=gap)
