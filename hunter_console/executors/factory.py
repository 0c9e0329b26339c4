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
    if environment.executor == "kubernetes":
        from hunter_console.executors.kubernetes import KubernetesExecutor

        deployment = settings.get("deployment")
        if not isinstance(deployment, str) or not deployment:
            raise ExecutorError(f"environment {environment.name}: executor_settings.deployment (the Deployment's name) "
                                "is missing")
        manifest = settings.get("manifest")
        # No service_env() here: the Deployment's pod template already carries the service's environment
        # (secrets as secretKeyRef), and env-file values must not be copied into Job specs in clear.
        return KubernetesExecutor(
            deployment,
            namespace=str(settings.get("namespace", "default")),
            container=settings.get("container"),
            image_repo=settings.get("image_repo"),
            manifest=Path(manifest) if manifest else None,
            kubeconfig=settings.get("kubeconfig"),
            context=settings.get("context"),
            in_cluster=bool(settings.get("in_cluster", False)),
            rollout_timeout_s=float(settings.get("rollout_timeout_s", 600)),
            run_timeout_s=float(settings.get("run_timeout_s", 1800)),
            run_mode=str(settings.get("run_mode", "job")),
            job_ttl_s=int(settings.get("job_ttl_s", 7 * 86400)),
        )
    raise ExecutorError(f"environment {environment.name}: the {environment.executor} executor is not available yet")
