"""hunter-console's command line: typer commands over the same ReleaseSession the TUI drives."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from hunter_console.commands import audit as audit_commands
from hunter_console.commands import checklist as checklist_commands
from hunter_console.commands.demo import demo
from hunter_console.commands.monitor import monitor
from hunter_console.commands.probe import probe
from hunter_console.commands.run import run
from hunter_console.commands import release as release_commands
from hunter_console.commands.common import GlobalOptions, options

app = typer.Typer(
    name="hunter-console",
    help="A terminal release console for the Hunter API.",
    add_completion=False,
    pretty_exceptions_enable=False,
    no_args_is_help=False,
    rich_markup_mode=None,
)
app.add_typer(checklist_commands.app, name="checklist")
app.add_typer(audit_commands.app, name="audit")
release_commands.register(app)
app.command()(demo)
app.command()(run)
app.command()(probe)
app.command()(monitor)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="hunter.toml to read (env HUNTER_CONFIG)."),
    env: Optional[str] = typer.Option(None, "--env", "-e", help="Environment from the config (env HUNTER_ENV)."),
    release: Optional[str] = typer.Option(None, "--release", "-r", help="Release being shipped (env HUNTER_RELEASE)."),
    audit: Optional[Path] = typer.Option(None, "--audit", help="Audit database (env HUNTER_AUDIT_DB; ./audit.db)."),
    operator: Optional[str] = typer.Option(None, "--operator", help="Who is at the keyboard (default: login user)."),
) -> None:
    """Open the console on the configured environment, or run one of the commands."""
    ctx.obj = GlobalOptions(config=config, env=env, release=release, audit=audit, operator=operator)
    _report_errors_to_sentry(ctx.obj)
    if ctx.invoked_subcommand is None:
        tui(ctx)


@app.command()
def tui(ctx: typer.Context) -> None:
    """Open the console (the default command)."""
    from hunter_console.session import open_session

    settings = options(ctx).settings()
    session = open_session(settings, record_open=True)
    from hunter_console.tui.app import make_app

    make_app(session).run()


def _report_errors_to_sentry(opts: GlobalOptions) -> None:
    """The console's own errors go to Sentry when HUNTER_CONSOLE_SENTRY_DSN is set (scrubbed)."""
    import os

    if os.environ.get("HUNTER_CONSOLE_SENTRY_DSN"):
        from hunter_console.telemetry import init_sentry

        init_sentry(opts.settings())


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        print("hunter-console: interrupted", file=sys.stderr)
        sys.exit(130)
    except Exception as e:  # the last line of defence: one line, not a traceback
        from hunter_console.redact import redact
        from hunter_console.telemetry import capture_unhandled

        capture_unhandled(e)
        print(f"hunter-console: unexpected error: {type(e).__name__}: {redact(str(e))}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
