"""What one sandbox process runs with, read once from the environment (like the real service)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from hunter_console.sandbox.faults import Faults
from hunter_console.sandbox.schema import parse_version

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A setting the sandbox cannot start with, said in one line."""


@dataclass
class SandboxSettings:
    version: str
    database_url: str
    redis_url: str | None = None
    api_key: str | None = None  # HUNTER_API_KEY: when set, X-API-Key must equal it
    admin_token: str | None = None  # HUNTER_ADMIN_TOKEN: when unset, /_admin/faults is 404
    rate_limit_per_minute: int = 120
    log_level: str = "INFO"
    sentry_dsn: str | None = None
    environment: str = "local"
    cache_ttl_s: int = 60
    faults: Faults = field(default_factory=Faults)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, version: str,
                 database_url: str | None = None) -> "SandboxSettings":
        env = os.environ if environ is None else environ
        try:
            parse_version(version)
        except ValueError as e:
            raise SettingsError(str(e)) from None
        try:
            fault_env = _crash_for_this_version(env, version)
        except ValueError as e:
            raise SettingsError(f"HUNTER_FAULT_CRASH_ON_START: {e}") from None
        url = database_url or env.get("DATABASE_URL", "")
        if not url.strip():
            raise SettingsError("no database: set DATABASE_URL or pass --database-url")
        raw_limit = env.get("RATE_LIMIT_PER_MINUTE", "120").strip()
        try:
            limit = int(raw_limit)
        except ValueError:
            raise SettingsError(f"RATE_LIMIT_PER_MINUTE: '{raw_limit}' is not a whole number") from None
        if limit < 1:
            raise SettingsError(f"RATE_LIMIT_PER_MINUTE: {limit} must be at least 1")
        level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
        if level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL: '{level}' is not one of {', '.join(LOG_LEVELS)}")
        return cls(
            version=version if version.startswith("v") else f"v{version}",
            database_url=url.strip(),
            redis_url=env.get("REDIS_URL") or None,
            api_key=env.get("HUNTER_API_KEY") or None,
            admin_token=env.get("HUNTER_ADMIN_TOKEN") or None,
            rate_limit_per_minute=limit,
            log_level=level,
            sentry_dsn=env.get("SENTRY_DSN") or None,
            environment=env.get("ENVIRONMENT", "local") or "local",
            faults=Faults.from_env(fault_env),
        )


def _crash_for_this_version(env: Mapping[str, str], version: str) -> Mapping[str, str]:
    """HUNTER_FAULT_CRASH_ON_START may name versions ("v1.0.1,v1.0.2"): only those crash."""
    raw = env.get("HUNTER_FAULT_CRASH_ON_START", "").strip()
    if not raw.lower().startswith("v"):
        return env
    named = {parse_version(v) for v in raw.split(",") if v.strip()}
    return {**env, "HUNTER_FAULT_CRASH_ON_START": "1" if parse_version(version) in named else "0"}
