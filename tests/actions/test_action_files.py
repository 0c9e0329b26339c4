"""The file helpers the actions share: hashing, no-clobber atomic publish, quiet removal."""

from __future__ import annotations

import hashlib

import pytest

from hunter_console.actions.files import atomic_rename, fsync_dir, fsync_file, partial_path, remove_quietly, sha256_file


def test_sha256_file_matches_hashlib_across_blocks(tmp_path):
    data = bytes(range(256)) * 9000  # > 1 MiB: more than one read block
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_atomic_rename_publishes_and_never_clobbers(tmp_path):
    final = tmp_path / "backup.dump"
    partial = partial_path(final)
    assert partial.name == "backup.dump.partial"
    partial.write_bytes(b"one")
    fsync_file(partial)
    atomic_rename(partial, final)
    assert final.read_bytes() == b"one" and not partial.exists()

    partial.write_bytes(b"two")
    with pytest.raises(FileExistsError):
        atomic_rename(partial, final)
    assert final.read_bytes() == b"one" and partial.exists()

    atomic_rename(partial, final, overwrite=True)
    assert final.read_bytes() == b"two" and not partial.exists()
    fsync_dir(tmp_path)


def test_remove_quietly(tmp_path):
    path = tmp_path / "x"
    path.write_text("x")
    assert remove_quietly(path) is True
    assert remove_quietly(path) is False
