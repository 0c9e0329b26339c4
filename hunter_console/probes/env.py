"""Environment-variable probes: is a variable set, equal to what production needs, a well-formed
URL or DSN.

The variables are read from the console's own environment (the operator's shell on the bastion,
or the environment the config names). A variable that holds a secret — DATABASE_URL, REDIS_URL,
the API key, SENTRY_DSN, the admin token — is looked up through the environment's `secrets`
table (so `var = "DATABASE_URL"` reads `STAGING_DATABASE_URL` when the config says so), and its
value is only ever shown masked (`*** (57 chars)`).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from hunter_console.checklist.model import ProbeSpec
from hunter_console.config import DEFAULT_SECRETS, SECRET_ROLES
from hunter_console.events import ProbeResult
from hunter_console.probes.base import ProbeContext, errored, failed, passed, register
from hunter_console.redact import mask_value

RULES = ("present", "equals", "url", "dsn")
URL_SCHEMES = ("http", "https", "redis", "rediss", "unix", "postgres", "postgresql")


def secret_role(var: str) -> str | None:
    """The secret role a variable name stands for: its role name or its default variable name."""
    if var in SECRET_ROLES:
        return var
    for role, default in DEFAULT_SECRETS.items():
        if default == var:
            return role
    return None


def resolve_var(var: str, context: ProbeContext) -> tuple[str, str | None, bool]:
    """(the variable actually read, its value, whether it is a secret)."""
    role = secret_role(var)
    if role is not None:
        name = context.environment.secrets.get(role) or DEFAULT_SECRETS.get(role, var)
        return name, context.secret(role) or context.environ.get(name) or None, True
    return var, context.environ.get(var) or None, False


@register("env", required=("var",), params=("rule", "expected", "value", "schemes", "secret", "case_sensitive"))
async def check_env(spec: ProbeSpec, context: ProbeContext) -> ProbeResult:
    """An environment variable is set / equals a value / is a well-formed URL or DSN."""
    params = spec.params
    var = str(params["var"])
    rule = str(params.get("rule", "equals" if ("expected" in params or "value" in params) else "present"))
    if rule not in RULES:
        return errored(f"unknown rule '{rule}' for {var} (known: {', '.join(RULES)})")
    name, value, secret = resolve_var(var, context)
    secret = bool(params.get("secret", secret))
    shown = mask_value(value) if secret else (value if value is not None else "(unset)")
    if value is None:
        return failed(f"{name} is not set", shown)
    if rule == "present":
        return passed(f"{name} is set", shown)
    if rule == "equals":
        expected = str(params.get("expected", params.get("value", "")))
        same = value == expected if params.get("case_sensitive", False) else value.casefold() == expected.casefold()
        if same:
            return passed(f"{name}={expected}", shown)
        return failed(f"{name} is {'set but not ' if secret else repr(value) + ', not '}{expected!r}", shown)
    if rule == "url":
        problem = url_problem(value, params.get("schemes") or URL_SCHEMES)
    else:
        problem = dsn_problem(value)
    if problem:
        return failed(f"{name} is not a valid {rule.upper()} ({problem})", shown)
    return passed(f"{name} is a well-formed {rule.upper()} ({_scheme(value)}, host {_host(value)})", shown)


def url_problem(value: str, schemes: Any = URL_SCHEMES) -> str | None:
    """Why `value` is not a usable URL with one of `schemes`, or None."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError as e:
        return str(e)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if not parts.scheme:
        return "no scheme (expected e.g. https://...)"
    if scheme not in tuple(schemes):
        return f"scheme '{parts.scheme}' (expected {', '.join(schemes)})"
    if scheme != "unix" and not parts.hostname:
        return "no host"
    return None


def dsn_problem(value: str) -> str | None:
    """Why `value` is not a usable DSN (a PostgreSQL URL or keyword DSN, a Redis URL, or a
    Sentry DSN), or None."""
    if "://" not in value:
        # libpq keyword form: host=... dbname=...
        pairs = dict(p.split("=", 1) for p in value.split() if "=" in p)
        if not pairs:
            return "neither a URL nor key=value pairs"
        if not (pairs.get("dbname") or pairs.get("host")):
            return "no host or dbname"
        return None
    parts = urlsplit(value)
    scheme = parts.scheme.split("+", 1)[0].lower()
    if scheme in ("postgres", "postgresql"):
        problem = url_problem(value, ("postgres", "postgresql"))
        if problem:
            return problem
        if not parts.path.strip("/"):
            return "no database name"
        return None
    if scheme in ("redis", "rediss", "unix"):
        return url_problem(value, ("redis", "rediss", "unix"))
    if scheme == "sqlite":  # the sandbox's file database
        return None if parts.path.strip("/") else "no database file"
    if scheme in ("http", "https"):
        from hunter_console.probes.sentry import sentry_dsn_problem

        return sentry_dsn_problem(value)
    return f"scheme '{parts.scheme}' (expected postgresql://, sqlite://, redis:// or a Sentry https:// DSN)"


def _scheme(value: str) -> str:
    return urlsplit(value).scheme if "://" in value else "keyword DSN"


def _host(value: str) -> str:
    if "://" not in value:
        pairs = dict(p.split("=", 1) for p in value.split() if "=" in p)
        return pairs.get("host", "(local socket)")
    try:
        return urlsplit(value).hostname or "(none)"
    except ValueError:
        return "(unparsable)"
