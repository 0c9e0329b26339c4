"""Structured logs: one JSON object per line on stdout (ts, level, msg, and any fields), redacted."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Any, TextIO

from hunter_console.redact import redact

_RANK = {"DEBUG": 10, "INFO": 20, "WARNING": 30, "ERROR": 40}


class JsonLog:
    def __init__(self, level: str = "INFO", stream: TextIO | None = None) -> None:
        self.threshold = _RANK.get(level.upper(), 20)
        self.stream = stream

    def enabled(self, level: str) -> bool:
        return _RANK.get(level, 20) >= self.threshold

    def emit(self, level: str, msg: str, **fields: Any) -> None:
        if not self.enabled(level):
            return
        record = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                  "level": level, "msg": msg, **fields}
        line = redact(json.dumps(record, default=str, separators=(",", ":")))
        stream = self.stream or sys.stdout
        stream.write(line + "\n")
        stream.flush()

    def debug(self, msg: str, **fields: Any) -> None:
        self.emit("DEBUG", msg, **fields)

    def info(self, msg: str, **fields: Any) -> None:
        self.emit("INFO", msg, **fields)

    def warning(self, msg: str, **fields: Any) -> None:
        self.emit("WARNING", msg, **fields)

    def error(self, msg: str, **fields: Any) -> None:
        self.emit("ERROR", msg, **fields)
