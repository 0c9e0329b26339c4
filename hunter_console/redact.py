"""The one place that knows what a secret looks like.

Everything the console prints, stores or sends (screen, audit log, log files, Sentry) passes
through `redact` or `redact_obj`. Two defences: patterns (passwords in URLs, key=value pairs with
secret-sounding keys, bearer tokens, Sentry DSN keys) and exact values registered at run time
(the values of the env vars that the config names as secrets).
"""

from __future__ import annotations

import functools
import re
import threading
from typing import Any

MASK = "***"

_SECRET_KEY = r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|dsn|credentials?)"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host  ->  scheme://user:***@host
    (re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s:/@]*:)(?P<secret>[^\s@/]+)(?=@)"), r"\g<pre>" + MASK),
    # scheme://key@host (Sentry DSN public key, token-only URLs)  ->  scheme://***@host
    (re.compile(r"(?P<pre>\bhttps?://)(?P<secret>[0-9a-fA-F]{16,})(?=@)"), r"\g<pre>" + MASK),
    # Authorization: Bearer xyz / X-API-Key: xyz
    (re.compile(r"(?i)(?P<pre>\b(?:authorization|x-api-key|x-admin-token)\s*[:=]\s*(?:bearer\s+|basic\s+)?)(?P<secret>[^\s,;]+)"), r"\g<pre>" + MASK),
    # key=value / key: value / "key": "value" where the key sounds secret
    (
        re.compile(
            r"(?i)(?P<pre>\b[\w.\-]*" + _SECRET_KEY + r"[\w.\-]*\b[\"']?\s*[=:]\s*[\"']?)(?P<secret>(?!\*\*\*)[^\s\"',;&]+)"
        ),
        r"\g<pre>" + MASK,
    ),
    # libpq keyword DSN: password=xyz (covered above) ; PGPASSWORD=xyz
    (re.compile(r"(?P<pre>\bPGPASSWORD=)(?P<secret>\S+)"), r"\g<pre>" + MASK),
)

# Each pattern above needs one of these (lower-cased, ASCII) to match: "://" (URL credentials, DSN
# keys), "authoriz"/"key"/"token" (the headers), and the words of the secret-sounding keys. A text
# holding none of them and no registered value has nothing to redact, which is cheap to prove:
# most log output is passed as is without running the patterns (25-55 us a line otherwise).
# Keep this list in step with the patterns; tests/core/test_redact.py checks it on a corpus.
_TRIGGERS = ("://", "authoriz", "key", "passw", "pwd", "secret", "token", "dsn", "credential")

_lock = threading.Lock()
_known: set[str] = set()
_known_re: re.Pattern[str] | None = None
_generation = 0  # bumped whenever the registered secrets change; keys the cache of short texts


def register_secret(value: str | None) -> None:
    """Mask this exact value wherever it appears from now on (values shorter than 4 are ignored).

    A URL's password is registered on its own too, so it is caught outside the URL as well.
    """
    global _known_re
    if not value or len(value) < 4:
        return
    password = _url_password(value)
    if password and password != value:
        register_secret(password)
    with _lock:
        if value in _known:
            return
        _known.add(value)
        ordered = sorted(_known, key=len, reverse=True)
        _known_re = re.compile("|".join(re.escape(v) for v in ordered))
        _bump()


def _url_password(value: str) -> str | None:
    from urllib.parse import unquote, urlsplit

    try:
        password = urlsplit(value).password
    except ValueError:
        return None
    return unquote(password) if password else None


def forget_secrets() -> None:
    """For tests: drop every registered value."""
    global _known_re
    with _lock:
        _known.clear()
        _known_re = None
        _bump()


def _bump() -> None:
    global _generation
    _generation += 1
    _redact_short.cache_clear()


def redact(text: str) -> str:
    """The text with every secret it holds replaced by ***."""
    if not text:
        return text
    if len(text) <= 200:  # the short fields repeated on every audit row: redacted once each
        return _redact_short(text, _generation)
    return _redact(text)


@functools.lru_cache(maxsize=4096)
def _redact_short(text: str, generation: int) -> str:
    return _redact(text)


def could_hold_secret(text: str) -> bool:
    """False only when no pattern can match and no registered value occurs in `text`."""
    if not text.isascii():
        return True
    low = text.lower()
    if any(word in low for word in _TRIGGERS):
        return True
    known = _known_re
    return known is not None and known.search(text) is not None


def redact_lines(text: str) -> list[str]:
    """`text` split on newlines, each line redacted: for output at log speed."""
    lines = text.split("\n")
    if not could_hold_secret(text):
        return lines
    return [redact(line) for line in lines]


def _redact(text: str) -> str:
    if not could_hold_secret(text):
        return text
    return _redact_always(text)


def _redact_always(text: str) -> str:
    known = _known_re
    if known is not None:
        text = known.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_obj(value: Any) -> Any:
    """A copy of a JSON-like value with every string redacted and secret-named keys masked."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {
            key: (MASK if isinstance(key, str) and _is_secret_key(key) and val not in (None, "") else redact_obj(val))
            for key, val in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact_obj(v) for v in value]
    return value


_SECRET_KEY_RE = re.compile(r"(?i)^[\w.\-]*" + _SECRET_KEY + r"[\w.\-]*$")
_NOT_SECRET_KEYS = {"secret_env", "api_key_env", "dsn_env", "auth_ok", "token_env"}


def _is_secret_key(key: str) -> bool:
    return key.lower() not in _NOT_SECRET_KEYS and bool(_SECRET_KEY_RE.match(key))


def mask_value(value: str | None) -> str:
    """How a secret value shows on screen: whether it is set, never what it is."""
    if not value:
        return "(unset)"
    return f"{MASK} ({len(value)} chars)"
