"""`hunter-console demo`: the console on a live sandbox Hunter API, nothing else needed."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Optional

import typer

from hunter_console.commands.common import fail, options, say
from hunter_console.events import LogLine, Outcome, Progress


def demo(
    ctx: typer.Context,
    state_dir: Optional[Path] = typer.Option(None, "--state-dir", help="Workspace folder (default: ~/.local/state/hunter-console/demo)."),
    port: Optional[int] = typer.Option(None, "--port", help="Port for the sandbox (default: a free one)."),
    no_tui: bool = typer.Option(False, "--no-tui", help="Start the workspace without the screen; run until interrupted."),
) -> None:
    """Start the sandbox demo: sandbox v0.9.0 on 127.0.0.1, the console on it for release v1.0.0."""
    from hunter_console import demo as workspace_module

    if port is not None and not (1024 <= port <= 65535):
        fail(f"--port {port}: give a port between 1024 and 65535", 2)
    workspace = asyncio.run(workspace_module.prepare(state_dir, port))
    say(f"demo workspace: {workspace.root}")
    outcome = asyncio.run(_start(workspace))
    try:
        if not outcome.ok:
            fail(f"the sandbox did not start: {outcome.message}")
        say(f"sandbox {workspace_module.START_VERSION} serving on {workspace.base_url}")
        say(f"config: {workspace.config_path}")
        if no_tui:
            say(f"point other commands at it: hunter-console --config {workspace.config_path} probe")
            say("running until interrupted (Ctrl-C)")
            _wait_for_interrupt()
        else:
            _open_console(ctx, workspace)
    finally:
        asyncio.run(workspace_module.stop(workspace))
        say("demo stopped: the sandbox is no longer running")


async def _start(workspace) -> Outcome:
    from hunter_console import demo as workspace_module

    outcome = Outcome(ok=False, message="no outcome")
    async for event in workspace_module.start(workspace):
        if isinstance(event, Progress) and event.message:
            say(f"  {event.message}")
        elif isinstance(event, LogLine) and event.stream == "executor":
            say(f"  {event.text}")
        elif isinstance(event, Outcome):
            outcome = event
    return outcome


def _open_console(ctx: typer.Context, workspace) -> None:
    from hunter_console.config import load_settings
    from hunter_console.session import open_session
    from hunter_console.tui.app import make_app

    opts = options(ctx)
    settings = load_settings(workspace.config_path, operator=opts.operator, audit=opts.audit)
    make_app(open_session(settings, record_open=True)).run()


def _wait_for_interrupt() -> None:
    stop = asyncio.Event()

    async def wait() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()

    asyncio.run(wait())
