"""The connection to a Kubernetes API server for the KubernetesExecutor: configuration (kubeconfig and
context, in-cluster, or a ready `kubernetes.client.Configuration`), blocking calls that return the
objects as the server sent them (dicts, camelCase), watches and log follows run in a thread and
handed to the event loop, and every failure said in one line.

`import kubernetes` is slow (pydantic models for the whole API); it happens in `KubeApi.connect`, on
first use, in a worker thread.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import aclosing
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from hunter_console.events import LogLine
from hunter_console.executors.base import ExecutorError
from hunter_console.executors.docker_stream import stream_from_thread
from hunter_console.redact import redact, redact_lines, register_secret

DONE = object()  # the end of a pumped stream
REQUEST_TIMEOUT = (10.0, 60.0)  # connect, read (seconds) for calls that are not streams


class KubeApi:
    def __init__(self, configuration: Any = None, *, kubeconfig: str | None = None, context: str | None = None,
                 in_cluster: bool = False, watch_chunk_s: float = 60.0) -> None:
        """`configuration`: a kubernetes.client.Configuration, or a callable making one; else from
        `kubeconfig` (default $KUBECONFIG or ~/.kube/config) and `context`, or the in-cluster
        service account when `in_cluster`."""
        self._configuration = configuration
        self.kubeconfig = kubeconfig
        self.context = context
        self.in_cluster = in_cluster
        self.watch_chunk_s = watch_chunk_s
        self.host = "the configured API server"
        self.client: Any = None
        self.apps: Any = None
        self.core: Any = None
        self.batch: Any = None

    # -- connection ---------------------------------------------------------------------------------
    def connect(self) -> "KubeApi":
        """Build the client (blocking: call in a thread). Raises ExecutorError."""
        if self.client is not None:
            return self
        from kubernetes import client, config

        configuration = self._configuration() if callable(self._configuration) else self._configuration
        if configuration is None:
            configuration = client.Configuration()
            try:
                if self.in_cluster:
                    config.load_incluster_config(client_configuration=configuration)
                else:
                    config.load_kube_config(config_file=self.kubeconfig, context=self.context,
                                            client_configuration=configuration, persist_config=False)
            except Exception as e:  # noqa: BLE001 - ConfigException, a missing file, bad YAML
                where = "the in-cluster service account" if self.in_cluster else \
                    f"kubeconfig {self.kubeconfig or '(default)'}" + (f" context {self.context}" if self.context else "")
                raise ExecutorError(redact(f"cannot load {where}: {one_line(e)}")) from None
        for value in (configuration.api_key or {}).values():
            register_secret(value.removeprefix("Bearer ").strip() if isinstance(value, str) else None)
        self.host = configuration.host
        api_client = client.ApiClient(configuration)
        self.apps, self.core, self.batch = client.AppsV1Api(api_client), client.CoreV1Api(api_client), \
            client.BatchV1Api(api_client)
        self.client = api_client
        return self

    def close(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            try:
                client.close()
            except Exception:  # noqa: BLE001 - closing a pool
                pass

    # -- calls --------------------------------------------------------------------------------------
    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)` (an API method); the response body as a dict (blocking)."""
        response = fn(*args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT, **kwargs)
        try:
            data = response.data
        finally:
            response.release_conn()
        return json.loads(data) if data else {}

    def describe(self, e: BaseException) -> str:
        """One line for an exception from the client (or the network under it)."""
        if isinstance(e, ExecutorError):
            return str(e)
        status = getattr(e, "status", None)
        if isinstance(status, int) and status > 0:
            message = status_message(getattr(e, "body", None)) or str(getattr(e, "reason", "") or "")
            if status == 401:
                return "the Kubernetes API refused our credentials (401)"
            if status == 403:
                return redact(f"forbidden (403): {message}")
            if status == 404:
                return redact(f"not found (404): {message}")
            return redact(f"the Kubernetes API answered {status}: {message}")
        reason = network_reason(e)
        if reason is not None:
            return f"cannot reach the Kubernetes API at {self.host}: {reason}"
        return redact(f"Kubernetes client: {one_line(e)}")

    # -- streams ------------------------------------------------------------------------------------
    async def watch(self, fn: Callable[..., Any], *args: Any, resource_version: str | None,
                    timeout_s: float | None = None, **kwargs: Any) -> AsyncIterator[tuple[str, dict]]:
        """(type, object) for each change after `resource_version`, re-watching when the server ends a
        watch, until `timeout_s` (None: until the caller stops). A 410 Gone re-lists (as ADDED)."""
        responses: list[Any] = []

        def produce(emit: Callable[[Any], None], stop: Any) -> None:
            from kubernetes.watch.watch import iter_resp_lines

            rv = resource_version
            deadline = None if timeout_s is None else time.monotonic() + timeout_s
            while not stop.is_set():
                chunk = self.watch_chunk_s if deadline is None else min(self.watch_chunk_s, deadline - time.monotonic())
                if chunk <= 0:
                    return
                if rv is None:
                    listed = self.call(fn, *args, **kwargs)
                    for obj in listed.get("items") or []:
                        emit(("ADDED", obj))
                    rv = (listed.get("metadata") or {}).get("resourceVersion")
                response = fn(*args, watch=True, resource_version=rv, timeout_seconds=max(1, int(chunk)),
                              allow_watch_bookmarks=True, _preload_content=False,
                              _request_timeout=(REQUEST_TIMEOUT[0], chunk + 15), **kwargs)
                responses.append(response)
                try:
                    for line in iter_resp_lines(response):
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        kind, obj = event.get("type"), event.get("object") or {}
                        if kind == "ERROR":
                            if obj.get("code") == 410:
                                rv = None  # too old: list again
                                break
                            raise ExecutorError(redact(f"watch failed: {obj.get('message') or obj}"))
                        rv = (obj.get("metadata") or {}).get("resourceVersion") or rv
                        if kind != "BOOKMARK":
                            emit((kind, obj))
                finally:
                    responses.remove(response)
                    response.release_conn()

        async for item in stream_from_thread(produce, name="kubernetes-watch",
                                             on_close=lambda: [shutdown(r) for r in list(responses)]):
            yield item

    async def pod_log(self, namespace: str, pod: str, *, container: str | None = None, follow: bool = True,
                      since_seconds: int | None = None) -> AsyncIterator[list[LogLine]]:
        """Batches of the pod's log lines (stream = the pod's name), redacted; with follow, until the
        container ends or the caller stops."""
        responses: list[Any] = []

        def produce(emit: Callable[[Any], None], stop: Any) -> None:
            kwargs: dict[str, Any] = {"follow": follow}
            if container:
                kwargs["container"] = container
            if since_seconds is not None:
                kwargs["since_seconds"] = since_seconds
            response = self.core.read_namespaced_pod_log(pod, namespace, _preload_content=False,
                                                         _request_timeout=(REQUEST_TIMEOUT[0], 86400.0), **kwargs)
            responses.append(response)
            rest = b""
            try:
                for chunk in response.stream(amt=None, decode_content=False):
                    data = rest + chunk
                    complete, _, rest = data.rpartition(b"\n")
                    if complete:
                        text = complete.decode("utf-8", errors="replace")
                        emit([LogLine(line, pod) for line in redact_lines(text)])
                    if stop.is_set():
                        return
                if rest:
                    emit([LogLine(line, pod) for line in redact_lines(rest.decode("utf-8", errors="replace"))])
            finally:
                response.release_conn()

        async for batch in stream_from_thread(produce, name="kubernetes-logs",
                                              on_close=lambda: [shutdown(r) for r in responses]):
            yield batch


def shutdown(response: Any) -> None:
    """Unblock a thread reading `response` (a urllib3 response)."""
    try:
        stop = getattr(response, "shutdown", None)
        if stop is not None:
            stop()
        response.close()
    except Exception:  # noqa: BLE001 - best effort
        pass


def status_message(body: Any) -> str:
    """The `message` of a Status body (the API server's explanation), else the body itself, short."""
    if not body:
        return ""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(body)
    except (TypeError, ValueError):
        return one_line(body)
    if isinstance(parsed, dict) and parsed.get("message"):
        return one_line(parsed["message"])
    return one_line(body)


def network_reason(e: BaseException, depth: int = 0) -> str | None:
    """'connection refused', 'timed out', ... when `e` is (or wraps) a network failure, else None."""
    if depth > 8 or e is None:
        return None
    if isinstance(e, OSError) and e.strerror:
        return e.strerror[0].lower() + e.strerror[1:]
    name = type(e).__name__
    inner: list[Any] = [getattr(e, "reason", None), e.__cause__, e.__context__, *getattr(e, "args", ())]
    for item in inner:
        if isinstance(item, BaseException):
            found = network_reason(item, depth + 1)
            if found is not None:
                return found
    text = str(e)
    for marker, said in (("Connection refused", "connection refused"), ("timed out", "timed out"),
                         ("Name or service not known", "name or service not known"),
                         ("No route to host", "no route to host")):
        if marker in text:
            return said
    if name in ("MaxRetryError", "NewConnectionError", "ConnectTimeoutError", "ProtocolError", "ReadTimeoutError",
                "TimeoutError", "ConnectionError"):
        return one_line(e)
    return None


def one_line(value: Any) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= 300 else text[:297] + "..."


async def in_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


class NotFound(ExecutorError):
    """A 404 from the API server."""


def describe(e: BaseException) -> str:
    return str(e) if isinstance(e, ExecutorError) else one_line(f"{type(e).__name__}: {e}")


def label_selector(d: dict) -> str:
    labels = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def started(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Running", "Succeeded", "Failed") and \
        not pod["metadata"].get("deletionTimestamp")


async def pump(tag: str, source: AsyncIterator[Any], queue: asyncio.Queue) -> None:
    """Move what `source` yields into `queue` as (tag, item); an error as (tag, exception), the end as
    (tag, DONE)."""
    try:
        async with aclosing(source):
            async for item in source:
                queue.put_nowait((tag, item))
    except asyncio.CancelledError:
        raise
    except Exception as e:  # noqa: BLE001 - handed to the consumer
        queue.put_nowait((tag, e))
        return
    queue.put_nowait((tag, DONE))
