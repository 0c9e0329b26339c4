"""Probes: one module per family, a registry by kind, and the sweep that runs them concurrently.

    from hunter_console.probes import ProbeContext, ProbeScheduler, run_probe, sweep

See `registry.py` for the kind -> module table and `base.py` for what PASS/WARN/FAIL/ERROR mean.
psycopg, redis and prometheus_client are imported only when a probe of theirs runs.
"""

from hunter_console.probes.base import ProbeContext
from hunter_console.probes.registry import KINDS, run_probe, spec_problems
from hunter_console.probes.sweep import ProbeScheduler, probe_items, sweep

__all__ = ["KINDS", "ProbeContext", "ProbeScheduler", "probe_items", "run_probe", "spec_problems", "sweep"]
