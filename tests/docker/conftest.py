"""The real Docker engine for the DockerExecutor tests. No registry: images are made here.

- a base image: `docker import` of a tiny rootfs tar (a few dirs, /bin -> usr/bin style links and
  an `alembic` wrapper script), cached by tag across runs (`hc-test-base:<hash>`);
- "hunter-api" images (`hctest-api-<session>:<version>`), built FROM the base with no RUN step:
  an ENTRYPOINT that runs `python -m hunter_console.sandbox serve --version <v>`, some with a
  HEALTHCHECK or a fault knob in ENV. Containers get the host's /usr, Python prefix and this
  repository bind-mounted read-only, `network_mode=host`, a 127.0.0.1 port;
- a "compose project" made by hand: one container with Compose's labels, the sandbox on a
  throwaway PostgreSQL database (127.0.0.1:5432).

Everything made here (but the cached base) is labelled `hunter-console-test=1` and removed at the
end of the session. No engine, no database: the tests fail, never skip.
"""

from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest
from docker_testlib import (
    IMAGE_REPO, PG_ADMIN, TEST_IMAGES, V09_REVISION, Project, build_image, dockerfile, ensure_base_image, migrate,
    remove_test_objects, start_project,
)


@pytest.fixture(scope="session")
def docker_api() -> Iterator[Any]:
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except Exception as e:  # noqa: BLE001
        pytest.fail(f"the Docker engine is not reachable ({e}); start it: dockerd >/tmp/dockerd.log 2>&1 &",
                    pytrace=False)
    yield client.api
    remove_test_objects(client.api)
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_api) -> str:
    return ensure_base_image(docker_api)


@pytest.fixture(scope="session")
def test_images(docker_api, base_image, tmp_path_factory) -> dict[str, str]:
    """version -> image id for every TEST_IMAGES entry, tagged IMAGE_REPO:version."""
    ids = {}
    for version, options in TEST_IMAGES.items():
        context = tmp_path_factory.mktemp(f"image-{version}")
        (context / "Dockerfile").write_text(dockerfile(base_image, version, **options))
        ids[version] = build_image(docker_api, context, f"{IMAGE_REPO}:{version}")
    return ids


# -- a database ----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_admin():
    import psycopg

    conn = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    yield conn
    conn.close()


@pytest.fixture
def database(pg_admin) -> Iterator[str]:
    name = "hc_docker_" + uuid.uuid4().hex[:10]
    pg_admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    pg_admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def project_factory(docker_api, test_images, database):
    """`project_factory(version, revision)`: a one-service compose project running `version` on a
    fresh database migrated to `revision` (None: not migrated, not waited for)."""
    made: list[Project] = []

    def make(version: str = "v0.9.0", revision: str | None = V09_REVISION) -> Project:
        if revision is not None:
            migrate(database, revision)
        project = start_project(docker_api, f"{IMAGE_REPO}:{version}", database, wait=revision is not None)
        made.append(project)
        return project

    yield make
    for project in made:
        for c in docker_api.containers(all=True, filters={"label": f"com.docker.compose.project={project.name}"}):
            docker_api.remove_container(c["Id"], force=True)


@pytest.fixture
def executor_for(docker_api):
    """`executor_for(project, **kw)`: a DockerExecutor on that project's api service."""
    from hunter_console.executors.docker import DockerExecutor

    made = []

    def make(project: Project, **kw: Any) -> DockerExecutor:
        kw.setdefault("image_repo", IMAGE_REPO)
        kw.setdefault("health_timeout_s", 20.0)
        executor = DockerExecutor(project.name, project.service, base_url=project.base_url, **kw)
        made.append(executor)
        return executor

    yield make
