"""Helpers the checklist tests share."""

from __future__ import annotations

from pathlib import Path


def write(tmp_path: Path, name: str, text: str | bytes, newline: str = "\n") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path
