"""Helpers for the Docker tests and the Docker benchmark (fixtures are in conftest.py): the test
images (a `docker import`ed base, "hunter-api" images FROM it), the host mounts that give a
container the host's Python, a hand-made Compose project. Plain functions on the SDK's APIClient;
no pytest here, so tests/benchmarks can import it too."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
import uuid
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
PYTHON = Path(sys.executable)  # the venv's python (a symlink into the real prefix)
PREFIX = Path(sys.base_prefix).resolve()  # the real Python installation (/root/.pyenv/versions/...)
VENV = Path(sys.prefix)
TEST_LABEL = "hunter-console-test"
BASE_LABEL = "hunter-console-test-base"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
V09_REVISION = "c3e5a7b9d1f4"
HEAD_REVISION = "f786f93501ea"
SESSION = uuid.uuid4().hex[:8]
IMAGE_REPO = f"hctest-api-{SESSION}"


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def host_mounts() -> dict[str, dict[str, str]]:
    """Read-only binds that give a container the host's Python, its libraries and this repo."""
    paths = {Path("/usr"), PREFIX, REPO}
    if not VENV.resolve().is_relative_to(REPO):
        paths.add(VENV.resolve())
    return {str(p): {"bind": str(p), "mode": "ro"} for p in sorted(paths)}


# -- images -------------------------------------------------------------------------------------
ALEMBIC_WRAPPER = '#!/bin/sh\nexec python -m hunter_console.sandbox alembic "$@"\n'


def _rootfs_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type, info.mode = tarfile.DIRTYPE, mode
            tar.addfile(info)

        for d in ("usr", "etc", "root", "proc", "sys", "dev", "var", "run", "opt", "opt/hunter", "opt/hunter/bin",
                  "work"):
            add_dir(d)
        add_dir("tmp", 0o1777)
        add_dir("var/tmp", 0o1777)
        for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
            info = tarfile.TarInfo(link)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
        for name, text, mode in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
                                 ("etc/group", "root:x:0:\n", 0o644),
                                 ("opt/hunter/bin/alembic", ALEMBIC_WRAPPER, 0o755)):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _base_changes() -> list[str]:
    path = f"/opt/hunter/bin:{VENV}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    return [f"ENV PATH={path}", f"ENV PYTHONPATH={REPO}", "ENV PYTHONDONTWRITEBYTECODE=1", "ENV PYTHONUNBUFFERED=1",
            f"WORKDIR {REPO}", f"LABEL {BASE_LABEL}=1"]


def ensure_base_image(api: Any) -> str:
    """`hc-test-base:<hash of what goes in it>`, imported once and kept for the next runs."""
    rootfs = _rootfs_tar()
    digest = hashlib.sha256(rootfs + json.dumps(_base_changes()).encode()).hexdigest()[:12]
    tag = f"hc-test-base:{digest}"
    if not api.images(name=tag):
        api.import_image_from_data(rootfs, repository="hc-test-base", tag=digest, changes=_base_changes())
    return tag


def dockerfile(base: str, version: str, *, healthcheck: bool = False, env: dict[str, str] | None = None,
               extra: str = "") -> str:
    entrypoint = [str(PYTHON), "-m", "hunter_console.sandbox", "serve", "--version", version]
    lines = [f"FROM {base}", f"LABEL {TEST_LABEL}=1 hunter.version={version}",
             f"ENTRYPOINT {json.dumps(entrypoint)}", 'CMD ["--port", "8000"]']
    for key, value in (env or {}).items():
        lines.append(f"ENV {key}={value}")
    if healthcheck:
        probe = ("import os, urllib.request as u; "
                 "u.urlopen('http://127.0.0.1:%s/healthz/ready' % os.environ['HUNTER_PORT'], timeout=2)")
        lines.append(f"HEALTHCHECK --interval=1s --timeout=3s --retries=2 CMD {json.dumps([str(PYTHON), '-c', probe])}")
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


# version -> what that image is (the sandbox decides what a version needs; faults break it)
TEST_IMAGES: dict[str, dict[str, Any]] = {
    "v0.9.0": {},
    "v1.0.0": {},
    "v1.1.0": {"env": {"HUNTER_FAULT_CRASH_ON_START": "1"}},  # crashes on start
    "v1.2.0": {"healthcheck": True, "env": {"HUNTER_FAULT_FAIL_READY": "1"}},  # never healthy
    "v1.3.0": {"healthcheck": True},  # healthy through its Docker health check
    "v1.4.0": {"env": {"HUNTER_FAULT_FAIL_READY": "1"}},  # no health check, never ready
}


def build_image(api: Any, context: Path, tag: str) -> str:
    for chunk in api.build(path=str(context), tag=tag, rm=True, forcerm=True, decode=True):
        if "error" in chunk:
            raise AssertionError(f"building {tag}: {chunk['error']}")
    return api.inspect_image(tag)["Id"]


def remove_test_objects(api: Any) -> None:
    for c in api.containers(all=True, filters={"label": f"{TEST_LABEL}=1"}):
        try:
            api.remove_container(c["Id"], force=True)
        except Exception:  # noqa: BLE001 - already gone
            pass
    for image in api.images(filters={"label": f"{TEST_LABEL}=1"}):
        try:
            api.remove_image(image["Id"], force=True)
        except Exception:  # noqa: BLE001
            pass


def migrate(database_url: str, revision: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUNTER_FAULT_")}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-m", "hunter_console.sandbox", "alembic", "upgrade", revision], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


# -- a compose project, by hand --------------------------------------------------------------------
@dataclass
class Project:
    name: str
    service: str
    port: int
    database_url: str
    container_name: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def live(self) -> httpx.Response:
        return httpx.get(f"{self.base_url}/healthz/live", timeout=3)


def compose_labels(project: str, service: str) -> dict[str, str]:
    return {"com.docker.compose.project": project, "com.docker.compose.service": service,
            "com.docker.compose.container-number": "1", "com.docker.compose.oneoff": "False",
            "com.docker.compose.config-hash": "0" * 64, "com.docker.compose.version": "2.20.2",
            "com.docker.compose.project.working_dir": "/srv/hunter", TEST_LABEL: "1"}


def start_project(api: Any, image: str, database_url: str, *, wait: bool = True) -> Project:
    name = f"hctest{uuid.uuid4().hex[:8]}"
    port = free_port()
    container_name = f"{name}-api-1"
    created = api.create_container(
        image, command=["--port", str(port)], name=container_name, labels=compose_labels(name, "api"),
        environment={"DATABASE_URL": database_url, "HUNTER_PORT": str(port), "LOG_LEVEL": "INFO"},
        host_config=api.create_host_config(network_mode="host", binds=host_mounts(),
                                           restart_policy={"Name": "no"}),
        use_config_proxy=False,
    )
    api.start(created["Id"])
    project = Project(name, "api", port, database_url, container_name)
    if wait:
        wait_ready(api, project)
    return project


def wait_ready(api: Any, project: Project, timeout: float = 30.0, path: str = "/healthz/ready") -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            r = httpx.get(project.base_url + path, timeout=2)
            if r.status_code == 200:
                return
            last = f"{r.status_code} {r.text[:300]}"
        except httpx.HTTPError as e:
            last = str(e)
        time.sleep(0.1)
    logs = api.logs(project.container_name, tail=30).decode(errors="replace")
    raise AssertionError(f"{project.container_name} not ready on {project.port}: {last}\n{logs}")



async def collect(stream) -> tuple[list, Any]:
    """(every event but the last, the last) of an executor stream."""
    events = [event async for event in stream]
    assert events, "the stream yielded nothing"
    return events[:-1], events[-1]
