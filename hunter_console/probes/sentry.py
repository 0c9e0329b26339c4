"""Sentry: the DSN is present and well formed. No network: the console never talks to sentry.io
on the API's behalf; whether 500s really reach Sentry is the post-deployment sign-off.

A Sentry DSN is `{http,https}://PUBLIC_KEY[:SECRET]@HOST[:PORT]/[PATH/]PROJECT_ID`, the public
key 32 hex characters (older keys were any non-empty token; those get a WARN), the project id
a number.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from hunter_console.checklist.model import ProbeSpec
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext, failed, passed, register, warned
from hunter_console.redact import mask_value

_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


def sentry_dsn_problem(dsn: str) -> str | None:
    """Why `dsn` is not a Sentry DSN, or None."""
    try:
        parts = urlsplit(dsn.strip())
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as e:
        return str(e)
    if parts.scheme not in ("http", "https"):
        return f"scheme '{parts.scheme or '(none)'}' (expected https)"
    if not parts.username:
        return "no public key before the @"
    if not parts.hostname:
        return "no host"
    project = parts.path.rstrip("/").rsplit("/", 1)[-1]
    if not project.isdigit():
        return "no numeric project id at the end of the path"
    return None


@register("sentry", params=("var", "require_https"))
async def check_sentry(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """SENTRY_DSN (or the variable the config names for it) is set and is a well-formed DSN."""
    var = spec.params.get("var")
    if var:
        from hunter_console.probes.env import resolve_var

        name, dsn, _ = resolve_var(str(var), context)
    else:
        name = context.environment.secrets.get("sentry_dsn", "SENTRY_DSN")
        dsn = context.secret("sentry_dsn")
    shown = mask_value(dsn)
    if not dsn:
        return failed(f"{name} is not set: errors would not reach Sentry", shown)
    problem = sentry_dsn_problem(dsn)
    if problem:
        return failed(f"{name} is not a valid Sentry DSN ({problem})", shown)
    parts = urlsplit(dsn.strip())
    project = parts.path.rstrip("/").rsplit("/", 1)[-1]
    where = f"project {project} on {parts.hostname}"
    if parts.scheme != "https" and spec.params.get("require_https", context.environment.production):
        return failed(f"{name} sends events over plain http ({where})", shown)
    if not _HEX32.match(parts.username or ""):
        return warned(f"{name} is well formed but its key is not the usual 32 hex characters ({where})", shown)
    return passed(f"{name} is a well-formed Sentry DSN ({where})", shown)
