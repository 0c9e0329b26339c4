"""A SIMULATED Kubernetes API server, for tests only. It is not Kubernetes.

No API server can be had on this project's machines, so the KubernetesExecutor tests drive the real
`kubernetes` Python client against this stand-in: a Starlette app served by uvicorn on 127.0.0.1 (plain
HTTP, bearer tokens), with just enough of the API for what the executor does:

- apps/v1 Deployments (get, list, watch, create, replace, patch: JSON patch, JSON merge patch,
  strategic merge patch, server-side apply treated as "create or strategic-merge"), ReplicaSets (get,
  list, watch); core/v1 Pods (get, list, watch, delete, logs with follow), Events (list, watch),
  Services and ConfigMaps (stored, nothing more); batch/v1 Jobs (create, get, list, watch, delete);
- watch streams (newline-delimited JSON) from a resourceVersion, or with synthetic ADDED events
  when none is given, ended after timeoutSeconds; label selectors (equality, `!=`) and field
  selectors (dotted-path equality);
- authentication by bearer token -> role: "admin" may do anything, "viewer" may only read, others
  get 401 (Unauthorized) or 403 (Forbidden, with a Status body like the real one);
- a controller loop (an asyncio task, ticking every `tick` seconds) playing the deployment,
  replica set, kubelet and job controllers in miniature: ReplicaSets named `<deployment>-<hash>`
  with the `pod-template-hash` label and `deployment.kubernetes.io/revision` annotations (an old
  ReplicaSet brought back by a rollback gets the next revision, as the real controller does),
  rolling updates bounded by maxSurge / maxUnavailable, the Progressing condition with
  ProgressDeadlineExceeded after progressDeadlineSeconds, `ScalingReplicaSet` events, paused
  Deployments left alone, revisionHistoryLimit; pods become Running, then Ready, unless their image
  tag contains "broken" (then they crash-loop and never get ready); their "logs" are scripted
  (`SCRIPTED_LOGS` env in the pod template, lines separated by "|"); Job pods run their script and
  terminate with an exit code: `alembic ...` succeeds, unless env FAIL_MIGRATION=1 (exit 1, an
  error line), env EXIT_CODE sets it for anything else.

What it does not do: admission, validation, defaulting beyond what the executor reads, resource
quotas, scheduling, real managed fields for apply, exec/attach/port-forward (no SPDY/websocket),
protobuf, compaction (410 Gone) of watch history.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
import secrets
import socket
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

GROUPS = {"deployments": "apps/v1", "replicasets": "apps/v1", "jobs": "batch/v1", "pods": "v1", "events": "v1",
          "services": "v1", "configmaps": "v1"}
KINDS = {"deployments": "Deployment", "replicasets": "ReplicaSet", "jobs": "Job", "pods": "Pod", "events": "Event",
         "services": "Service", "configmaps": "ConfigMap"}
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
HASH_LABEL = "pod-template-hash"
NOT_COPIED = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY,
              "deployment.kubernetes.io/desired-replicas", "deployment.kubernetes.io/max-replicas",
              "deprecated.deployment.rollback.to"}


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> JSONResponse:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
            "reason": reason, "code": code}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=code)


# -- patches -----------------------------------------------------------------------------------
def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def strategic_merge(target: Any, patch: Any) -> Any:
    """Strategic merge patch, as far as Deployments need it: lists of objects with a `name` (containers,
    env, ports, volumes) are merged by name; other lists are replaced; null deletes."""
    if isinstance(patch, dict):
        result = dict(target) if isinstance(target, dict) else {}
        for key, value in patch.items():
            if key.startswith("$"):
                continue
            if value is None:
                result.pop(key, None)
            else:
                result[key] = strategic_merge(result.get(key), value)
        return result
    if isinstance(patch, list) and patch and all(isinstance(p, dict) and "name" in p for p in patch) \
            and isinstance(target, list):
        merged = [copy.deepcopy(t) for t in target]
        for item in patch:
            for i, existing in enumerate(merged):
                if isinstance(existing, dict) and existing.get("name") == item["name"]:
                    merged[i] = strategic_merge(existing, item)
                    break
            else:
                merged.append(copy.deepcopy(item))
        return merged
    return copy.deepcopy(patch)


def json_patch(target: Any, ops: list[dict]) -> Any:
    doc = copy.deepcopy(target)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].lstrip("/").split("/")]
        parent = doc
        for part in parts[:-1]:
            parent = parent[int(part)] if isinstance(parent, list) else parent.setdefault(part, {})
        last = parts[-1]
        kind = op["op"]
        if kind in ("add", "replace"):
            if isinstance(parent, list):
                index = len(parent) if last == "-" else int(last)
                if kind == "add":
                    parent.insert(index, copy.deepcopy(op["value"]))
                else:
                    parent[index] = copy.deepcopy(op["value"])
            else:
                parent[last] = copy.deepcopy(op["value"])
        elif kind == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        elif kind == "test":
            current = parent[int(last)] if isinstance(parent, list) else parent.get(last)
            if current != op["value"]:
                raise ValueError(f"test operation failed at {op['path']}")
        else:
            raise ValueError(f"unsupported JSON patch op {kind}")
    return doc


def template_hash(template: dict) -> str:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
    digest = hashlib.sha256(json.dumps(clean, sort_keys=True).encode()).hexdigest()
    return "".join(c for c in digest if c in "bcdfghjklmnpqrstvwxz2456789")[:10] or digest[:10]


def without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop(HASH_LABEL, None)
    return clean


def resolve(value: Any, total: int, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def matches_labels(labels: dict, selector: str | None) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        term = term.strip()
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term and term not in labels:
            return False
    return True


def matches_fields(obj: dict, selector: str | None) -> bool:
    if not selector:
        return True
    for term in selector.split(","):
        key, value = term.split("=", 1)
        current: Any = obj
        for part in key.strip().split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if str(current) != value.strip():
            return False
    return True


# -- the simulated cluster ---------------------------------------------------------------------
class SimulatedCluster:
    def __init__(self, *, tick: float = 0.05, tokens: dict[str, str] | None = None, pod_ready_ticks: int = 2) -> None:
        self.tick = tick
        self.pod_ready_ticks = pod_ready_ticks
        self.tokens = tokens if tokens is not None else {"admin-token": "admin", "viewer-token": "viewer"}
        self.store: dict[str, dict[tuple[str, str], dict]] = {r: {} for r in GROUPS}
        self.rv = 1000
        self.history: list[tuple[int, str, str, dict]] = []  # (rv, type, resource, obj)
        self.changed: asyncio.Event | None = None
        self.logs: dict[tuple[str, str], list[str]] = {}  # (ns, pod) -> lines written so far
        self.pod_state: dict[tuple[str, str], dict] = {}  # the kubelet's view: age in ticks, script
        self.progress: dict[tuple[str, str], tuple] = {}  # deployment -> last seen progress key
        self.requests: list[tuple[str, str, str]] = []  # (method, path, content-type) for assertions
        self.loop: asyncio.AbstractEventLoop | None = None
        self.closing = False  # set when the server stops: open streams end

    # storage ------------------------------------------------------------------------------------
    def _bump(self, kind: str, resource: str, obj: dict) -> dict:
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.history.append((self.rv, kind, resource, copy.deepcopy(obj)))
        if self.changed is not None:
            self.changed.set()
            self.changed = asyncio.Event()
        return obj

    def get(self, resource: str, ns: str, name: str) -> dict | None:
        return self.store[resource].get((ns, name))

    def items(self, resource: str, ns: str | None = None, selector: str | None = None) -> list[dict]:
        return [o for (n, _), o in self.store[resource].items()
                if (ns is None or n == ns) and matches_labels(o["metadata"].get("labels") or {}, selector)]

    def create(self, resource: str, ns: str, obj: dict) -> dict:
        obj = copy.deepcopy(obj)
        meta = obj.setdefault("metadata", {})
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + secrets.token_hex(3)[:5]
        meta.update(namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=now_iso(), generation=1)
        obj["apiVersion"], obj["kind"] = GROUPS[resource], KINDS[resource]
        if resource == "deployments":
            spec = obj.setdefault("spec", {})
            spec.setdefault("replicas", 1)
            spec.setdefault("progressDeadlineSeconds", 600)
            spec.setdefault("revisionHistoryLimit", 10)
            strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
            strategy.setdefault("rollingUpdate", {}).setdefault("maxSurge", "25%")
            strategy["rollingUpdate"].setdefault("maxUnavailable", "25%")
            obj["status"] = {}
        if resource == "jobs":
            obj.setdefault("spec", {}).setdefault("backoffLimit", 6)
            obj["status"] = {}
        self.store[resource][(ns, meta["name"])] = obj
        return self._bump("ADDED", resource, obj)

    def update(self, resource: str, obj: dict, *, status_only: bool = False) -> dict:
        meta = obj["metadata"]
        old = self.store[resource].get((meta["namespace"], meta["name"]))
        if old is not None and not status_only and old.get("spec") != obj.get("spec"):
            meta["generation"] = int(meta.get("generation", 1)) + 1
        self.store[resource][(meta["namespace"], meta["name"])] = obj
        return self._bump("MODIFIED", resource, obj)

    def delete(self, resource: str, ns: str, name: str) -> dict | None:
        obj = self.store[resource].pop((ns, name), None)
        if obj is not None:
            self._bump("DELETED", resource, obj)
            for (rname, owned) in [(r, o) for r in ("replicasets", "pods") for o in self.items(r, ns)]:
                owners = owned["metadata"].get("ownerReferences") or []
                if any(ref.get("uid") == obj["metadata"]["uid"] for ref in owners):
                    self.delete(rname, ns, owned["metadata"]["name"])
            if resource == "pods":
                self.pod_state.pop((ns, name), None)
        return obj

    def event(self, involved: dict, reason: str, message: str, kind: str = "Normal", component: str = "") -> None:
        meta = involved["metadata"]
        self.create("events", meta["namespace"], {
            "metadata": {"name": f"{meta['name']}.{secrets.token_hex(8)}"},
            "involvedObject": {"kind": involved["kind"], "name": meta["name"], "namespace": meta["namespace"],
                               "uid": meta["uid"], "apiVersion": involved["apiVersion"]},
            "reason": reason, "message": message, "type": kind, "count": 1,
            "firstTimestamp": now_iso(), "lastTimestamp": now_iso(), "source": {"component": component}})

    # controllers --------------------------------------------------------------------------------
    async def run_controllers(self) -> None:
        while True:
            try:
                self.reconcile()
            except Exception as e:  # noqa: BLE001 - a test double must not die silently
                print(f"simulated controller error: {e!r}")
            await asyncio.sleep(self.tick)

    def reconcile(self) -> None:
        for deployment in list(self.store["deployments"].values()):
            self.sync_deployment(deployment)
        for rs in list(self.store["replicasets"].values()):
            self.sync_replicaset(rs)
        for job in list(self.store["jobs"].values()):
            self.sync_job(job)
        for pod in list(self.store["pods"].values()):
            self.run_kubelet(pod)

    def owned(self, resource: str, owner: dict) -> list[dict]:
        uid = owner["metadata"]["uid"]
        return [o for o in self.items(resource, owner["metadata"]["namespace"])
                if any(r.get("uid") == uid for r in o["metadata"].get("ownerReferences") or [])]

    @staticmethod
    def owner_ref(owner: dict) -> dict:
        return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
                "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}

    def sync_deployment(self, d: dict) -> None:
        ns, name = d["metadata"]["namespace"], d["metadata"]["name"]
        spec, status = d["spec"], d.setdefault("status", {})
        before = copy.deepcopy(status)
        rss = self.owned("replicasets", d)
        revisions = [int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in rss]
        wanted = without_hash(spec["template"])
        new = next((rs for rs in rss if without_hash(rs["spec"]["template"]) == wanted), None)
        if spec.get("paused"):
            status["observedGeneration"] = d["metadata"]["generation"]
            status["conditions"] = [c for c in status.get("conditions", []) if c["type"] != "Progressing"] + [
                {"type": "Progressing", "status": "Unknown", "reason": "DeploymentPaused",
                 "message": "Deployment is paused", "lastUpdateTime": now_iso(), "lastTransitionTime": now_iso()}]
            if status != before:
                self.update("deployments", d, status_only=True)
            return
        replicas = int(spec.get("replicas", 1))
        rolling = spec["strategy"].get("rollingUpdate") or {}
        surge = resolve(rolling.get("maxSurge", "25%"), replicas, True)
        unavailable = resolve(rolling.get("maxUnavailable", "25%"), replicas, False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        annotations = {k: v for k, v in (d["metadata"].get("annotations") or {}).items() if k not in NOT_COPIED}
        next_revision = str(max(revisions, default=0) + 1)
        if new is None:
            h = template_hash(spec["template"])
            template = copy.deepcopy(spec["template"])
            template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = h
            selector = copy.deepcopy(spec["selector"])
            selector.setdefault("matchLabels", {})[HASH_LABEL] = h
            new = self.create("replicasets", ns, {
                "metadata": {"name": f"{name}-{h}", "labels": dict(template["metadata"]["labels"]),
                             "annotations": {**annotations, REVISION: next_revision,
                                             "deployment.kubernetes.io/desired-replicas": str(replicas),
                                             "deployment.kubernetes.io/max-replicas": str(replicas + surge)},
                             "ownerReferences": [self.owner_ref(d)]},
                "spec": {"replicas": 0, "selector": selector, "template": template}, "status": {"replicas": 0}})
            self.progress.pop((ns, name), None)
        else:
            rs_annotations = new["metadata"].setdefault("annotations", {})
            is_latest = int(rs_annotations.get(REVISION, "0")) == max(revisions, default=0)
            if not is_latest or any(rs_annotations.get(k) != v for k, v in annotations.items()):
                if not is_latest:
                    old_revision = rs_annotations.get(REVISION)
                    history = [h for h in rs_annotations.get(REVISION_HISTORY, "").split(",") if h]
                    rs_annotations[REVISION_HISTORY] = ",".join(history + [old_revision])
                    rs_annotations[REVISION] = next_revision
                    self.progress.pop((ns, name), None)
                rs_annotations.update(annotations)
                self.update("replicasets", new, status_only=True)
        olds = [rs for rs in rss if rs is not new]
        revision = new["metadata"]["annotations"][REVISION]
        if (d["metadata"].setdefault("annotations", {})).get(REVISION) != revision:
            d["metadata"]["annotations"][REVISION] = revision
            self.update("deployments", d, status_only=True)

        def scale(rs: dict, to: int) -> None:
            was = rs["spec"]["replicas"]
            if was == to:
                return
            rs["spec"]["replicas"] = to
            self.update("replicasets", rs)
            self.event(d, "ScalingReplicaSet",
                       f"Scaled {'up' if to > was else 'down'} replica set {rs['metadata']['name']} from {was} to {to}",
                       component="deployment-controller")

        total = sum(rs["spec"]["replicas"] for rs in rss)
        if new["spec"]["replicas"] > replicas:
            scale(new, replicas)
        elif total < replicas + surge and new["spec"]["replicas"] < replicas:
            scale(new, min(replicas, new["spec"]["replicas"] + replicas + surge - total))
        min_available = replicas - unavailable
        all_pods = sum(rs["spec"]["replicas"] for rs in rss)
        new_unavailable = new["spec"]["replicas"] - new["status"].get("availableReplicas", 0)
        cleanup = max(0, all_pods - min_available - new_unavailable)
        for rs in sorted(olds, key=lambda r: int(r["metadata"]["annotations"].get(REVISION, "0"))):
            unhealthy = rs["spec"]["replicas"] - rs["status"].get("availableReplicas", 0)
            take = min(cleanup, unhealthy)
            if take > 0:
                scale(rs, rs["spec"]["replicas"] - take)
                cleanup -= take
        can_remove = sum(rs["status"].get("availableReplicas", 0) for rs in rss) - min_available
        for rs in sorted(olds, key=lambda r: int(r["metadata"]["annotations"].get(REVISION, "0"))):
            take = min(max(0, can_remove), rs["spec"]["replicas"])
            if take > 0:
                scale(rs, rs["spec"]["replicas"] - take)
                can_remove -= take
        limit = int(spec.get("revisionHistoryLimit", 10))
        idle = sorted([rs for rs in olds if rs["spec"]["replicas"] == 0 and rs["status"].get("replicas", 0) == 0],
                      key=lambda r: int(r["metadata"]["annotations"].get(REVISION, "0")))
        for rs in idle[:max(0, len(idle) - limit)]:
            self.delete("replicasets", ns, rs["metadata"]["name"])

        updated = new["status"].get("replicas", 0)
        status.update(
            observedGeneration=d["metadata"]["generation"],
            replicas=sum(rs["status"].get("replicas", 0) for rs in rss), updatedReplicas=updated,
            readyReplicas=sum(rs["status"].get("readyReplicas", 0) for rs in rss),
            availableReplicas=sum(rs["status"].get("availableReplicas", 0) for rs in rss))
        status["unavailableReplicas"] = max(0, status["replicas"] - status["availableReplicas"])
        conditions = {c["type"]: c for c in status.get("conditions", [])}
        ok = status["availableReplicas"] >= min_available
        available = {"type": "Available", "status": "True" if ok else "False",
                     "reason": "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
                     "message": "Deployment has minimum availability." if ok else
                     "Deployment does not have minimum availability."}
        if {k: conditions.get("Available", {}).get(k) for k in available} != available:
            conditions["Available"] = {**available, "lastUpdateTime": now_iso(), "lastTransitionTime": now_iso()}
        rs_name = new["metadata"]["name"]
        complete = (updated == replicas and status["replicas"] == replicas
                    and new["status"].get("availableReplicas", 0) == replicas)
        key = (rs_name, new["spec"]["replicas"], updated, status["replicas"],
               status["readyReplicas"], status["availableReplicas"])
        previous = conditions.get("Progressing")
        if complete:
            progressing = {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable",
                           "message": f'ReplicaSet "{rs_name}" has successfully progressed.'}
        elif self.progress.get((ns, name)) != key:
            progressing = {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated",
                           "message": f'ReplicaSet "{rs_name}" is progressing.'}
        elif previous and previous.get("reason") != "ProgressDeadlineExceeded" and \
                time.time() - previous.get("_since", time.time()) > int(spec.get("progressDeadlineSeconds", 600)):
            progressing = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                           "message": f'ReplicaSet "{rs_name}" has timed out progressing.'}
            self.event(d, "ProgressDeadlineExceeded", f'ReplicaSet "{rs_name}" has timed out progressing.',
                       "Warning", "deployment-controller")
        else:
            progressing = previous
        self.progress[(ns, name)] = key
        if progressing is not previous:
            since = time.time() if (not previous or previous.get("reason") != progressing["reason"]
                                    or progressing["reason"] == "ReplicaSetUpdated") else previous.get("_since")
            conditions["Progressing"] = {**progressing, "lastUpdateTime": now_iso(),
                                         "lastTransitionTime": now_iso(), "_since": since}
        status["conditions"] = list(conditions.values())
        if status != before:
            self.update("deployments", d, status_only=True)

    def sync_replicaset(self, rs: dict) -> None:
        ns = rs["metadata"]["namespace"]
        pods = [p for p in self.owned("pods", rs) if not p["metadata"].get("deletionTimestamp")]
        want = rs["spec"]["replicas"]
        for _ in range(want - len(pods)):
            template = copy.deepcopy(rs["spec"]["template"])
            pod = self.create("pods", ns, {
                "metadata": {"name": f"{rs['metadata']['name']}-{secrets.token_hex(3)[:5]}",
                             "labels": template.get("metadata", {}).get("labels", {}),
                             "ownerReferences": [self.owner_ref(rs)]},
                "spec": template["spec"], "status": {"phase": "Pending"}})
            pods.append(pod)
        if len(pods) > want:
            victims = sorted(pods, key=lambda p: (self.is_ready(p), p["metadata"]["creationTimestamp"]))
            for pod in victims[:len(pods) - want]:
                pod["metadata"]["deletionTimestamp"] = now_iso()
                self.update("pods", pod, status_only=True)
                pods.remove(pod)
        ready = sum(1 for p in pods if self.is_ready(p))
        status = {"replicas": len(pods), "readyReplicas": ready, "availableReplicas": ready,
                  "fullyLabeledReplicas": len(pods), "observedGeneration": rs["metadata"]["generation"]}
        if rs.get("status") != status:
            rs["status"] = status
            self.update("replicasets", rs, status_only=True)

    @staticmethod
    def is_ready(pod: dict) -> bool:
        return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", []))

    def sync_job(self, job: dict) -> None:
        ns = job["metadata"]["namespace"]
        status = job.setdefault("status", {})
        if any(c["status"] == "True" for c in status.get("conditions", [])):
            return
        pods = self.owned("pods", job)
        failed = sum(1 for p in pods if p["status"]["phase"] == "Failed")
        succeeded = sum(1 for p in pods if p["status"]["phase"] == "Succeeded")
        active = sum(1 for p in pods if p["status"]["phase"] in ("Pending", "Running"))
        new = {**status, "active": active, "failed": failed, "succeeded": succeeded}
        if succeeded:
            new.update(active=0, completionTime=now_iso(), conditions=[
                {"type": "Complete", "status": "True", "lastTransitionTime": now_iso()}])
            self.event(job, "Completed", "Job completed", component="job-controller")
        elif failed > int(job["spec"].get("backoffLimit", 6)):
            new.update(active=0, conditions=[
                {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                 "message": "Job has reached the specified backoff limit", "lastTransitionTime": now_iso()}])
            self.event(job, "BackoffLimitExceeded", "Job has reached the specified backoff limit", "Warning",
                       "job-controller")
        elif not active:
            template = copy.deepcopy(job["spec"]["template"])
            labels = {**template.get("metadata", {}).get("labels", {}), "job-name": job["metadata"]["name"],
                      "batch.kubernetes.io/job-name": job["metadata"]["name"],
                      "controller-uid": job["metadata"]["uid"]}
            pod = self.create("pods", ns, {
                "metadata": {"name": f"{job['metadata']['name']}-{secrets.token_hex(3)[:5]}", "labels": labels,
                             "ownerReferences": [self.owner_ref(job)]},
                "spec": template["spec"], "status": {"phase": "Pending"}})
            self.event(job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}", component="job-controller")
            new["active"] = 1
        if new != status:
            job["status"] = new
            self.update("jobs", job, status_only=True)

    def run_kubelet(self, pod: dict) -> None:
        ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        state = self.pod_state.setdefault((ns, name), {"age": 0})
        state["age"] += 1
        if pod["metadata"].get("deletionTimestamp"):
            if state.get("terminating", 0) >= 1:
                self.delete("pods", ns, name)
            state["terminating"] = state.get("terminating", 0) + 1
            return
        if pod["status"]["phase"] in ("Succeeded", "Failed"):
            return
        container = pod["spec"]["containers"][0]
        env = {e["name"]: e.get("value", "") for e in container.get("env") or []}
        image = container.get("image", "")
        is_job = "job-name" in (pod["metadata"].get("labels") or {})
        if "script" not in state:
            state["script"], state["exit"] = self.script(container, env, image, is_job)
        lines = self.logs.setdefault((ns, name), [])
        if state["age"] == 1:
            pod["status"].update(phase="Running", podIP="10.0.0.%d" % (len(self.store["pods"]) % 250 + 2),
                                 startTime=now_iso(), containerStatuses=[{
                                     "name": container["name"], "image": image, "ready": False, "restartCount": 0,
                                     "state": {"running": {"startedAt": now_iso()}}}],
                                 conditions=[{"type": "Ready", "status": "False"}])
            self.update("pods", pod, status_only=True)
            return
        if state["script"]:
            lines.append(state["script"].pop(0))
            self._bump_logs()
            if not is_job and "broken" not in image:
                return
        if is_job:
            if not state["script"]:
                code = state["exit"]
                cs = pod["status"]["containerStatuses"][0]
                cs["state"] = {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                                              "finishedAt": now_iso()}}
                pod["status"]["phase"] = "Succeeded" if code == 0 else "Failed"
                self.update("pods", pod, status_only=True)
            return
        cs = pod["status"]["containerStatuses"][0]
        if "broken" in image:
            if state["age"] % 10 == 0:
                cs["restartCount"] += 1
                cs["state"] = {"waiting": {"reason": "CrashLoopBackOff",
                                           "message": f"back-off restarting failed container {cs['name']}"}}
                lines.append("Traceback (most recent call last): ImportError: cannot import name 'app'")
                self._bump_logs()
                self.update("pods", pod, status_only=True)
                self.event(pod, "BackOff", f"Back-off restarting failed container {cs['name']} in pod {name}",
                           "Warning", "kubelet")
            return
        if state["age"] >= self.pod_ready_ticks + 1 and not cs["ready"]:
            cs["ready"] = True
            pod["status"]["conditions"] = [{"type": "Ready", "status": "True", "lastTransitionTime": now_iso()}]
            self.update("pods", pod, status_only=True)

    @staticmethod
    def script(container: dict, env: dict, image: str, is_job: bool) -> tuple[list[str], int]:
        argv = [*(container.get("command") or []), *(container.get("args") or [])]
        lines = [line for line in env.get("SCRIPTED_LOGS", "").split("|") if line]
        if not is_job:
            return [f"starting {image}", *lines, "Uvicorn running on http://0.0.0.0:8000"], 0
        if argv[:1] == ["alembic"]:
            lines = ["INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
                     "INFO  [alembic.runtime.migration] Will assume transactional DDL.", *lines]
            if env.get("FAIL_MIGRATION") == "1":
                return lines + [
                    "INFO  [alembic.runtime.migration] Running upgrade 5a8e3c1d9b7f -> f786f93501ea, CSP P-Model",
                    'sqlalchemy.exc.ProgrammingError: (psycopg.errors.DuplicateColumn) column "tenant_size" of '
                    'relation "companies" already exists'], 1
            return lines + ["INFO  [alembic.runtime.migration] Running upgrade 5a8e3c1d9b7f -> f786f93501ea, "
                            "CSP P-Model"], 0
        return lines + [" ".join(argv)], int(env.get("EXIT_CODE", "0"))

    def _bump_logs(self) -> None:
        if self.changed is not None:
            self.changed.set()
            self.changed = asyncio.Event()

    # HTTP ------------------------------------------------------------------------------------------
    def app(self) -> Starlette:
        routes = []
        for prefix in ("/api/{version}", "/apis/{group}/{version}"):
            routes += [
                Route(prefix + "/namespaces/{ns}/pods/{name}/log", self.pod_log, methods=["GET"]),
                Route(prefix + "/namespaces/{ns}/{resource}", self.collection, methods=["GET", "POST"]),
                Route(prefix + "/namespaces/{ns}/{resource}/{name}", self.member,
                      methods=["GET", "PUT", "PATCH", "DELETE"]),
            ]
        return Starlette(routes=routes)

    def authorize(self, request: Request, verb: str) -> Response | None:
        self.requests.append((request.method, request.url.path, request.headers.get("content-type", "")))
        header = request.headers.get("authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        role = self.tokens.get(token)
        if role is None:
            return status_body(401, "Unauthorized", "Unauthorized")
        resource = request.path_params["resource"]
        if role == "admin" or (role == "viewer" and verb in ("get", "list", "watch")):
            return None
        group = GROUPS[resource].split("/")[0] if "/" in GROUPS[resource] else ""
        name = request.path_params.get("name")
        what = f'{resource}{"." + group if group else ""}' + (f' "{name}"' if name else "")
        return status_body(403, "Forbidden",
                           f'{what} is forbidden: User "system:serviceaccount:ci:{role}" cannot {verb} resource '
                           f'"{resource}" in API group "{group}" in the namespace "{request.path_params["ns"]}"',
                           {"name": name or "", "group": group, "kind": resource})

    def not_found(self, resource: str, name: str) -> JSONResponse:
        group = GROUPS[resource].split("/")[0] if "/" in GROUPS[resource] else ""
        return status_body(404, "NotFound", f'{resource}{"." + group if group else ""} "{name}" not found',
                           {"name": name, "group": group, "kind": resource})

    async def collection(self, request: Request) -> Response:
        resource, ns = request.path_params["resource"], request.path_params["ns"]
        if resource not in GROUPS:
            return status_body(404, "NotFound", "the server could not find the requested resource")
        q = request.query_params
        watching = q.get("watch") in ("true", "1")
        denied = self.authorize(request, "create" if request.method == "POST" else "watch" if watching else "list")
        if denied:
            return denied
        if request.method == "POST":
            body = await request.json()
            name = body.get("metadata", {}).get("name")
            if name and self.get(resource, ns, name):
                return status_body(409, "AlreadyExists", f'{resource} "{name}" already exists')
            return JSONResponse(self.create(resource, ns, body), status_code=201)
        labels, fields = q.get("labelSelector"), q.get("fieldSelector")
        if watching:
            return StreamingResponse(self.watch(resource, ns, labels, fields, q.get("resourceVersion"),
                                                float(q.get("timeoutSeconds") or 60)), media_type="application/json")
        items = [clean(o) for o in self.items(resource, ns, labels) if matches_fields(o, fields)]
        return JSONResponse({"kind": KINDS[resource] + "List", "apiVersion": GROUPS[resource],
                             "metadata": {"resourceVersion": str(self.rv)}, "items": items})

    async def watch(self, resource: str, ns: str, labels: str | None, fields: str | None, since: str | None,
                    timeout: float):
        def wanted(obj: dict) -> bool:
            return (obj["metadata"].get("namespace") == ns and matches_fields(obj, fields)
                    and matches_labels(obj["metadata"].get("labels") or {}, labels))

        if since in (None, "", "0"):
            for obj in self.items(resource, ns):
                if wanted(obj):
                    yield json.dumps({"type": "ADDED", "object": clean(obj)}) + "\n"
            position = self.rv
        else:
            position = int(since)
        deadline = time.monotonic() + timeout
        while True:
            for rv, kind, res, obj in self.history:
                if rv > position and res == resource and wanted(obj):
                    yield json.dumps({"type": kind, "object": clean(obj)}) + "\n"
            position = self.rv
            left = deadline - time.monotonic()
            if left <= 0 or self.closing:
                return
            try:
                await asyncio.wait_for(self.changed.wait(), timeout=min(left, 1.0))
            except asyncio.TimeoutError:
                pass

    async def member(self, request: Request) -> Response:
        resource, ns, name = (request.path_params[k] for k in ("resource", "ns", "name"))
        if resource not in GROUPS:
            return status_body(404, "NotFound", "the server could not find the requested resource")
        verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}[request.method]
        denied = self.authorize(request, verb)
        if denied:
            return denied
        obj = self.get(resource, ns, name)
        if request.method == "GET":
            return JSONResponse(clean(obj)) if obj else self.not_found(resource, name)
        if request.method == "DELETE":
            if not obj:
                return self.not_found(resource, name)
            self.delete(resource, ns, name)
            return JSONResponse({"kind": "Status", "apiVersion": "v1", "status": "Success", "metadata": {}})
        raw = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0]
        if request.method == "PATCH" and content_type == "application/apply-patch+yaml":
            import yaml

            applied = yaml.safe_load(raw)
            if obj is None:
                return JSONResponse(self.create(resource, ns, applied), status_code=201)
            return JSONResponse(clean(self.update(resource, self._merged(obj, strategic_merge(obj, applied)))))
        if obj is None:
            return self.not_found(resource, name)
        body = json.loads(raw)
        if request.method == "PUT":
            if body.get("metadata", {}).get("resourceVersion") not in (None, obj["metadata"]["resourceVersion"]):
                return status_body(409, "Conflict", f'Operation cannot be fulfilled on {resource} "{name}": '
                                                    "the object has been modified")
            body["status"] = obj.get("status", {})
            return JSONResponse(clean(self.update(resource, self._merged(obj, body))))
        try:
            if content_type == "application/json-patch+json":
                patched = json_patch(obj, body)
            elif content_type == "application/merge-patch+json":
                patched = merge_patch(obj, body)
            elif content_type == "application/strategic-merge-patch+json":
                patched = strategic_merge(obj, body)
            else:
                return status_body(415, "UnsupportedMediaType", f"the body of the request was in an unknown format: "
                                                                f"{content_type}")
        except (ValueError, KeyError, IndexError, TypeError) as e:
            return status_body(422, "Invalid", f"the patch could not be applied: {e}")
        return JSONResponse(clean(self.update(resource, self._merged(obj, patched))))

    @staticmethod
    def _merged(old: dict, new: dict) -> dict:
        """`new` with the fields the server owns taken from `old`."""
        new = copy.deepcopy(new)
        meta = new.setdefault("metadata", {})
        for key in ("uid", "creationTimestamp", "namespace", "name", "generation", "resourceVersion"):
            meta[key] = old["metadata"].get(key)
        new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
        new["status"] = old.get("status", {})
        return new

    async def pod_log(self, request: Request) -> Response:
        request.path_params["resource"] = "pods"
        denied = self.authorize(request, "get")
        if denied:
            return denied
        ns, name = request.path_params["ns"], request.path_params["name"]
        pod = self.get("pods", ns, name)
        if pod is None:
            return self.not_found("pods", name)
        if pod["status"]["phase"] == "Pending":
            container = pod["spec"]["containers"][0]["name"]
            return status_body(400, "BadRequest",
                               f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating')
        if request.query_params.get("follow") not in ("true", "1"):
            return PlainTextResponse("".join(line + "\n" for line in self.logs.get((ns, name), [])))

        async def follow():
            sent = 0
            while True:
                lines = self.logs.get((ns, name), [])
                while sent < len(lines):
                    yield lines[sent] + "\n"
                    sent += 1
                current = self.get("pods", ns, name)
                if self.closing or current is None or current["status"]["phase"] in ("Succeeded", "Failed"):
                    return
                try:
                    await asyncio.wait_for(self.changed.wait(), timeout=1.0)
                except asyncio.TimeoutError:
                    pass

        return StreamingResponse(follow(), media_type="text/plain")


def clean(obj: dict) -> dict:
    """The object as the API shows it (without the simulation's private bookkeeping)."""
    shown = copy.deepcopy(obj)
    for condition in (shown.get("status") or {}).get("conditions") or []:
        condition.pop("_since", None)
    return shown


class SimulatedApiServer:
    """The simulated cluster served by uvicorn on 127.0.0.1:<free port>, in a thread of its own with its
    own event loop (so it keeps serving while a test's loop waits on the blocking client)."""

    def __init__(self, cluster: SimulatedCluster | None = None) -> None:
        self.cluster = cluster or SimulatedCluster()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(self.cluster.app(), log_level="critical", lifespan="off", timeout_graceful_shutdown=1)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._serve, name="simulated-apiserver", daemon=True)
        self.loop: asyncio.AbstractEventLoop | None = None

    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.cluster.loop = self.loop
        self.cluster.changed = asyncio.Event()
        controllers = asyncio.create_task(self.cluster.run_controllers())
        try:
            await self.server.serve(sockets=[self.sock])
        finally:
            controllers.cancel()

    def start(self) -> "SimulatedApiServer":
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the simulated API server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        def close() -> None:
            self.cluster.closing = True
            self.cluster._bump_logs()

        if self.loop is not None and self.thread.is_alive():
            self.loop.call_soon_threadsafe(close)
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()

    def call(self, fn, *args: Any, **kwargs: Any) -> Any:
        """Run `fn(*args)` on the server's loop (the cluster's state is only touched there)."""
        async def wrapper():
            return fn(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(wrapper(), self.loop).result(timeout=10)
