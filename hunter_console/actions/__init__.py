"""Actions: async generators of events (LogLine, Progress, Artifact) ending in exactly one Outcome.

    async for event in backup(database_url, out_dir, release): ...
    async for event in restore(database_url, backup_path, expected_sha256=sha): ...
"""

from hunter_console.actions.backup import (
    DatabaseTarget,
    backup,
    parse_database_url,
    pg_dump_command,
    pg_verify_command,
    verify_pg_dump,
)
from hunter_console.actions.restore import pg_restore_command, restore

__all__ = [
    "DatabaseTarget",
    "backup",
    "parse_database_url",
    "pg_dump_command",
    "pg_restore_command",
    "pg_verify_command",
    "restore",
    "verify_pg_dump",
]
