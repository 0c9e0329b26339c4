"""Stable, readable ids: ASCII slugs of titles, deduplicated in order of appearance.

The same title always gives the same slug, so the same file always gives the same ids; the
audit log refers to items by these ids, so this function must not change lightly.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable

MAX_SLUG = 48
# Letters NFKD does not take apart (dotless i) or that should read naturally in ASCII.
_TRANSLITERATE = str.maketrans({
    "ı": "i", "İ": "I", "ş": "s", "Ş": "S", "ğ": "g", "Ğ": "G", "ç": "c", "Ç": "C", "ö": "o", "Ö": "O",
    "ü": "u", "Ü": "U", "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "œ": "oe", "Œ": "OE",
    "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "Th",
})


def slugify(text: str, fallback: str = "item", max_len: int = MAX_SLUG) -> str:
    """`Liveness probe configured (\\`/healthz/live\\`)` -> `liveness-probe-configured-healthz-live`."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if len(slug) > max_len:
        cut = slug[: max_len + 1]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else slug[:max_len]
        slug = slug.strip("-")
    return slug or fallback


def unique(slug: str, taken: set[str]) -> str:
    """`slug`, or `slug-2`, `slug-3`, ... whichever is free; records the one returned in `taken`."""
    candidate, n = slug, 1
    while candidate in taken:
        n += 1
        candidate = f"{slug}-{n}"
    taken.add(candidate)
    return candidate


def unique_slugs(titles: Iterable[str], fallback: str = "item") -> list[str]:
    taken: set[str] = set()
    return [unique(slugify(title, fallback), taken) for title in titles]
