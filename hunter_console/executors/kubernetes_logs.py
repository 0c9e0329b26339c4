"""`logs` for the KubernetesExecutor: the output of the Deployment's pods (its label selector), each line's
stream the pod's name (as `kubectl logs -l ... --prefix` shows it); with follow, the pods a rollout starts
later are followed too (a watch on the pods), each in a thread of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from hunter_console.events import LogLine
from hunter_console.executors.base import ExecutorError
from hunter_console.executors.kubernetes_api import DONE, KubeApi, describe, label_selector, pump, started


class PodLogs:
    """Mixin for KubernetesExecutor (which provides what is declared here)."""

    namespace: str
    container: str | None

    async def _deployment(self) -> dict: ...  # pragma: no cover - the executor's
    async def _connected(self) -> KubeApi: ...  # pragma: no cover
    async def _call(self, method: str, *args: Any, **kwargs: Any) -> dict: ...  # pragma: no cover

    async def logs(self, *, follow: bool = True) -> AsyncIterator[LogLine]:
        """The output of the Deployment's pods, each line's stream the pod's name; with follow, pods that
        start later are followed too."""
        d = await self._deployment()
        api = await self._connected()
        selector = label_selector(d)
        listed = await self._call("core.list_namespaced_pod", self.namespace, label_selector=selector)
        container = self.container
        pods = [p for p in listed.get("items") or [] if started(p)]
        if not follow:
            for pod in pods:
                try:
                    async with aclosing(api.pod_log(self.namespace, pod["metadata"]["name"], container=container,
                                                    follow=False)) as batches:
                        async for batch in batches:
                            for line in batch:
                                yield line
                except Exception as e:  # noqa: BLE001
                    raise ExecutorError(describe(e)) from None
            return
        queue: asyncio.Queue[Any] = asyncio.Queue()
        followed: set[str] = set()
        tasks: list[asyncio.Task] = []

        def start(pod: dict) -> None:
            name = pod["metadata"]["name"]
            if name in followed or not started(pod):
                return
            followed.add(name)
            tasks.append(asyncio.create_task(pump(name, api.pod_log(self.namespace, name, container=container), queue)))

        for pod in pods:
            start(pod)
        watcher = api.watch(api.core.list_namespaced_pod, self.namespace, label_selector=selector,
                            resource_version=(listed.get("metadata") or {}).get("resourceVersion"))
        tasks.append(asyncio.create_task(pump("pods", watcher, queue)))
        try:
            while True:
                tag, item = await queue.get()
                if item is DONE:
                    continue
                if isinstance(item, BaseException):
                    if tag == "pods":
                        raise ExecutorError(describe(item))
                    yield LogLine(f"(logs of {tag} ended: {describe(item)})", "stderr")
                    continue
                if tag == "pods":
                    kind, pod = item
                    if kind in ("ADDED", "MODIFIED"):
                        start(pod)
                    continue
                for line in item:
                    yield line
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
