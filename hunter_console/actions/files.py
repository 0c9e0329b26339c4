"""File helpers the actions share: hash a file, make it durable, publish it under its final name.

A backup is written under a `.partial` name and only renamed to its final name once it is
complete, verified, hashed and fsynced; the rename is atomic and the directory is fsynced after
it, so after a crash the final name either holds the whole verified file or does not exist.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_BLOCK = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The hex sha256 of a file's bytes (blocking; run it in a thread from async code)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_file(path: str | os.PathLike[str]) -> None:
    """Flush a file's data and metadata to stable storage."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Flush a directory's entries (a rename or an unlink in it) to stable storage."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_rename(src: str | os.PathLike[str], dst: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Rename src to dst atomically (same directory / filesystem), then fsync dst's directory.

    Without `overwrite`, an existing dst is never replaced: FileExistsError (the no-clobber
    rename is a hard link plus an unlink, which is atomic too: dst is either absent or whole).
    """
    src, dst = Path(src), Path(dst)
    if overwrite:
        os.replace(src, dst)
    else:
        try:
            os.link(src, dst)
        except FileExistsError:
            raise
        except OSError:
            # A filesystem without hard links: check, then rename (a tiny window, documented).
            if dst.exists():
                raise FileExistsError(f"{dst} already exists") from None
            os.rename(src, dst)
        else:
            os.unlink(src)
    fsync_dir(dst.parent)


def remove_quietly(path: str | os.PathLike[str]) -> bool:
    """Delete a file if it is there; True when something was deleted."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return False
    return True


def partial_path(final: Path) -> Path:
    """Where a file is written before it is published under `final`."""
    return final.with_name(final.name + ".partial")


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover
