"""Fault knobs: ways to break the sandbox on purpose, so the console can be seen catching them.

Set at start from the environment (`HUNTER_FAULT_<NAME>`, e.g. `HUNTER_FAULT_ERROR_RATE=0.2`,
`HUNTER_FAULT_500_FOR_404=1`) and at run time through `GET/POST /_admin/faults`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

ENV_PREFIX = "HUNTER_FAULT_"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class FaultError(ValueError):
    """A fault knob set to something it cannot be, said in one line."""


@dataclass
class Faults:
    """The knobs; all off by default. Knob name (env var suffix, admin JSON key) -> meaning:

    error_rate       0..1: that fraction of API requests (v1 and legacy) answer 500 (and reach Sentry)
    latency_ms       milliseconds added to every API request before it is answered
    fail_ready       /healthz/ready answers 503 whatever the database, Redis and schema say
    fail_startup     /healthz/startup answers 503, and so does /healthz/ready (never started)
    crash_on_start   `serve` exits non-zero (code 3) before it listens (a crash-looping release);
                     in the env it may also name versions (HUNTER_FAULT_CRASH_ON_START=v1.0.1,v1.0.2):
                     only those crash, so a deploy can fail and the old version restart fine
    auth_off         the API answers without checking X-API-Key (a key leak waiting to happen)
    rate_limit_off   the API never answers 429
    500_for_404      unknown routes answer 500 instead of a JSON 404
    legacy_gone      the legacy unversioned routes (/leads, /scan, ...) answer 404
    low_cache_hit    the cache never hits: every lookup is a miss
    """

    error_rate: float = 0.0
    latency_ms: int = 0
    fail_ready: bool = False
    fail_startup: bool = False
    crash_on_start: bool = False
    auth_off: bool = False
    rate_limit_off: bool = False
    server_error_for_404: bool = False
    legacy_gone: bool = False
    low_cache_hit: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "Faults":
        faults = cls()
        values = {key[len(ENV_PREFIX):].lower(): value for key, value in environ.items() if key.startswith(ENV_PREFIX)}
        for knob in values:
            if knob not in KNOBS:
                raise FaultError(f"{ENV_PREFIX}{knob.upper()}: unknown fault knob (known: {', '.join(KNOBS)})")
        faults.update(values, source="env")
        return faults

    def update(self, values: Mapping[str, Any], *, source: str = "admin") -> None:
        """Set knobs by name; all or nothing: a bad value changes no knob."""
        parsed = {}
        for knob, raw in values.items():
            name = KNOBS.get(knob, knob if knob in _FIELDS else None)
            if name is None:
                raise FaultError(f"unknown fault knob '{knob}' (known: {', '.join(KNOBS)})")
            parsed[name] = _parse(_label(name, source), _FIELDS[name], raw)
        for name, value in parsed.items():
            setattr(self, name, value)

    def as_dict(self) -> dict[str, Any]:
        """The knobs by their names (500_for_404, not the field name)."""
        by_field = asdict(self)
        return {knob: by_field[name] for knob, name in KNOBS.items()}

    def active(self) -> list[str]:
        return [knob for knob, value in self.as_dict().items() if value]


KNOBS = {f.name: f.name for f in fields(Faults)}
KNOBS.pop("server_error_for_404")
KNOBS["500_for_404"] = "server_error_for_404"
_FIELDS = {f.name: f.type for f in fields(Faults)}


def _label(name: str, source: str) -> str:
    knob = next(k for k, v in KNOBS.items() if v == name)
    return f"{ENV_PREFIX}{knob.upper()}" if source == "env" else knob


def _parse(label: str, kind: Any, raw: Any) -> Any:
    kind = kind if isinstance(kind, str) else kind.__name__
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise FaultError(f"{label}: '{raw}' is not true or false")
    if isinstance(raw, bool):
        raise FaultError(f"{label}: expected a number, got {raw}")
    try:
        number = float(raw) if kind == "float" else int(str(raw).strip() or 0)
    except (TypeError, ValueError):
        raise FaultError(f"{label}: '{raw}' is not {'a number' if kind == 'float' else 'a whole number'}") from None
    if kind == "float" and not 0.0 <= number <= 1.0:
        raise FaultError(f"{label}: {raw} is not between 0 and 1")
    if kind == "int" and number < 0:
        raise FaultError(f"{label}: {raw} is negative")
    return number
