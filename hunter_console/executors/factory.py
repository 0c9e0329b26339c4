"""The executor an environment's config asks for, built from its settings."""

from __future__ import annotations

from pathlib import Path

from hunter_console.config import Environment
from hunter_console.executors.base import Executor, ExecutorError


def executor_for(environment: Environment) -> Executor:
    settings = environment.executor_settings
    if environment.executor == "local":
        from hunter_console.executors.local import LocalExecutor

        port = settings.get("port")
        if not isinstance(port, int):
            raise ExecutorError(f"environment {environment.name}: executor_settings.port must be a port number")
        database_url = environment.secret("database_url")
        if not database_url:
            raise ExecutorError(
                f"environment {environment.name}: {environment.secrets.get('database_url')} is not set"
            )
        return LocalExecutor(port, database_url, Path(settings.get("state_dir", ".")), env=environment.service_env())
    raise ExecutorError(f"environment {environment.name}: the {environment.executor} executor is not available yet")
