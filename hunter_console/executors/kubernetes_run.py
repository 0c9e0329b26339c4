"""`run` for the KubernetesExecutor: a command for the service (e.g. `alembic upgrade head`) as a Job.

The Job gets the Deployment's image and the API container's environment (env, envFrom, volume
mounts: secrets stay references, never values), `restartPolicy: Never`, `backoffLimit: 0`, an
`activeDeadlineSeconds` and a TTL; no pod labels of the Deployment (a Service must not send traffic
to it). It belongs to the cluster, not to the console: if the SSH session drops, it runs to its end,
and `follow_job(name)` picks it up again. Its pod's output is streamed (stream = the pod's name) and
the exit code comes from the pod's container status.

run_mode="exec" runs it in a running pod instead (`kubectl exec`, over a websocket).
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import aclosing
from typing import Any

from hunter_console.events import LogLine, Outcome
from hunter_console.executors.kubernetes_api import DONE, KubeApi, describe, in_thread, label_selector, pump, started
from hunter_console.redact import redact

MANAGED_BY = {"app.kubernetes.io/managed-by": "hunter-console"}
COPIED_POD_FIELDS = ("serviceAccountName", "imagePullSecrets", "volumes", "securityContext", "nodeSelector",
                     "tolerations", "affinity")
COPIED_CONTAINER_FIELDS = ("env", "envFrom", "volumeMounts", "workingDir", "resources", "securityContext")


class JobRunner:
    """Mixin for KubernetesExecutor (which provides what is declared here)."""

    api: KubeApi
    deployment: str
    namespace: str
    run_mode: str
    run_timeout_s: float
    job_ttl_s: int

    async def _deployment(self) -> dict: ...  # pragma: no cover - the executor's
    async def _connected(self) -> KubeApi: ...  # pragma: no cover
    async def _call(self, method: str, *args: Any, **kwargs: Any) -> dict: ...  # pragma: no cover
    def _container(self, template: dict) -> dict: ...  # pragma: no cover

    async def run(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None) -> AsyncIterator[LogLine | Outcome]:
        """`argv` as a Job from the Deployment's image (or exec'd in a running pod when run_mode="exec");
        output streamed, Outcome(exit_code=...) at the end."""
        source = self._exec(argv, env) if self.run_mode == "exec" else self._job(argv, env)
        async with aclosing(source) as events:
            async for event in events:
                yield event

    def job_spec(self, d: dict, argv: Sequence[str], env: Mapping[str, str] | None) -> dict:
        template = d["spec"]["template"]
        container = self._container(template)
        job_container: dict[str, Any] = {"name": container["name"], "image": container["image"], "command": list(argv)}
        for key in COPIED_CONTAINER_FIELDS:
            if container.get(key):
                job_container[key] = container[key]
        if env:
            kept = [e for e in job_container.get("env", []) if e.get("name") not in env]
            job_container["env"] = kept + [{"name": k, "value": v} for k, v in env.items()]
        pod_spec = {"restartPolicy": "Never", "containers": [job_container]}
        for key in COPIED_POD_FIELDS:
            if template["spec"].get(key):
                pod_spec[key] = template["spec"][key]
        word = re.sub(r"[^a-z0-9]+", "-", "-".join(argv[:2]).lower()).strip("-")[:20] or "run"
        name = f"{self.deployment[:30]}-{word}-{secrets.token_hex(3)}".replace("--", "-")
        command = " ".join(argv)
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "namespace": self.namespace,
                             "labels": {**MANAGED_BY, "hunter-console/deployment": self.deployment},
                             "annotations": {"hunter-console/command": command[:1000]}},
                "spec": {"backoffLimit": 0, "ttlSecondsAfterFinished": int(self.job_ttl_s),
                         "activeDeadlineSeconds": max(1, int(self.run_timeout_s)),
                         "template": {"metadata": {"labels": dict(MANAGED_BY)}, "spec": pod_spec}}}

    async def _job(self, argv: Sequence[str], env: Mapping[str, str] | None) -> AsyncIterator[LogLine | Outcome]:
        command = redact(" ".join(argv))
        try:
            d = await self._deployment()
            spec = self.job_spec(d, argv, env)
            job = await self._call("batch.create_namespaced_job", self.namespace, spec)
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, redact(f"{command}: the Job was not created: {describe(e)}"))
            return
        name = job["metadata"]["name"]
        image = spec["spec"]["template"]["spec"]["containers"][0]["image"]
        yield LogLine(redact(f"job.batch/{name} created: {command} on image {image}"), "job")
        async for event in self.follow_job(name, command=command):
            yield event

    async def follow_job(self, name: str, *, command: str | None = None) -> AsyncIterator[LogLine | Outcome]:
        """Stream the output of Job `name`'s pod and end with its outcome (also for a Job started by an
        earlier console)."""
        deadline = time.monotonic() + self.run_timeout_s + 30
        selector = f"job-name={name}"
        what = f"job.batch/{name}"
        try:
            job = await self._call("batch.read_namespaced_job", name, self.namespace)
            command = command or (job["metadata"].get("annotations") or {}).get("hunter-console/command") or name
            pod = await self._wait_pod(selector, started, deadline)
            if pod is None:
                yield Outcome(False, redact(f"{command}: {what} has no pod that started within "
                                            f"{self.run_timeout_s:g}s"), detail={"job": name})
                return
            pod_name = pod["metadata"]["name"]
            api = await self._connected()
            async with aclosing(api.pod_log(self.namespace, pod_name, container=None, follow=True)) as batches:
                async for batch in batches:
                    for line in batch:
                        yield line
            pod = await self._wait_pod(f"{selector}", lambda p: p["metadata"]["name"] == pod_name and _finished(p),
                                       deadline)
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, redact(f"{command}: following {what} failed: {describe(e)} "
                                        f"(the Job keeps running in the cluster)"), detail={"job": name})
            return
        if pod is None:
            yield Outcome(False, redact(f"{command}: {what} did not finish within {self.run_timeout_s:g}s"),
                          detail={"job": name, "pod": pod_name})
            return
        code = _exit_code(pod)
        reason = _terminated(pod).get("reason", "")
        try:
            job_condition = await self._job_condition(name, min(deadline, time.monotonic() + 10))
        except Exception as e:  # noqa: BLE001 - the exit code decides; the Job's condition is a detail
            job_condition = {"type": "Unknown", "message": describe(e)}
        state = job_condition.get("type", "Unknown")
        yield Outcome(code == 0, redact(f"{command} exited with {code} in {what} (pod {pod_name}"
                                        f"{', ' + reason if reason and code else ''}; job {state})"),
                      exit_code=code, detail={"job": name, "pod": pod_name, "namespace": self.namespace,
                                              "job_condition": state, "job_reason": job_condition.get("reason", "")})

    async def _job_condition(self, name: str, deadline: float) -> dict:
        """The Job's Complete or Failed condition once the job controller has set it (watched), else
        {"type": "Unknown"} at the deadline."""
        def finished(job: dict) -> dict | None:
            for c in (job.get("status") or {}).get("conditions") or []:
                if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
                    return c
            return None

        job = await self._call("batch.read_namespaced_job", name, self.namespace)
        if (found := finished(job)) is not None:
            return found
        api = await self._connected()
        left = deadline - time.monotonic()
        if left <= 0:
            return {"type": "Unknown"}
        async with aclosing(api.watch(api.batch.list_namespaced_job, self.namespace, field_selector=f"metadata.name={name}",
                                      resource_version=job["metadata"].get("resourceVersion"), timeout_s=left)) as changes:
            async for _, obj in changes:
                if (found := finished(obj)) is not None:
                    return found
        return {"type": "Unknown"}

    async def _wait_pod(self, selector: str, predicate: Any, deadline: float) -> dict | None:
        """The first pod matching `selector` for which `predicate` holds (list, then watch), or None by the
        deadline (or when the Job failed without such a pod)."""
        api = await self._connected()
        listed = await self._call("core.list_namespaced_pod", self.namespace, label_selector=selector)
        for pod in listed.get("items") or []:
            if predicate(pod):
                return pod
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        queue: asyncio.Queue[Any] = asyncio.Queue()
        watcher = api.watch(api.core.list_namespaced_pod, self.namespace, label_selector=selector,
                            resource_version=(listed.get("metadata") or {}).get("resourceVersion"), timeout_s=left)
        task = asyncio.create_task(pump("pods", watcher, queue))
        try:
            while True:
                _, item = await queue.get()
                if item is DONE:
                    return None
                if isinstance(item, BaseException):
                    raise item
                kind, pod = item
                if kind != "DELETED" and predicate(pod):
                    return pod
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _exec(self, argv: Sequence[str], env: Mapping[str, str] | None) -> AsyncIterator[LogLine | Outcome]:
        """`kubectl exec` into a running pod of the Deployment (websocket channel protocol)."""
        command = redact(" ".join(argv))
        try:
            d = await self._deployment()
            container = self._container(d["spec"]["template"])["name"]
            pods = await self._call("core.list_namespaced_pod", self.namespace, label_selector=label_selector(d))
            running = [p for p in pods.get("items") or [] if (p.get("status") or {}).get("phase") == "Running"
                       and not p["metadata"].get("deletionTimestamp")]
            if not running:
                yield Outcome(False, f"{command}: deployment/{self.deployment} has no running pod to exec into")
                return
            pod = running[0]["metadata"]["name"]
            full = (["env", *[f"{k}={v}" for k, v in env.items()]] if env else []) + list(argv)
            queue: asyncio.Queue[Any] = asyncio.Queue()
            loop = asyncio.get_running_loop()

            def execute() -> int | None:
                from kubernetes.stream import stream

                api = self.api
                ws = stream(api.core.connect_get_namespaced_pod_exec, pod, self.namespace, command=full,
                            container=container, stderr=True, stdin=False, stdout=True, tty=False,
                            _preload_content=False)
                try:
                    deadline = time.monotonic() + self.run_timeout_s
                    while ws.is_open() and time.monotonic() < deadline:
                        ws.update(timeout=1)
                        for text, stream_name in ((ws.read_stdout(), "stdout"), (ws.read_stderr(), "stderr")):
                            if text:
                                for line in text.splitlines():
                                    loop.call_soon_threadsafe(queue.put_nowait, LogLine(redact(line), stream_name))
                    return ws.returncode
                finally:
                    ws.close()

            task = asyncio.ensure_future(in_thread(execute))
            task.add_done_callback(lambda _: queue.put_nowait(None))
            while (line := await queue.get()) is not None:
                yield line
            code = task.result()
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, redact(f"{command}: exec failed: {describe(e)}"))
            return
        yield Outcome(code == 0, f"{command} exited with {code} in pod {pod}", exit_code=code,
                      detail={"pod": pod, "namespace": self.namespace})


def _terminated(pod: dict) -> dict:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (status.get("state") or {}).get("terminated")
        if terminated:
            return terminated
    return {}


def _finished(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed") or bool(_terminated(pod))


def _exit_code(pod: dict) -> int | None:
    code = _terminated(pod).get("exitCode")
    if code is None:
        return None if (pod.get("status") or {}).get("phase") != "Succeeded" else 0
    return int(code)


