"""The demo's release workspace, started and stopped for tests (fixtures in tests/conftest.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path


def start_workspace(root: Path, database_url: str | None = None, production: bool = False):
    """The demo's release workspace with sandbox v0.9.0 running on a free 127.0.0.1 port: its
    schema in `database_url` (None: a SQLite file in the workspace), an audit log beside it."""
    from hunter_console import demo
    from hunter_console.events import Outcome

    async def up():
        workspace = await demo.prepare(root, database_url=database_url, production=production)
        outcome = None
        async for event in demo.start(workspace):
            if isinstance(event, Outcome):
                outcome = event
        assert outcome is not None and outcome.ok, outcome
        return workspace

    return asyncio.run(up())


def stop_workspace(workspace) -> None:
    from hunter_console import demo

    asyncio.run(demo.stop(workspace))
