"""kubectl's rollout rules, as plain functions on API objects (dicts as the API server sends them).

    rollout_state(deployment)        `kubectl rollout status`: done, failed, or waiting (and why)
    revisions(deployment, rss)       `kubectl rollout history`: the ReplicaSets it controls, by revision
    plan_undo(deployment, rss, n)    `kubectl rollout undo [--to-revision=n]`: which revision, the JSON
                                     patch that restores it, or why not (UndoRefused) / skipped
    template_diff(...)               what an undo would change, diff-like, for a dry run

No kubernetes import here: the executor hands over what the API returned.
"""

from __future__ import annotations

import copy
import difflib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
HASH_LABEL = "pod-template-hash"
# the annotations `kubectl rollout undo` neither copies from the ReplicaSet nor drops from the Deployment
ANNOTATIONS_TO_SKIP = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})


class UndoRefused(Exception):
    """`rollout undo` cannot be done, said in one line (paused, no history, no such revision)."""


@dataclass(frozen=True)
class RolloutState:
    done: bool
    failed: bool
    message: str  # kubectl's words
    desired: int = 0
    updated: int = 0
    available: int = 0
    replicas: int = 0
    observed: bool = True


def rollout_state(d: dict) -> RolloutState:
    """`kubectl rollout status deployment/NAME`, one evaluation (kubectl's DeploymentStatusViewer)."""
    name = d["metadata"]["name"]
    spec, status = d.get("spec") or {}, d.get("status") or {}
    desired = int(spec.get("replicas", 1))
    updated = int(status.get("updatedReplicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    replicas = int(status.get("replicas") or 0)
    counts = dict(desired=desired, updated=updated, available=available, replicas=replicas)
    if int(d["metadata"].get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return RolloutState(False, False, "Waiting for deployment spec update to be observed...", observed=False,
                            **counts)
    progressing = condition(d, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return RolloutState(False, True, f'deployment "{name}" exceeded its progress deadline', **counts)
    if updated < desired:
        return RolloutState(False, False, f'Waiting for deployment "{name}" rollout to finish: {updated} out of '
                                          f"{desired} new replicas have been updated...", **counts)
    if replicas > updated:
        return RolloutState(False, False, f'Waiting for deployment "{name}" rollout to finish: {replicas - updated} '
                                          "old replicas are pending termination...", **counts)
    if available < updated:
        return RolloutState(False, False, f'Waiting for deployment "{name}" rollout to finish: {available} of '
                                          f"{updated} updated replicas are available...", **counts)
    return RolloutState(True, False, f'deployment "{name}" successfully rolled out', **counts)


def condition(obj: dict, kind: str) -> dict | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


# -- history ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Revision:
    revision: int
    replicaset: dict = field(repr=False)
    image: str = ""
    created: str = ""
    change_cause: str = ""

    @property
    def name(self) -> str:
        return self.replicaset["metadata"]["name"]

    def as_dict(self, container: str | None = None, now: datetime | None = None) -> dict[str, Any]:
        return {"revision": self.revision, "image": self.image, "age": age(self.created, now),
                "change_cause": self.change_cause, "replicaset": self.name,
                "replicas": int((self.replicaset.get("status") or {}).get("replicas") or 0)}


def controlled_by(obj: dict, owner: dict) -> bool:
    uid = owner["metadata"].get("uid")
    return any(ref.get("controller") and ref.get("uid") == uid for ref in obj["metadata"].get("ownerReferences") or [])


def revision_of(rs: dict) -> int | None:
    try:
        return int((rs["metadata"].get("annotations") or {})[REVISION])
    except (KeyError, ValueError):
        return None


def revisions(d: dict, replicasets: list[dict], container: str | None = None) -> list[Revision]:
    """The ReplicaSets `d` controls, oldest revision first (as `kubectl rollout history`)."""
    found = []
    for rs in replicasets:
        number = revision_of(rs)
        if number is None or not controlled_by(rs, d):
            continue
        meta = rs["metadata"]
        found.append(Revision(number, rs, image_of(rs["spec"]["template"], container),
                              meta.get("creationTimestamp") or "",
                              (meta.get("annotations") or {}).get(CHANGE_CAUSE, "")))
    return sorted(found, key=lambda r: r.revision)


def image_of(template: dict, container: str | None = None) -> str:
    containers = (template.get("spec") or {}).get("containers") or []
    for c in containers:
        if container is None or c.get("name") == container:
            return c.get("image", "")
    return ""


def tag_of(image: str) -> str:
    """`repo/name:v1.0.0` -> `v1.0.0`; a digest reference stays whole; no tag -> `latest`."""
    if "@" in image:
        return image
    last = image.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def repo_of(image: str) -> str:
    if "@" in image:
        return image.split("@", 1)[0]
    head, _, last = image.rpartition("/")
    name = last.split(":", 1)[0]
    return f"{head}/{name}" if head else name


def age(created: str, now: datetime | None = None) -> str:
    """kubectl-style age: 45s, 12m, 3h, 5d."""
    if not created:
        return ""
    try:
        then = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return ""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# -- undo ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class UndoPlan:
    revision: Revision
    template: dict  # the ReplicaSet's template without the pod-template-hash label
    annotations: dict[str, str]
    skip: bool  # the Deployment's template already matches the revision
    patch: list[dict]  # the JSON patch kubectl sends

    @property
    def message(self) -> str:
        if self.skip:
            return f"skipped rollback (current template already matches revision {self.revision.revision})"
        return f"rolled back to revision {self.revision.revision}"


def without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template)
    labels = (clean.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH_LABEL, None)
    return clean


def plan_undo(d: dict, replicasets: list[dict], to_revision: int | None = None) -> UndoPlan:
    """kubectl's DeploymentRollbacker: refuse a paused Deployment; the previous revision (the second
    newest) or `to_revision`; skip when the template already matches; else a JSON patch replacing
    spec.template (hash label dropped) and metadata.annotations (the Deployment's skipped ones kept,
    the ReplicaSet's others copied)."""
    name = d["metadata"]["name"]
    if (d.get("spec") or {}).get("paused"):
        raise UndoRefused(f"you cannot rollback a paused deployment; resume it first with "
                          f"'kubectl rollout resume deployment/{name}' and try again")
    history = revisions(d, replicasets)
    if to_revision:
        chosen = next((r for r in history if r.revision == to_revision), None)
        if chosen is None:
            known = ", ".join(str(r.revision) for r in history) or "none"
            raise UndoRefused(f"unable to find the specified revision {to_revision} in the history of deployment "
                              f"{name} (revisions: {known})")
    else:
        if len(history) < 2:
            raise UndoRefused(f'no rollout history found for deployment "{name}"')
        chosen = history[-2]
    template = without_hash(chosen.replicaset["spec"]["template"])
    current = d["metadata"].get("annotations") or {}
    annotations = {k: v for k, v in current.items() if k in ANNOTATIONS_TO_SKIP}
    annotations.update({k: v for k, v in (chosen.replicaset["metadata"].get("annotations") or {}).items()
                        if k not in ANNOTATIONS_TO_SKIP})
    skip = without_hash(d["spec"]["template"]) == template
    patch = [{"op": "replace", "path": "/spec/template", "value": template},
             {"op": "replace", "path": "/metadata/annotations", "value": annotations}]
    return UndoPlan(chosen, template, annotations, skip, patch)


def template_diff(d: dict, plan: UndoPlan) -> str:
    """The change an undo makes to the Deployment, as a unified diff of its template and annotations."""
    name = d["metadata"]["name"]
    before = {"metadata": {"annotations": {k: v for k, v in (d["metadata"].get("annotations") or {}).items()
                                           if k not in ANNOTATIONS_TO_SKIP}},
              "spec": {"template": without_hash(d["spec"]["template"])}}
    after = {"metadata": {"annotations": {k: v for k, v in plan.annotations.items() if k not in ANNOTATIONS_TO_SKIP}},
             "spec": {"template": plan.template}}
    lines = list(difflib.unified_diff(_yaml(before), _yaml(after), fromfile=f"deployment/{name} (now)",
                                      tofile=f"deployment/{name} (revision {plan.revision.revision})", lineterm=""))
    return "\n".join(lines)


def _yaml(obj: Any) -> list[str]:
    try:
        import yaml

        return yaml.safe_dump(obj, sort_keys=True, default_flow_style=False).splitlines()
    except ImportError:  # pragma: no cover - PyYAML comes with the kubernetes client
        return json.dumps(obj, indent=2, sort_keys=True).splitlines()
