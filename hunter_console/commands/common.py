"""What every command shares: the global options, settings built once, one-line errors."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import typer

from hunter_console.config import ConfigError, Settings, load_settings
from hunter_console.redact import redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class GlobalOptions:
    config: Path | None = None
    env: str | None = None
    release: str | None = None
    audit: Path | None = None
    operator: str | None = None
    _settings: Settings | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            try:
                self._settings = load_settings(self.config, self.env, self.release, self.audit, self.operator)
            except ConfigError as e:
                fail(f"config error: {e}", EXIT_USAGE)
        return self._settings


def options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def settings(ctx: typer.Context) -> Settings:
    return options(ctx).settings()


def fail(message: str, code: int = EXIT_FAILED) -> NoReturn:
    """One clear line on stderr, a non-zero exit, never a traceback."""
    print(f"hunter-console: {redact(message)}", file=sys.stderr)
    raise typer.Exit(code)


def say(text: str = "") -> None:
    print(redact(text))


def print_json(value: Any) -> None:
    from hunter_console.redact import redact_obj

    print(json.dumps(redact_obj(value), indent=2, ensure_ascii=False, default=str))
