"""What an action runs with: the settings, the session (audit log, probe results), its
parameters, and the environment's executor, built on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from hunter_console.config import Environment, Settings

if TYPE_CHECKING:
    from hunter_console.executors.base import Executor
    from hunter_console.session import ReleaseSession


class ActionError(Exception):
    """An action cannot start (nothing has been done yet), said in one line."""


@dataclass
class ActionContext:
    session: "ReleaseSession"
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def settings(self) -> Settings:
        return self.session.settings

    @property
    def environment(self) -> Environment:
        return self.settings.environment

    @cached_property
    def executor(self) -> "Executor":
        from hunter_console.executors.base import ExecutorError
        from hunter_console.executors.factory import executor_for

        try:
            return executor_for(self.environment)
        except ExecutorError as e:
            raise ActionError(str(e)) from None

    def database_url(self) -> str:
        url = self.environment.secret("database_url")
        if not url:
            var = self.environment.secrets.get("database_url", "DATABASE_URL")
            raise ActionError(f"{var} is not set for environment {self.environment.name}")
        return url

    def backup_dir(self) -> Path:
        base = self.settings.state_dir or self.settings.audit_path.parent
        return Path(base) / "backups"
