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
    if environment.executor == "docker":
        from hunter_console.executors.docker import DockerExecutor

        project = settings.get("project")
        if not isinstance(project, str) or not project:
            raise ExecutorError(f"environment {environment.name}: executor_settings.project (the Compose project) is missing")
        context = settings.get("build_context")
        return DockerExecutor(
            project,
            str(settings.get("service", "api")),
            base_url=environment.base_url,
            build_context=Path(context) if context else None,
            image_repo=str(settings.get("image_repo", "hunter-api")),
            health_timeout_s=float(settings.get("health_timeout_s", 60)),
            docker_host=settings.get("docker_host"),
            env=environment.service_env(),
        )
    raise ExecutorError(f"environment {environment.name}: the {environment.executor} executor is not available yet")
