"""The hash chain: how an event row is hashed, and nothing else.

`hash = sha256(prev_hash + canonical_json(row))` where the row is every column except `hash`
(id and prev_hash included) with `detail` as its JSON *object* (not the stored text), and
canonical JSON is `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`.
The first event's prev_hash is GENESIS (64 zeros). Anyone can re-check a log with this module,
the standard library and a copy of the database.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Mapping

GENESIS = "0" * 64

# Every column of the events table, in table order. `hash` is the last and is not hashed.
COLUMNS = (
    "id", "ts", "release", "environment", "operator", "host", "kind",
    "item", "action", "status", "message", "detail", "prev_hash", "hash",
)
HASHED_COLUMNS = COLUMNS[:-1]


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalize_detail(detail: Any) -> dict:
    """A plain JSON object: what storing and reloading the detail gives back, so that the hash
    computed before storing equals the one recomputed from the stored text."""
    if detail is None:
        return {}
    if not isinstance(detail, Mapping):
        raise TypeError(f"detail must be a dict, not {type(detail).__name__}")
    # One round trip: tuples become lists, non-string keys strings, odd values (Path,
    # datetime) their str(). Without sort_keys so that mixed key types cannot break it.
    return json.loads(json.dumps(dict(detail), ensure_ascii=False, default=str))


def row_hash(row: Mapping[str, Any]) -> str:
    """The hash of an event row (a mapping with every HASHED_COLUMNS key; detail a dict)."""
    body = {column: row[column] for column in HASHED_COLUMNS}
    return hashlib.sha256((row["prev_hash"] + canonical_json(body)).encode("utf-8")).hexdigest()
