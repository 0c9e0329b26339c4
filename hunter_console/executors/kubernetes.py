"""KubernetesExecutor: the Hunter API as a Kubernetes Deployment, driven through the kubernetes client.

    ex = KubernetesExecutor("dyn365hunter-api", namespace="hunter", container="api", image_repo="registry/hunter-api")
    async for event in ex.deploy("v1.0.0"): ...

deploy        `kubectl apply -f <manifest>` (server-side apply, the Deployment's image set to
              `<image_repo>:<version>`) or `kubectl set image`, then `kubectl rollout status`
              (kubectl's rules, from a watch on the Deployment), its events streamed as LogLines
rollback      `kubectl rollout undo [--to-revision=N]` (see kubernetes_rollout.plan_undo), then rollout
              status; `rollback_preview` is its dry run, `revision_history` is `rollout history`
run           the command as a Job from the Deployment's image and environment (it survives the
              console going away), its pod's output streamed, its exit code reported; or `kubectl
              exec` into a running pod when run_mode="exec"
logs          the Deployment's pods (label selector), followed; LogLine.stream = the pod's name

Blocking client calls run in threads (kubernetes_api); failures are one line (Outcome or ExecutorError).
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors.base import ExecutorError
from hunter_console.executors import kubernetes_rollout as rollout
from hunter_console.executors.kubernetes_api import (
    DONE, KubeApi, NotFound, describe, in_thread, label_selector, one_line, pump,
)
from hunter_console.executors.kubernetes_logs import PodLogs
from hunter_console.executors.kubernetes_run import JobRunner
from hunter_console.redact import redact

Event = LogLine | Progress | Outcome
FIELD_MANAGER = "hunter-console"


class KubernetesExecutor(JobRunner, PodLogs):
    def __init__(self, deployment: str, *, namespace: str = "default", container: str | None = None,
                 image_repo: str | None = None, manifest: Path | str | None = None, kubeconfig: str | None = None,
                 context: str | None = None, in_cluster: bool = False, configuration: Any = None,
                 rollout_timeout_s: float = 600.0, run_timeout_s: float = 1800.0, run_mode: str = "job",
                 job_ttl_s: int = 7 * 86400, watch_chunk_s: float = 60.0) -> None:
        """`deployment` in `namespace`; `container`: the API's container in its pod template (default:
        the first); `image_repo`: deploy(v) runs `<image_repo>:<v>` (default: the repository of the
        image running now); `manifest`: a YAML file applied by deploy (server-side apply), else deploy
        only sets the image. `configuration` (a kubernetes.client.Configuration or a callable making
        one) wins over `kubeconfig`/`context`/`in_cluster`. `run_mode`: "job" or "exec"."""
        if run_mode not in ("job", "exec"):
            raise ExecutorError(f"run_mode must be 'job' or 'exec', not {run_mode!r}")
        self.deployment = deployment
        self.namespace = namespace
        self.container = container
        self.image_repo = image_repo
        self.manifest = Path(manifest) if manifest else None
        self.rollout_timeout_s = rollout_timeout_s
        self.run_timeout_s = run_timeout_s
        self.run_mode = run_mode
        self.job_ttl_s = job_ttl_s
        self.api = KubeApi(configuration, kubeconfig=kubeconfig, context=context, in_cluster=in_cluster,
                           watch_chunk_s=watch_chunk_s)
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"KubernetesExecutor(deployment={self.deployment!r}, namespace={self.namespace!r})"

    @property
    def ref(self) -> str:
        return f"deployment/{self.deployment}"

    def undo_command(self, revision: int | None = None) -> str:
        to = f" --to-revision={revision}" if revision else ""
        return f"kubectl rollout undo {self.ref} -n {self.namespace}{to}"

    # -- the API ------------------------------------------------------------------------------------
    async def _connected(self) -> KubeApi:
        if self.api.client is None:
            await in_thread(self.api.connect)
        return self.api

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> dict:
        """`<api>.<method>(*args)` in a thread, e.g. _call("apps.read_namespaced_deployment", name, ns)."""
        api = await self._connected()
        group, name = method.split(".")
        try:
            return await in_thread(api.call, getattr(getattr(api, group), name), *args, **kwargs)
        except ExecutorError:
            raise
        except Exception as e:  # noqa: BLE001 - the client's errors, said in one line
            if getattr(e, "status", None) == 404:
                raise NotFound(api.describe(e)) from None
            raise ExecutorError(api.describe(e)) from None

    async def _deployment(self) -> dict:
        try:
            return await self._call("apps.read_namespaced_deployment", self.deployment, self.namespace)
        except NotFound:
            raise ExecutorError(f"{self.ref} not found in namespace {self.namespace}") from None

    async def _replicasets(self, d: dict) -> list[dict]:
        selector = label_selector(d)
        listed = await self._call("apps.list_namespaced_replica_set", self.namespace, label_selector=selector)
        return [rs for rs in listed.get("items") or [] if rollout.controlled_by(rs, d)]

    def _container(self, template: dict) -> dict:
        containers = (template.get("spec") or {}).get("containers") or []
        for c in containers:
            if self.container is None or c.get("name") == self.container:
                return c
        raise ExecutorError(f"{self.ref} has no container {self.container!r} in its pod template")

    def _image_for(self, version: str, current: str) -> str:
        return f"{self.image_repo or rollout.repo_of(current)}:{version}"

    # -- deploy -------------------------------------------------------------------------------------
    async def deploy(self, version: str) -> AsyncIterator[Event]:
        """Apply the manifest (or set the image) for `version`, then wait for the rollout (bounded)."""
        async with self._lock:
            try:
                events_rv = await self._events_rv()
                if self.manifest is not None:
                    d, image = await self._apply_manifest(version)
                    yield LogLine(redact(f"deployment.apps/{self.deployment} serverside-applied from {self.manifest} "
                                         f"({self._container(d['spec']['template'])['name']}={image})"), "kubectl")
                else:
                    current = await self._deployment()
                    container = self._container(current["spec"]["template"])
                    image = self._image_for(version, container.get("image", ""))
                    patch = {"metadata": {"annotations": {rollout.CHANGE_CAUSE: f"hunter-console deploy {version}"}},
                             "spec": {"template": {"spec": {"containers": [{"name": container["name"], "image": image}]}}}}
                    d = await self._call("apps.patch_namespaced_deployment", self.deployment, self.namespace, patch,
                                         field_manager=FIELD_MANAGER,
                                         _content_type="application/strategic-merge-patch+json")
                    yield LogLine(redact(f"deployment.apps/{self.deployment} image updated ({container['name']}={image})"),
                                  "kubectl")
            except Exception as e:  # noqa: BLE001
                yield Outcome(False, redact(f"deploy of {version} failed before the rollout: {describe(e)}"))
                return
            async for event in self._rollout(d, events_rv, f"deploy of {version}", image):
                yield event

    async def _apply_manifest(self, version: str) -> tuple[dict, str]:
        import yaml

        try:
            documents = [doc for doc in yaml.safe_load_all(self.manifest.read_text(encoding="utf-8")) if doc]
        except (OSError, yaml.YAMLError) as e:
            raise ExecutorError(f"cannot read the manifest {self.manifest}: {one_line(e)}") from None
        applied: dict | None = None
        image = ""
        appliers = {("apps/v1", "Deployment"): "apps.patch_namespaced_deployment",
                    ("v1", "Service"): "core.patch_namespaced_service",
                    ("v1", "ConfigMap"): "core.patch_namespaced_config_map"}
        for doc in documents:
            key = (doc.get("apiVersion"), doc.get("kind"))
            if key not in appliers:
                raise ExecutorError(f"the manifest {self.manifest} has a {key[1]} ({key[0]}): only Deployment, "
                                    "Service and ConfigMap are applied by the console")
            doc = copy.deepcopy(doc)
            meta = doc.setdefault("metadata", {})
            meta.setdefault("namespace", self.namespace)
            if key[1] == "Deployment" and meta.get("name") == self.deployment:
                container = self._container(doc["spec"]["template"])
                image = container["image"] = self._image_for(version, container.get("image", ""))
                meta.setdefault("annotations", {})[rollout.CHANGE_CAUSE] = f"hunter-console deploy {version}"
            result = await self._call(appliers[key], meta["name"], meta["namespace"], doc,
                                      field_manager=FIELD_MANAGER, force=True,
                                      _content_type="application/apply-patch+yaml")
            if key[1] == "Deployment" and meta.get("name") == self.deployment:
                applied = result
        if applied is None:
            raise ExecutorError(f"the manifest {self.manifest} has no Deployment named {self.deployment}")
        return applied, image

    async def _events_rv(self) -> str | None:
        listed = await self._call("core.list_namespaced_event", self.namespace, limit=1)
        return (listed.get("metadata") or {}).get("resourceVersion")

    # -- rollout status -----------------------------------------------------------------------------
    async def rollout_status(self, *, timeout_s: float | None = None) -> AsyncIterator[Event]:
        """`kubectl rollout status`: Progress until the rollout is complete, failed or timed out."""
        try:
            d, events_rv = await self._deployment(), await self._events_rv()
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, f"rollout status: {describe(e)}")
            return
        async for event in self._rollout(d, events_rv, "rollout", None, timeout_s=timeout_s):
            yield event

    async def _rollout(self, d: dict, events_rv: str | None, action: str, image: str | None,
                       timeout_s: float | None = None) -> AsyncIterator[Event]:
        """Watch the Deployment (from the version we changed) and its events until kubectl's rules say
        done or failed; bounded by rollout_timeout_s."""
        timeout_s = self.rollout_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout_s
        queue: asyncio.Queue[Any] = asyncio.Queue()
        api = await self._connected()
        name = self.deployment
        sources = [
            ("deployment", api.watch(api.apps.list_namespaced_deployment, self.namespace,
                                     resource_version=d["metadata"].get("resourceVersion"), timeout_s=timeout_s + 5,
                                     field_selector=f"metadata.name={name}")),
            ("events", api.watch(api.core.list_namespaced_event, self.namespace, resource_version=events_rv,
                                 timeout_s=timeout_s + 5)),
        ]
        tasks = [asyncio.create_task(pump(tag, gen, queue)) for tag, gen in sources]
        state = rollout.rollout_state(d)
        shown: tuple | None = None
        try:
            while True:
                if state.observed:
                    key = (state.updated, state.available, state.desired, state.message)
                    if key != shown:
                        shown = key
                        yield Progress(state.updated, state.desired, "replicas",
                                       f"{state.updated} of {state.desired} updated, {state.available} of "
                                       f"{state.desired} available: {state.message}")
                    if state.done or state.failed:
                        break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    tag, item = await asyncio.wait_for(queue.get(), timeout=left)
                except asyncio.TimeoutError:
                    break
                if isinstance(item, BaseException):
                    if tag == "events":  # events are a nicety; the Deployment decides
                        yield LogLine(f"(events not available: {describe(item)})", "stderr")
                        continue
                    raise item
                if item is DONE:
                    continue
                kind, obj = item
                if tag == "deployment" and kind in ("ADDED", "MODIFIED"):
                    d, state = obj, rollout.rollout_state(obj)
                elif tag == "deployment" and kind == "DELETED":
                    yield Outcome(False, f"{action} failed: {self.ref} was deleted during the rollout")
                    return
                elif tag == "events" and self._concerns(obj):
                    yield LogLine(redact(f"{obj.get('type', 'Normal')} {obj.get('reason', '')} "
                                         f"{obj.get('involvedObject', {}).get('kind', '').lower()}/"
                                         f"{obj.get('involvedObject', {}).get('name', '')}: {one_line(obj.get('message', ''))}"),
                                  "events")
        except Exception as e:  # noqa: BLE001
            yield Outcome(False, redact(f"{action}: rollout status failed: {describe(e)}"))
            return
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        revision = int((d["metadata"].get("annotations") or {}).get(rollout.REVISION, "0") or 0)
        serving = image or rollout.image_of(d["spec"]["template"], self.container)
        detail = {"deployment": name, "namespace": self.namespace, "revision": revision, "image": serving,
                  "updated": state.updated, "available": state.available, "desired": state.desired}
        if state.done:
            yield Outcome(True, f"{action}: {state.message} (revision {revision}, image {serving})", detail=detail)
            return
        why = state.message if state.failed else \
            f"not complete after {timeout_s:g}s (still: {state.message})"
        progressing = rollout.condition(d, "Progressing") or {}
        if state.failed and progressing.get("message"):
            why += f" ({progressing['message']})"
        undo = await self._undo_advice(d)
        detail.update(reason=progressing.get("reason") if state.failed else "Timeout", undo=undo)
        yield Outcome(False, redact(f"{action} failed: {why}; {undo['advice']}"), detail=detail)

    async def _undo_advice(self, d: dict) -> dict[str, Any]:
        """How the operator undoes a failed rollout, from the real history."""
        try:
            plan = rollout.plan_undo(d, await self._replicasets(d))
        except (rollout.UndoRefused, ExecutorError) as e:
            return {"advice": f"no automatic undo ({e})", "revision": None}
        return {"advice": f"the previous pods keep serving; undo with rollback (= {self.undo_command()}) to "
                          f"revision {plan.revision.revision} running image {plan.revision.image}",
                "revision": plan.revision.revision, "image": plan.revision.image, "command": self.undo_command()}

    def _concerns(self, event: dict) -> bool:
        involved = event.get("involvedObject") or {}
        name = involved.get("name", "")
        return involved.get("kind") in ("Deployment", "ReplicaSet", "Pod") and (
            name == self.deployment or name.startswith(self.deployment + "-"))

    # -- rollback -----------------------------------------------------------------------------------
    async def _plan(self, to_revision: int | None) -> tuple[dict, rollout.UndoPlan]:
        d = await self._deployment()
        return d, rollout.plan_undo(d, await self._replicasets(d), to_revision)

    async def rollback(self, to_revision: int | None = None) -> AsyncIterator[Event]:
        """`kubectl rollout undo` (to the previous revision, or `to_revision`), then rollout status."""
        async with self._lock:
            try:
                d, plan = await self._plan(to_revision)
            except rollout.UndoRefused as e:
                yield Outcome(False, redact(f"rollback refused: {e}"), detail={"refused": True})
                return
            except Exception as e:  # noqa: BLE001
                yield Outcome(False, redact(f"rollback failed: {describe(e)}"))
                return
            target = plan.revision
            detail = {"to_revision": target.revision, "image": target.image, "deployment": self.deployment}
            if plan.skip:
                yield Outcome(True, f"{self.ref} {plan.message}", detail={**detail, "skipped": True})
                return
            try:
                events_rv = await self._events_rv()
                d = await self._call("apps.patch_namespaced_deployment", self.deployment, self.namespace, plan.patch,
                                     field_manager="kubectl-rollout",
                                     _content_type="application/json-patch+json")
            except Exception as e:  # noqa: BLE001
                yield Outcome(False, redact(f"failed restoring revision {target.revision}: {describe(e)}"))
                return
            yield LogLine(redact(f"deployment.apps/{self.deployment} rolled back to revision {target.revision} "
                                 f"(image {target.image})"), "kubectl")
            async for event in self._rollout(d, events_rv, f"rollback to revision {target.revision}", target.image):
                if isinstance(event, Outcome):
                    event = Outcome(event.ok, event.message, detail={**event.detail, **detail,
                                                                     "new_revision": event.detail.get("revision")})
                yield event

    async def rollback_preview(self, to_revision: int | None = None) -> str:
        """The dry run of rollback(): what would change in the Deployment, diff-like. ExecutorError when
        it would be refused."""
        try:
            d, plan = await self._plan(to_revision)
        except rollout.UndoRefused as e:
            raise ExecutorError(f"rollback refused: {e}") from None
        head = f"{self.ref} (dry run): undo to revision {plan.revision.revision} running image {plan.revision.image}"
        if plan.skip:
            return f"{head}\n{self.ref} {plan.message}"
        return redact(f"{head}\n{rollout.template_diff(d, plan)}")

    async def revision_history(self) -> list[dict[str, Any]]:
        """`kubectl rollout history`: revision, image, age, change_cause (oldest first)."""
        d = await self._deployment()
        return [r.as_dict() for r in rollout.revisions(d, await self._replicasets(d), self.container)]

    async def rollback_target(self) -> str | None:
        try:
            _, plan = await self._plan(None)
        except rollout.UndoRefused:
            return None
        if plan.skip:
            return None
        return f"undo to revision {plan.revision.revision} running image {plan.revision.image}"

    # -- state, logs, stop ---------------------------------------------------------------------------
    async def current_version(self) -> str | None:
        """The tag of the image serving now: the template's when the rollout is complete, else the
        revision with the most available pods; None when no pod is available."""
        d = await self._deployment()
        state = rollout.rollout_state(d)
        if state.done and state.available:
            return rollout.tag_of(rollout.image_of(d["spec"]["template"], self.container))
        serving = [rs for rs in await self._replicasets(d) if (rs.get("status") or {}).get("availableReplicas")]
        if not serving:
            return None
        best = max(serving, key=lambda rs: (rs["status"]["availableReplicas"], rollout.revision_of(rs) or 0))
        return rollout.tag_of(rollout.image_of(best["spec"]["template"], self.container))

    async def stop(self) -> None:
        """Scale the Deployment to 0 (`kubectl scale --replicas=0`) and wait until its pods are gone."""
        await self._call("apps.patch_namespaced_deployment", self.deployment, self.namespace, {"spec": {"replicas": 0}},
                         field_manager=FIELD_MANAGER, _content_type="application/merge-patch+json")
        deadline = time.monotonic() + self.rollout_timeout_s
        d = await self._deployment()
        while time.monotonic() < deadline:
            listed = await self._call("core.list_namespaced_pod", self.namespace, label_selector=label_selector(d))
            if not listed.get("items"):
                return
            await asyncio.sleep(0.2)
        raise ExecutorError(f"{self.ref} still has pods {self.rollout_timeout_s:g}s after scaling to 0")

    async def aclose(self) -> None:
        await in_thread(self.api.close)
