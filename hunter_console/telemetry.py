"""Sentry for the console itself: its own crashes, never the Hunter API's errors.

The DSN is `HUNTER_CONSOLE_SENTRY_DSN`, and only that. `SENTRY_DSN` is the *service's* (the
checklist's "Sentry DSN configured" item is about the API) and must not make the console report
into the API's project: with `HUNTER_CONSOLE_SENTRY_DSN` unset, nothing is initialised and nothing
is sent. Events carry the console's version as `release` ("hunter-console@0.1.0"), the
environment being released as `environment`, and the release being shipped as the tag
`hunter.release`.

Every event, breadcrumb and transaction passes through `hunter_console.redact` before it leaves:
messages, exception values, breadcrumbs, extra, contexts, request data and frame variables. The
SDK's own scrubber matches key names only, so a `postgresql://user:pass@...` in a message or an
exception value would go out in clear; ours runs the patterns (URL passwords, bearer tokens,
key=value) and masks every value the config names as a secret (the values of DATABASE_URL,
HUNTER_API_KEY, ... are registered at init), wherever they appear. If scrubbing itself fails the
event is dropped, never sent unscrubbed. The SDK's default (no PII) is kept.

    init_sentry(settings) -> bool         call once, after the settings are built
    capture_unhandled(exc) -> str | None  report an exception the CLI caught at its last line of
                                          defence (and flush: the process is about to exit)
    shutdown_sentry()                     flush and close (tests)
"""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

from hunter_console.redact import redact, redact_obj, register_secret

DSN_ENV = "HUNTER_CONSOLE_SENTRY_DSN"
FLUSH_TIMEOUT_S = 2.0
_SECRET_NAME_WORDS = ("PASSWORD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "DSN", "DATABASE_URL", "REDIS_URL")

log = logging.getLogger(__name__)
_initialised = False


def console_version() -> str:
    try:
        from importlib.metadata import version

        return version("hunter-console")
    except Exception:  # noqa: BLE001 - running from a checkout
        return "0.1.0"


def scrub(value: Any) -> Any:
    """A copy with every string redacted and every secret-named key masked."""
    return redact_obj(value)


def before_send(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any] | None:
    try:
        return scrub(event)
    except Exception:  # noqa: BLE001 - never send what we could not scrub
        return None


def before_breadcrumb(crumb: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any] | None:
    try:
        return scrub(crumb)
    except Exception:  # noqa: BLE001
        return None


def register_secrets(settings: Any = None, environ: Mapping[str, str] | None = None) -> None:
    """Register with redact the value of every variable the config names as a secret (for every
    environment), and of every variable whose name says it is one."""
    environ = os.environ if environ is None else environ
    if settings is not None:
        from hunter_console.config import SECRET_ROLES

        for environment in getattr(settings, "environments", {}).values():
            for role in SECRET_ROLES:
                try:
                    environment.secret(role, environ)  # registers the value it finds
                except Exception:  # noqa: BLE001 - an unreadable env file: the patterns still run
                    name = environment.secrets.get(role)
                    if name:
                        register_secret(environ.get(name))
    for name, value in environ.items():
        if any(word in name.upper() for word in _SECRET_NAME_WORDS):
            register_secret(value)


def init_sentry(settings: Any = None, *, environ: Mapping[str, str] | None = None, **options: Any) -> bool:
    """Initialise sentry-sdk for the console when HUNTER_CONSOLE_SENTRY_DSN is set; False (and
    nothing initialised) otherwise. `options` go to sentry_sdk.init (tests: shutdown_timeout...)."""
    global _initialised
    environ = os.environ if environ is None else environ
    dsn = (environ.get(DSN_ENV) or "").strip()
    if not dsn:
        return False
    import sentry_sdk

    register_secrets(settings, environ)
    register_secret(dsn)  # the DSN's key is ours to keep, too
    environment = getattr(settings, "env_name", None) or "local"
    sentry_sdk.init(
        dsn=dsn,
        release=f"hunter-console@{console_version()}",
        environment=environment,
        before_send=before_send,
        before_send_transaction=before_send,
        before_breadcrumb=before_breadcrumb,
        include_local_variables=True,
        max_breadcrumbs=50,
        **options,
    )
    if settings is not None:
        sentry_sdk.set_tag("hunter.release", str(getattr(settings, "release", "")))
        sentry_sdk.set_tag("hunter.environment", environment)
    _initialised = True
    return True


def capture_unhandled(exc: BaseException) -> str | None:
    """Report an exception nobody handled (the CLI's last line of defence) and flush, since the
    process exits next. The event id, or None when Sentry is off. Never raises."""
    if not _initialised:
        return None
    try:
        import sentry_sdk

        event_id = sentry_sdk.capture_exception(exc)
        sentry_sdk.flush(timeout=FLUSH_TIMEOUT_S)
        return event_id
    except Exception:  # noqa: BLE001 - reporting must not turn one error into two
        return None


def shutdown_sentry() -> None:
    """Flush what is queued and close the client (a later init starts afresh)."""
    global _initialised
    if not _initialised:
        return
    import sentry_sdk

    client = sentry_sdk.get_client()
    try:
        client.flush(timeout=FLUSH_TIMEOUT_S)
        client.close(timeout=FLUSH_TIMEOUT_S)
    finally:
        sentry_sdk.get_global_scope().set_client(None)
        _initialised = False
