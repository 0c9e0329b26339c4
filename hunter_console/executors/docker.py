"""DockerExecutor: the Hunter API as a Docker Compose service, driven through the Docker SDK.

    ex = DockerExecutor("hunter", "api", base_url="http://127.0.0.1:8000", image_repo="hunter-api")
    async for event in ex.deploy("v1.0.0"): ...

The service's containers are found by their Compose labels. `deploy` re-creates the service on the
new image the way Compose does (create the replacement, stop and remove the old, rename, start),
waits for the Docker health check or `GET /healthz/ready`, and on failure brings the old container
back. The image that served before is kept (tag `<image_repo>:rollback` and a label on the new
container) so `rollback` can re-create on it.

`import docker` is slow; it happens on first use, never when this module is imported. Every SDK
call runs in a thread; streams (build output, exec output, logs) come through a thread feeding the
event loop. Failures are one line (an Outcome, or ExecutorError), never a traceback.
"""

from __future__ import annotations

import asyncio
import os
from contextlib import aclosing
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors import docker_compose as compose
from hunter_console.executors.base import ExecutorError
from hunter_console.executors.docker_rollout import ComposeRollout, one_line
from hunter_console.executors.docker_stream import (
    LineSplitter, read_container_output, shutdown_response, stream_from_thread,
)
from hunter_console.redact import redact

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
Event = LogLine | Progress | Outcome


class DockerExecutor(ComposeRollout):
    def __init__(self, project: str, service: str = "api", *, base_url: str,
                 client_factory: Callable[[], Any] | None = None, build_context: Path | str | None = None,
                 image_repo: str = "hunter-api", health_timeout_s: float = 60.0, env: Mapping[str, str] | None = None,
                 docker_host: str | None = None, stop_timeout_s: int = 10, poll_interval_s: float = 0.25) -> None:
        """`base_url`: where the service answers (for /healthz/ready). `client_factory`: makes a
        docker.DockerClient or APIClient (default: docker.from_env(), or `docker_host` when given).
        `build_context`: a directory with a Dockerfile; when set, `deploy(v)` builds `image_repo:v`
        from it (no cache), else `image_repo:v` must be on the engine. `env`: extra environment for
        commands `run` in the service."""
        self.project = project
        self.service = service
        self.base_url = base_url.rstrip("/")
        self.build_context = Path(build_context) if build_context is not None else None
        self.image_repo = image_repo
        self.health_timeout_s = health_timeout_s
        self.env = dict(env or {})
        self.docker_host = docker_host or os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST
        self.stop_timeout_s = stop_timeout_s
        self.poll_interval_s = poll_interval_s
        self._client_factory = client_factory
        self._explicit_host = docker_host
        self._api: Any = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"DockerExecutor(project={self.project!r}, service={self.service!r}, engine={self.docker_host!r})"

    # -- the engine ---------------------------------------------------------------------------
    def _connect(self) -> Any:
        """The SDK's low-level APIClient (blocking: call in a thread). Raises ExecutorError."""
        if self._api is not None:
            return self._api
        try:
            import docker

            if self._client_factory is not None:
                client = self._client_factory()
            elif self._explicit_host:
                client = docker.DockerClient(base_url=self._explicit_host)
            else:
                client = docker.from_env()
            api = getattr(client, "api", client)
            api.ping()
        except Exception as e:  # noqa: BLE001 - any failure to connect is said in one line
            raise ExecutorError(self._describe(e)) from None
        self._api = api
        return api

    async def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """A blocking SDK call in a thread; engine failures become ExecutorError (one line)."""
        try:
            return await asyncio.to_thread(fn, *args, **kwargs)
        except ExecutorError:
            raise
        except Exception as e:  # noqa: BLE001
            if _is_not_found(e):
                raise
            raise ExecutorError(self._describe(e)) from None

    async def _engine(self) -> Any:
        return self._api if self._api is not None else await asyncio.to_thread(self._connect)

    def _describe(self, e: BaseException) -> str:
        if isinstance(e, ExecutorError):
            return str(e)
        cause = _os_error(e)
        if cause is not None or _is_connection_error(e):
            reason = (cause.strerror or type(cause).__name__) if cause is not None else one_line(e)
            return f"cannot reach the Docker engine at {self.docker_host}: {reason}"
        explanation = getattr(e, "explanation", None)
        if explanation:
            return redact(f"Docker engine: {one_line(explanation)}")
        return redact(f"Docker: {one_line(e)}")

    async def _containers(self) -> list[dict[str, Any]]:
        api = await self._engine()
        return await self._call(compose.find_service_containers, api, self.project, self.service)

    async def _running(self) -> dict[str, Any]:
        for container in await self._containers():
            if container["State"].get("Running"):
                return container
        raise ExecutorError(f"service {self.service} of project {self.project} has no running container")

    # -- run ------------------------------------------------------------------------------------
    async def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> AsyncIterator[LogLine | Outcome]:
        """`argv` executed in the service's running container (docker exec), output streamed."""
        command = " ".join(argv)
        try:
            api = await self._engine()
            container = await self._running()
            environment = [f"{k}={v}" for k, v in {**self.env, **(env or {})}.items()] or None
            created = await self._call(api.exec_create, container["Id"], list(argv), environment=environment,
                                       stdout=True, stderr=True)
            exec_id = created["Id"]

            def produce(emit, stop) -> None:
                out, err = LineSplitter("stdout"), LineSplitter("stderr")
                for stdout, stderr in api.exec_start(exec_id, stream=True, demux=True):
                    batch = (out.feed(stdout) if stdout else []) + (err.feed(stderr) if stderr else [])
                    if batch:
                        emit(batch)
                    if stop.is_set():
                        return
                tail = out.flush() + err.flush()
                if tail:
                    emit(tail)

            async with aclosing(stream_from_thread(produce, name="docker-exec")) as batches:
                async for batch in batches:
                    for line in batch:
                        yield line
            code = (await self._call(api.exec_inspect, exec_id)).get("ExitCode")
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, self._describe(e))
            return
        where = container["Name"].lstrip("/")
        yield Outcome(code == 0, redact(f"{command} exited with {code} in {where}"), exit_code=code)

    # -- build ----------------------------------------------------------------------------------
    async def build(self, context: Path | str, tag: str, *, labels: Mapping[str, str] | None = None
                    ) -> AsyncIterator[LogLine | Outcome]:
        """Build `context` (a directory with a Dockerfile) as `tag`, no cache; output streamed.
        The Outcome's detail has the image id and tag."""
        context = Path(context)
        if not (context / "Dockerfile").is_file():
            yield Outcome(False, f"build of {tag}: no Dockerfile in {context}")
            return
        found: dict[str, Any] = {}

        def produce(emit, stop) -> None:
            lines = LineSplitter("build")
            stream = api.build(path=str(context), tag=tag, nocache=True, rm=True, forcerm=True, decode=True,
                               labels=dict(labels or {}) or None)
            for chunk in stream:
                batch: list[LogLine] = []
                if "stream" in chunk:
                    batch = lines.feed(chunk["stream"].encode())
                elif "error" in chunk:
                    found["error"] = chunk["error"].strip()
                    batch = lines.flush() + LineSplitter("build").feed((chunk["error"].rstrip("\n") + "\n").encode())
                elif "status" in chunk:
                    batch = LineSplitter("build").feed(f"{chunk['status']} {chunk.get('progress', '')}".strip().encode() + b"\n")
                elif "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
                    found["image_id"] = chunk["aux"]["ID"]
                if batch:
                    emit(batch)
                if stop.is_set():
                    return
            tail = lines.flush()
            if tail:
                emit(tail)

        try:
            api = await self._engine()
            async with aclosing(stream_from_thread(produce, name="docker-build")) as batches:
                async for batch in batches:
                    for line in batch:
                        yield line
            if "error" in found:
                yield Outcome(False, redact(f"build of {tag} failed: {one_line(found['error'])}"), detail={"tag": tag})
                return
            image = await self._call(api.inspect_image, tag)
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, f"build of {tag} failed: {self._describe(e)}", detail={"tag": tag})
            return
        yield Outcome(True, f"built {tag} ({image['Id'][7:19]})", detail={"tag": tag, "image_id": image["Id"]})

    # -- deploy and rollback ----------------------------------------------------------------------
    async def deploy(self, version: str) -> AsyncIterator[Event]:
        """Re-create the service on `image_repo:version` (built first when a build context is set)."""
        async with self._lock:
            ref = f"{self.image_repo}:{version}"
            total = 7
            try:
                if self.build_context is not None:
                    yield Progress(0, total, "steps", f"building {ref} from {self.build_context}")
                    outcome = None
                    async for event in self.build(self.build_context, ref, labels={compose.VERSION: version}):
                        if isinstance(event, Outcome):
                            outcome = event
                        else:
                            yield event
                    if outcome is None or not outcome.ok:
                        message = outcome.message if outcome else "build ended without an outcome"
                        yield Outcome(False, f"deploy of {version} stopped before any change: {message}")
                        return
                api = await self._engine()
                try:
                    image = await self._call(api.inspect_image, ref)
                except Exception as e:  # noqa: BLE001
                    if not _is_not_found(e):
                        raise
                    yield Outcome(False, f"image {ref} is not on this Docker engine: build or load it first")
                    return
                yield Progress(1, total, "steps", f"image {ref} is {image['Id'][7:19]}")
                containers = await self._containers()
                if not containers:
                    yield Outcome(False, f"service {self.service} of project {self.project} has no container to "
                                         "replace: start it with docker compose first")
                    return
                async for event in self._recreate(containers[0], image, version, action="deploy", step=1, total=total):
                    yield event
            except Exception as e:  # noqa: BLE001
                yield Outcome(False, f"deploy of {version} failed: {self._describe(e)}")

    async def rollback(self) -> AsyncIterator[Event]:
        """Re-create the service on the image that served before the last deploy."""
        async with self._lock:
            total = 6
            try:
                api = await self._engine()
                current = await self._running()
                labels = current["Config"].get("Labels") or {}
                image = None
                for ref in (labels.get(compose.PREVIOUS_IMAGE), f"{self.image_repo}:rollback"):
                    if not ref:
                        continue
                    try:
                        image = await self._call(api.inspect_image, ref)
                        break
                    except Exception as e:  # noqa: BLE001
                        if not _is_not_found(e):
                            raise
                if image is None:
                    yield Outcome(False, f"nothing to roll back to: no previous image recorded for {self.service} "
                                         f"and no {self.image_repo}:rollback")
                    return
                version = labels.get(compose.PREVIOUS_VERSION) or compose.version_of(
                    {"Config": {"Labels": {}}}, image, self.image_repo) or image["Id"][7:19]
                yield Progress(0, total, "steps", f"rolling back to {version} ({image['Id'][7:19]})")
                async for event in self._recreate(current, image, version, action="rollback", step=0, total=total):
                    yield event
            except Exception as e:  # noqa: BLE001
                yield Outcome(False, f"rollback failed: {self._describe(e)}")

    async def rollback_target(self) -> str | None:
        """What rollback() would do, from the running container's labels (None: nothing to go back to)."""
        try:
            labels = (await self._running())["Config"].get("Labels") or {}
        except ExecutorError:
            return None
        image = labels.get(compose.PREVIOUS_IMAGE)
        if not image:
            return None
        version = labels.get(compose.PREVIOUS_VERSION) or "the previous version"
        return f"re-create {self.service} on {version} (image {image.removeprefix('sha256:')[:12]})"

    # -- state, logs, stop ------------------------------------------------------------------------
    async def current_version(self) -> str | None:
        try:
            container = await self._running()
        except ExecutorError:
            if not self._api:
                raise
            return None
        api = await self._engine()
        image = await self._call(api.inspect_image, container["Image"])
        return compose.version_of(container, image, self.image_repo)

    async def logs(self, *, follow: bool = True) -> AsyncIterator[LogLine]:
        """The service's output (stdout and stderr as they were written), from the logs endpoint,
        read in large chunks (not the SDK's per-frame parsing). Not attach: attaching with history to
        a container that is already running can drop the lines written between the history and the
        live stream (measured: 2 of 100k). The containers deploy starts are attached before their
        start instead, which is gap-free and ends as soon as they exit."""
        containers = await self._containers()
        if not containers:
            raise ExecutorError(f"service {self.service} of project {self.project} has no container")
        container = containers[0]
        api = await self._engine()
        responses: list[Any] = []
        produce = partial(read_container_output, api, container["Id"], follow=follow,
                          tty=bool(container["Config"].get("Tty")), opened=responses.append, attach=False)
        try:
            batches = stream_from_thread(lambda emit, stop: produce(emit=emit, stop=stop), name="docker-logs",
                                         on_close=lambda: [shutdown_response(r) for r in responses])
            async with aclosing(batches):
                async for batch in batches:
                    for line in batch:
                        yield line
        except ExecutorError:
            raise
        except Exception as e:  # noqa: BLE001
            raise ExecutorError(self._describe(e)) from None

    async def stop(self) -> None:
        """Stop the service's containers (not removed) and wait until they have exited."""
        api = await self._engine()
        for container in await self._containers():
            if container["State"].get("Running"):
                await self._call(api.stop, container["Id"], timeout=self.stop_timeout_s)
                await self._call(api.wait, container["Id"], timeout=self.stop_timeout_s + 30)

    async def aclose(self) -> None:
        """Close the connection to the engine."""
        if self._api is not None:
            api, self._api = self._api, None
            await asyncio.to_thread(api.close)


def _os_error(e: BaseException, depth: int = 0) -> OSError | None:
    """The OSError (no such socket, connection refused, permission denied) under a wrapped error."""
    if depth > 8:
        return None
    if isinstance(e, OSError) and e.strerror:
        return e
    for inner in (*getattr(e, "args", ()), e.__cause__, e.__context__):
        if isinstance(inner, BaseException):
            found = _os_error(inner, depth + 1)
            if found is not None:
                return found
    return None


def _is_connection_error(e: BaseException) -> bool:
    try:
        import requests

        if isinstance(e, requests.exceptions.ConnectionError):
            return True
    except ImportError:  # pragma: no cover
        pass
    return "Error while fetching server API version" in str(e)


def _is_not_found(e: BaseException) -> bool:
    try:
        import docker.errors
    except ImportError:  # pragma: no cover
        return False
    return isinstance(e, docker.errors.NotFound)
