"""kubectl's rollout status rules and rollout undo planning, on plain API objects (no server)."""

from __future__ import annotations

import pytest

from hunter_console.executors import kubernetes_rollout as rollout


def deployment(generation=2, observed=2, desired=3, updated=3, replicas=3, available=3, reason="NewReplicaSetAvailable",
               **meta):
    return {"metadata": {"name": "api", "uid": "d-uid", "generation": generation, **meta},
            "spec": {"replicas": desired, "template": template("v2")},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "replicas": replicas,
                       "availableReplicas": available,
                       "conditions": [{"type": "Progressing", "status": "True", "reason": reason}]}}


def template(version, hash_label=None):
    labels = {"app": "api", **({"pod-template-hash": hash_label} if hash_label else {})}
    return {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "api", "image": f"repo/api:{version}"}]}}


def replicaset(revision, version, *, owner="d-uid", annotations=None):
    return {"metadata": {"name": f"api-{revision}", "creationTimestamp": "2025-01-28T10:00:00Z",
                         "annotations": {rollout.REVISION: str(revision), **(annotations or {})},
                         "ownerReferences": [{"uid": owner, "controller": True}]},
            "spec": {"template": template(version, hash_label=f"h{revision}")}}


@pytest.mark.parametrize("fields, done, failed, words", [
    (dict(generation=3, observed=2), False, False, "Waiting for deployment spec update to be observed"),
    (dict(reason="ProgressDeadlineExceeded", updated=1), False, True, 'deployment "api" exceeded its progress deadline'),
    (dict(updated=1, replicas=4), False, False, "1 out of 3 new replicas have been updated"),
    (dict(replicas=5), False, False, "2 old replicas are pending termination"),
    (dict(available=2), False, False, "2 of 3 updated replicas are available"),
    (dict(), True, False, 'deployment "api" successfully rolled out'),
])
def test_rollout_status_follows_kubectl(fields, done, failed, words):
    state = rollout.rollout_state(deployment(**fields))
    assert (state.done, state.failed) == (done, failed)
    assert words in state.message


def test_undo_picks_the_second_newest_revision_and_builds_kubectls_patch():
    d = deployment(annotations={"kubectl.kubernetes.io/last-applied-configuration": "{}", rollout.REVISION: "3",
                                "kubernetes.io/change-cause": "deploy v2", "team": "sales"})
    rss = [replicaset(1, "v0"), replicaset(3, "v2"), replicaset(2, "v1", annotations={"kubernetes.io/change-cause": "deploy v1"}),
           replicaset(7, "v9", owner="someone-else")]
    plan = rollout.plan_undo(d, rss)
    assert plan.revision.revision == 2 and not plan.skip
    assert "pod-template-hash" not in plan.template["metadata"]["labels"]
    # the Deployment's own revision/last-applied annotations kept, the ReplicaSet's others copied, the rest dropped
    assert plan.annotations == {"kubectl.kubernetes.io/last-applied-configuration": "{}", rollout.REVISION: "3",
                                "kubernetes.io/change-cause": "deploy v1"}
    assert [op["path"] for op in plan.patch] == ["/spec/template", "/metadata/annotations"]
    assert rollout.plan_undo(d, rss, 1).revision.image == "repo/api:v0"
    assert rollout.plan_undo(d, rss, 3).skip
    assert [r.revision for r in rollout.revisions(d, rss)] == [1, 2, 3]


def test_undo_refusals():
    with pytest.raises(rollout.UndoRefused, match="paused"):
        rollout.plan_undo({**deployment(), "spec": {**deployment()["spec"], "paused": True}}, [replicaset(1, "v0")])
    with pytest.raises(rollout.UndoRefused, match='no rollout history found for deployment "api"'):
        rollout.plan_undo(deployment(), [replicaset(1, "v2")])
    with pytest.raises(rollout.UndoRefused, match="unable to find the specified revision 5"):
        rollout.plan_undo(deployment(), [replicaset(1, "v2"), replicaset(2, "v1")], 5)


@pytest.mark.parametrize("image, tag, repo", [
    ("registry.local:5000/team/hunter-api:v1.0.0", "v1.0.0", "registry.local:5000/team/hunter-api"),
    ("hunter-api", "latest", "hunter-api"),
    ("hunter-api@sha256:abc", "hunter-api@sha256:abc", "hunter-api"),
])
def test_image_names(image, tag, repo):
    assert rollout.tag_of(image) == tag and rollout.repo_of(image) == repo
