"""One metric of the monitoring pane: its sparkline over the window, the threshold marked, the
current value and the verdict.

    ╭ Error rate  < 1% ─────────────────────────────────────────── PASS ╮
    │ ▁▁▁▁▂▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁   0.21%          │
    │ ▁▁▂▃▆█▃▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁▁   60 of 60 min   │
    │ ────▲▲──────────────────────────────────────────   limit 1%       │
    ╰───────────────────────────────────────────────────────────────────╯

The sparkline is one bar a slice of the window (DISPLAY_SLICES of them) on a pinned scale: the
threshold sits at half height for "less than" metrics (error rate, P95: the scale tops at twice the
limit, values beyond are clipped), and the scale is 0..100% for the rates and pool usage. Under it,
the threshold rule: `─` a slice within the threshold, `▲` one that breaks it (red), `·` one with
nothing to judge. Attributes down: the screen sets `verdict`; the panel only draws.
"""

from __future__ import annotations

from typing import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from hunter_console.monitoring.windows import DISPLAY_SLICES, FAIL, PASS, TITLES, Verdict

STATE_CLASSES = ("-pass", "-fail", "-measuring")


def _first(values: Sequence[float]) -> float:
    return values[0]


def pinned_scale(values: Sequence[float | None], ceiling: float) -> list[float]:
    """Data for textual's Sparkline whose scale is 0..ceiling whatever the values: each value is
    paired with an anchor (0 once, the ceiling once, itself otherwise), the widget (as wide as
    there are values) puts one pair in each bar, and `_first` as the summary draws the value."""
    clipped = [min(max(v or 0.0, 0.0), ceiling) for v in values]
    data: list[float] = []
    for i, v in enumerate(clipped):
        anchor = 0.0 if i == 0 else ceiling if i == 1 else v
        data += [v, anchor]
    return data


def scale_ceiling(verdict: Verdict) -> float:
    values = [v for v in verdict.series if v is not None]
    if verdict.metric in ("error_rate", "p95_ms"):
        if verdict.limit:
            return 2 * verdict.limit
        return max(values, default=1.0) or 1.0
    return max(1.0, max(values, default=1.0))


def threshold_rule(verdict: Verdict) -> Text:
    rule = Text(no_wrap=True)
    for value, breach in zip(verdict.series, verdict.breaches):
        if value is None:
            rule.append("·", "dim")
        elif breach:
            rule.append("▲", "bold red")
        else:
            rule.append("─", "green")
    return rule


class SparklinePanel(Widget):
    DEFAULT_CSS = f"""
    SparklinePanel {{
        height: 5;
        border: round $panel-lighten-2;
        border-title-color: $text;
        border-subtitle-style: bold;
        padding: 0 1;
    }}
    SparklinePanel.-pass {{ border: round $success; border-subtitle-color: $success; }}
    SparklinePanel.-fail {{ border: round $error; border-subtitle-color: $error; }}
    SparklinePanel.-measuring {{ border: round $warning; border-subtitle-color: $warning; }}
    SparklinePanel Horizontal {{ height: 2; }}
    SparklinePanel Sparkline {{ width: {DISPLAY_SLICES}; height: 2; margin-right: 2; }}
    SparklinePanel Sparkline > .sparkline--min-color {{ color: $success; }}
    SparklinePanel Sparkline > .sparkline--max-color {{ color: $error; }}
    SparklinePanel Sparkline.-higher-is-better > .sparkline--min-color {{ color: $error; }}
    SparklinePanel Sparkline.-higher-is-better > .sparkline--max-color {{ color: $success; }}
    SparklinePanel .value {{ width: 1fr; height: 2; }}
    SparklinePanel .rule-row {{ height: 1; }}
    SparklinePanel .rule {{ width: {DISPLAY_SLICES}; margin-right: 2; }}
    SparklinePanel .limit {{ width: 1fr; color: $text-muted; }}
    """

    verdict: reactive[Verdict | None] = reactive(None, layout=False, init=False)

    def __init__(self, metric: str, *, id: str | None = None) -> None:
        super().__init__(id=id or f"panel-{metric}")
        self.metric = metric

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield Sparkline([], summary_function=_first, id="spark",
                            classes="-higher-is-better" if self.metric == "cache_hit_rate" else "")
            yield Static("", classes="value")
        with Horizontal(classes="rule-row"):
            yield Static("", classes="rule")
            yield Static("", classes="limit")

    def on_mount(self) -> None:
        self.border_title = TITLES.get(self.metric, self.metric)
        self.border_subtitle = "…"

    def watch_verdict(self, verdict: Verdict | None) -> None:
        if verdict is None:
            return
        self.border_title = f"{verdict.title}  {verdict.limit_text}"
        self.border_subtitle = verdict.label
        for cls in STATE_CLASSES:
            self.remove_class(cls)
        self.add_class("-pass" if verdict.state == PASS else "-fail" if verdict.state == FAIL else "-measuring")
        self.query_one(Sparkline).data = pinned_scale(verdict.series, scale_ceiling(verdict))
        value = Text(verdict.value_text, style="bold")
        value.append(f"\n{verdict.progress}", style="dim")
        self.query_one(".value", Static).update(value)
        self.query_one(".rule", Static).update(threshold_rule(verdict))
        marker = {"error_rate": "limit", "p95_ms": "limit", "cache_hit_rate": "needs"}.get(verdict.metric, "")
        self.query_one(".limit", Static).update(f"{marker} {verdict.limit_text}".strip() if verdict.limit_text else "")
