"""KubernetesExecutor against the simulated API server (a simulation, not a cluster), with the real
kubernetes client: deploy + rollout status, undo, migration Jobs, logs."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from k8s_testlib import DEPLOYMENT, IMAGE_REPO, NAMESPACE, deployment_manifest

from hunter_console.events import LogLine, Outcome, Progress
from hunter_console.executors.base import Executor, ExecutorError

pytestmark = pytest.mark.timeout(60)


async def collect(stream) -> tuple[list, Outcome]:
    events = [e async for e in stream]
    outcomes = [e for e in events if isinstance(e, Outcome)]
    assert len(outcomes) == 1 and events[-1] is outcomes[0], events
    return events, outcomes[0]


def image(cluster) -> str:
    return cluster.get("deployments", DEPLOYMENT)["spec"]["template"]["spec"]["containers"][0]["image"]


async def test_is_an_executor(seeded, make_executor):
    ex = make_executor()
    assert isinstance(ex, Executor)
    assert await ex.current_version() == "v0.9.0"


async def test_deploy_rolls_out_with_progress_and_events(seeded, make_executor):
    ex = make_executor()
    events, outcome = await collect(ex.deploy("v1.0.0"))
    assert outcome.ok, outcome
    assert "successfully rolled out" in outcome.message and "revision 2" in outcome.message
    progress = [e for e in events if isinstance(e, Progress)]
    assert progress and all(p.unit == "replicas" and p.total == 2 for p in progress)
    assert progress[-1].done == 2 and "successfully rolled out" in progress[-1].message
    assert any("1 of 2 updated" in p.message for p in progress)  # the rolling update went one at a time
    assert any("pending termination" in p.message or "out of 2 new replicas" in p.message for p in progress)
    events_lines = [e.text for e in events if isinstance(e, LogLine) and e.stream == "events"]
    assert any("ScalingReplicaSet" in t and "Scaled up replica set" in t for t in events_lines), events_lines
    assert image(seeded) == f"{IMAGE_REPO}:v1.0.0"
    assert await ex.current_version() == "v1.0.0"
    history = await ex.revision_history()
    assert [(h["revision"], h["image"]) for h in history] == [(1, f"{IMAGE_REPO}:v0.9.0"), (2, f"{IMAGE_REPO}:v1.0.0")]
    assert history[1]["change_cause"] == "hunter-console deploy v1.0.0" and history[1]["age"].endswith("s")
    # the image was set with a strategic merge patch, as `kubectl set image`
    assert any(m == "PATCH" and "strategic-merge-patch" in ct for m, _, ct in seeded.sim.requests)


async def test_stuck_rollout_fails_on_progress_deadline_and_offers_undo(seeded, make_executor):
    ex = make_executor()
    events, outcome = await collect(ex.deploy("v1.1.0-broken"))
    assert not outcome.ok
    assert 'deployment "dyn365hunter-api" exceeded its progress deadline' in outcome.message
    assert outcome.detail["reason"] == "ProgressDeadlineExceeded"
    assert "undo with rollback" in outcome.message and f"kubectl rollout undo deployment/{DEPLOYMENT} -n {NAMESPACE}" \
        in outcome.message
    assert f"revision 1 running image {IMAGE_REPO}:v0.9.0" in outcome.message
    assert outcome.detail["undo"]["revision"] == 1
    warnings = [e.text for e in events if isinstance(e, LogLine) and e.stream == "events" and "Warning" in e.text]
    assert any("BackOff" in t and "-broken" not in t for t in warnings), warnings  # the crash loop was shown
    assert "\n" not in outcome.message and "Traceback" not in outcome.message
    # maxUnavailable 0: the old pods kept serving
    assert await ex.current_version() == "v0.9.0"
    assert await ex.rollback_target() == f"undo to revision 1 running image {IMAGE_REPO}:v0.9.0"

    events, undone = await collect(ex.rollback())
    assert undone.ok, undone
    assert undone.detail["to_revision"] == 1 and undone.detail["new_revision"] == 3
    assert any(isinstance(e, LogLine) and "rolled back to revision 1" in e.text for e in events)
    assert image(seeded) == f"{IMAGE_REPO}:v0.9.0"
    d = seeded.get("deployments", DEPLOYMENT)
    assert "pod-template-hash" not in d["spec"]["template"]["metadata"]["labels"]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    # revision 1 became revision 3 (the same ReplicaSet), as the real controller does
    assert [h["revision"] for h in await ex.revision_history()] == [2, 3]
    assert any(m == "PATCH" and ct == "application/json-patch+json" for m, _, ct in seeded.sim.requests)


async def test_rollout_bounded_by_our_own_timeout(seeded, make_executor):
    seeded.patch_deployment(lambda d: d["spec"].__setitem__("progressDeadlineSeconds", 600))
    ex = make_executor(rollout_timeout_s=0.6)
    _, outcome = await collect(ex.deploy("v2.0.0-broken"))
    assert not outcome.ok and outcome.detail["reason"] == "Timeout"
    assert "not complete after 0.6s (still: Waiting for deployment" in outcome.message
    assert f"undo with rollback (= kubectl rollout undo deployment/{DEPLOYMENT} -n {NAMESPACE})" in outcome.message
    async for event in ex.rollout_status(timeout_s=0.3):  # kubectl rollout status, again: still not done
        last = event
    assert isinstance(last, Outcome) and not last.ok


async def test_undo_to_a_chosen_revision_preview_and_skip(seeded, make_executor):
    ex = make_executor()
    for version in ("v1.0.0", "v1.1.0"):
        _, outcome = await collect(ex.deploy(version))
        assert outcome.ok, outcome
    preview = await ex.rollback_preview(to_revision=1)
    assert "dry run" in preview and "undo to revision 1" in preview
    assert f"-        image: {IMAGE_REPO}:v1.1.0" in preview and f"+        image: {IMAGE_REPO}:v0.9.0" in preview
    assert "-    kubernetes.io/change-cause: hunter-console deploy v1.1.0" in preview
    assert image(seeded) == f"{IMAGE_REPO}:v1.1.0"  # a dry run changes nothing

    _, outcome = await collect(ex.rollback(to_revision=1))
    assert outcome.ok and outcome.detail["new_revision"] == 4, outcome
    assert image(seeded) == f"{IMAGE_REPO}:v0.9.0"
    assert await ex.current_version() == "v0.9.0"
    history = {h["revision"]: h for h in await ex.revision_history()}
    assert sorted(history) == [2, 3, 4] and history[4]["image"] == f"{IMAGE_REPO}:v0.9.0"
    # the Deployment's annotations came from the ReplicaSet (revision 1 had no change-cause)
    assert "kubernetes.io/change-cause" not in seeded.get("deployments", DEPLOYMENT)["metadata"]["annotations"]

    _, skipped = await collect(ex.rollback(to_revision=4))
    assert skipped.ok and skipped.detail["skipped"]
    assert "skipped rollback (current template already matches revision 4)" in skipped.message
    assert "skipped rollback" in await ex.rollback_preview(to_revision=4)

    _, missing = await collect(ex.rollback(to_revision=9))
    assert not missing.ok and "unable to find the specified revision 9" in missing.message

    # the plain undo goes to the previous revision (3 = v1.1.0)
    _, outcome = await collect(ex.rollback())
    assert outcome.ok and outcome.detail["to_revision"] == 3 and image(seeded) == f"{IMAGE_REPO}:v1.1.0"


async def test_undo_refused_without_history_and_when_paused(seeded, make_executor):
    ex = make_executor()
    _, outcome = await collect(ex.rollback())
    assert not outcome.ok and outcome.message == \
        f'rollback refused: no rollout history found for deployment "{DEPLOYMENT}"'
    assert await ex.rollback_target() is None
    with pytest.raises(ExecutorError, match="no rollout history"):
        await ex.rollback_preview()

    _, deployed = await collect(ex.deploy("v1.0.0"))
    assert deployed.ok
    seeded.patch_deployment(lambda d: d["spec"].__setitem__("paused", True))
    _, outcome = await collect(ex.rollback())
    assert not outcome.ok and "you cannot rollback a paused deployment" in outcome.message
    assert f"kubectl rollout resume deployment/{DEPLOYMENT}" in outcome.message
    assert image(seeded) == f"{IMAGE_REPO}:v1.0.0"


async def test_migration_job_succeeds(seeded, make_executor):
    ex = make_executor()
    events, outcome = await collect(ex.run(["alembic", "upgrade", "head"]))
    assert outcome.ok and outcome.exit_code == 0, outcome
    job_name = outcome.detail["job"]
    lines = [e for e in events if isinstance(e, LogLine) and e.stream == outcome.detail["pod"]]
    assert any("Running upgrade" in line.text for line in lines)
    job = seeded.get("jobs", job_name)
    spec = job["spec"]
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == f"{IMAGE_REPO}:v0.9.0" and container["command"] == ["alembic", "upgrade", "head"]
    assert spec["backoffLimit"] == 0 and spec["template"]["spec"]["restartPolicy"] == "Never"
    # the service's environment, secrets as references (never values)
    assert {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "hunter-db", "key": "url"}}} \
        in container["env"]
    assert "app" not in spec["template"]["metadata"]["labels"]  # no Service routes to it
    assert any(c["type"] == "Complete" for c in job["status"]["conditions"])
    assert outcome.detail["job_condition"] == "Complete"


async def test_failing_migration_job_reports_exit_code_and_streams_its_log(seeded, make_executor):
    ex = make_executor()
    events, outcome = await collect(ex.run(["alembic", "upgrade", "head"], env={"FAIL_MIGRATION": "1"}))
    assert not outcome.ok and outcome.exit_code == 1
    assert "alembic upgrade head exited with 1 in job.batch/" in outcome.message
    lines = [e.text for e in events if isinstance(e, LogLine) and e.stream == outcome.detail["pod"]]
    assert lines[:2] == ["INFO  [alembic.runtime.migration] Context impl PostgresqlImpl.",
                         "INFO  [alembic.runtime.migration] Will assume transactional DDL."]
    assert any("DuplicateColumn" in t for t in lines)
    job = seeded.get("jobs", outcome.detail["job"])
    assert any(c["type"] == "Failed" for c in job["status"]["conditions"])
    assert outcome.detail["job_condition"] == "Failed" and outcome.detail["job_reason"] == "BackoffLimitExceeded"


async def test_job_survives_the_console_and_can_be_followed_again(seeded, make_executor):
    ex = make_executor()
    stream = ex.run(["alembic", "upgrade", "head"])
    first = await anext(stream)
    assert first.stream == "job" and "created" in first.text
    job_name = first.text.split()[0].removeprefix("job.batch/")
    await stream.aclose()  # the console goes away
    assert seeded.get("jobs", job_name) is not None
    events, outcome = await collect(make_executor().follow_job(job_name))
    assert outcome.ok and outcome.exit_code == 0 and "alembic upgrade head exited with 0" in outcome.message


async def test_logs_follow_pods_with_the_pod_name_as_stream(seeded, make_executor):
    ex = make_executor()
    pods = {p["metadata"]["name"] for p in seeded.items("pods", "app=hunter-api")}
    assert len(pods) == 2
    seen: dict[str, list[str]] = {}
    stream = ex.logs(follow=True)
    async with asyncio.timeout(10):
        async for line in stream:
            seen.setdefault(line.stream, []).append(line.text)
            if set(seen) == pods and all(len(v) >= 4 for v in seen.values()):
                break
    await stream.aclose()
    assert set(seen) == pods
    for lines in seen.values():
        assert lines[0] == f"starting {IMAGE_REPO}:v0.9.0" and "GET /healthz/ready 200" in lines

    lines = [line async for line in ex.logs(follow=False)]
    assert {line.stream for line in lines} == pods and len(lines) == 8


async def test_logs_follow_new_pods_of_a_rollout(seeded, make_executor):
    ex = make_executor()
    seen: set[str] = set()

    async def follow():
        async for line in ex.logs(follow=True):
            if "v1.0.0" in line.text:
                seen.add(line.stream)
                if len(seen) == 2:
                    return

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.3)
    _, outcome = await collect(make_executor().deploy("v1.0.0"))
    assert outcome.ok
    await asyncio.wait_for(follower, 10)
    assert all(name.startswith(DEPLOYMENT + "-") for name in seen)


async def test_deploy_applies_the_manifest_server_side(cluster, make_executor, tmp_path: Path):
    manifest = deployment_manifest("v0.0.0-placeholder")
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "hunter-api", "namespace": NAMESPACE},
               "spec": {"selector": {"app": "hunter-api"}, "ports": [{"port": 80, "targetPort": 8000}]}}
    path = tmp_path / "deployment.yaml"
    path.write_text("---\n" + json.dumps(manifest) + "\n---\n" + json.dumps(service) + "\n")
    ex = make_executor(manifest=path)
    events, outcome = await collect(ex.deploy("v1.0.0"))  # creates it: the first apply
    assert outcome.ok, outcome
    assert any(isinstance(e, LogLine) and "serverside-applied" in e.text for e in events)
    assert cluster.get("services", "hunter-api") is not None
    _, outcome = await collect(ex.deploy("v1.0.1"))
    assert outcome.ok and "revision 2" in outcome.message
    assert image(cluster) == f"{IMAGE_REPO}:v1.0.1"
    applies = [p for m, p, ct in cluster.sim.requests if m == "PATCH" and ct == "application/apply-patch+yaml"]
    assert len(applies) == 4


async def test_stop_scales_to_zero(seeded, make_executor):
    ex = make_executor()
    await ex.stop()
    assert seeded.items("pods", "app=hunter-api") == []
    assert await ex.current_version() is None
