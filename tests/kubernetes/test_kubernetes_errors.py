"""Failures say one clear line, never a traceback: API server unreachable, 401, 403; and the factory
wiring from an environment's executor_settings (kubeconfig + context)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from k8s_testlib import ADMIN_TOKEN, DEPLOYMENT, IMAGE_REPO, NAMESPACE, VIEWER_TOKEN

from hunter_console.config import Environment
from hunter_console.events import Outcome
from hunter_console.executors.base import ExecutorError
from hunter_console.executors.factory import executor_for

pytestmark = pytest.mark.timeout(60)


async def outcome_of(stream) -> Outcome:
    events = [e async for e in stream]
    assert isinstance(events[-1], Outcome) and sum(isinstance(e, Outcome) for e in events) == 1
    return events[-1]


def one_clear_line(text: str) -> None:
    assert "\n" not in text and "Traceback" not in text and len(text) < 400, text


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_api_server(make_executor):
    port = closed_port()
    ex = make_executor(url=f"http://127.0.0.1:{port}")
    expected = f"cannot reach the Kubernetes API at http://127.0.0.1:{port}: connection refused"
    for stream in (ex.deploy("v1.0.0"), ex.rollback(), ex.run(["alembic", "upgrade", "head"])):
        outcome = await outcome_of(stream)
        assert not outcome.ok and outcome.message.endswith(expected), outcome.message
        one_clear_line(outcome.message)
    for call in (ex.current_version(), ex.rollback_target(), ex.revision_history(), ex.rollback_preview()):
        with pytest.raises(ExecutorError) as caught:
            await call
        assert str(caught.value) == expected
    with pytest.raises(ExecutorError, match="connection refused"):
        async for _ in ex.logs():
            pass


async def test_wrong_token_is_401(seeded, make_executor):
    ex = make_executor(token="not-the-token")
    outcome = await outcome_of(ex.deploy("v1.0.0"))
    assert not outcome.ok and outcome.message.endswith("the Kubernetes API refused our credentials (401)")
    one_clear_line(outcome.message)
    with pytest.raises(ExecutorError) as caught:
        await ex.current_version()
    assert str(caught.value) == "the Kubernetes API refused our credentials (401)"
    assert seeded.get("deployments", DEPLOYMENT)["spec"]["template"]["spec"]["containers"][0]["image"] == \
        f"{IMAGE_REPO}:v0.9.0"


async def test_read_only_role_is_403_with_the_reason(seeded, make_executor):
    ex = make_executor(token=VIEWER_TOKEN)
    assert await ex.current_version() == "v0.9.0"  # reading is allowed
    outcome = await outcome_of(ex.deploy("v1.0.0"))
    assert not outcome.ok
    assert outcome.message.endswith(
        f'forbidden (403): deployments.apps "{DEPLOYMENT}" is forbidden: User "system:serviceaccount:ci:viewer" '
        f'cannot patch resource "deployments" in API group "apps" in the namespace "{NAMESPACE}"'), outcome.message
    one_clear_line(outcome.message)
    outcome = await outcome_of(ex.run(["alembic", "upgrade", "head"]))
    assert not outcome.ok and "forbidden (403): jobs.batch is forbidden" in outcome.message
    assert "cannot create resource" in outcome.message
    one_clear_line(outcome.message)


async def test_missing_deployment_is_one_line(cluster, make_executor):
    ex = make_executor()
    outcome = await outcome_of(ex.deploy("v1.0.0"))
    assert outcome.message.endswith(f"deployment/{DEPLOYMENT} not found in namespace {NAMESPACE}")


def kubeconfig(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(f"""
apiVersion: v1
kind: Config
clusters:
- name: simulated
  cluster: {{server: "{url}"}}
users:
- name: release
  user: {{token: {ADMIN_TOKEN}}}
- name: stranger
  user: {{token: nobody}}
contexts:
- name: release@simulated
  context: {{cluster: simulated, user: release, namespace: {NAMESPACE}}}
- name: stranger@simulated
  context: {{cluster: simulated, user: stranger}}
current-context: stranger@simulated
""")
    return path


async def test_factory_builds_it_from_kubeconfig_and_context(seeded, tmp_path: Path):
    settings = {"kubeconfig": str(kubeconfig(tmp_path, seeded.url)), "context": "release@simulated",
                "namespace": NAMESPACE, "deployment": DEPLOYMENT, "container": "api", "image_repo": IMAGE_REPO,
                "rollout_timeout_s": 20}
    ex = executor_for(Environment(name="production", executor="kubernetes", executor_settings=settings))
    try:
        assert await ex.current_version() == "v0.9.0"
        assert (await ex.revision_history())[0]["revision"] == 1
    finally:
        await ex.aclose()
    # the current context's user is refused: the context setting is what chose the credentials
    ex = executor_for(Environment(name="production", executor="kubernetes",
                                  executor_settings={**settings, "context": None}))
    with pytest.raises(ExecutorError, match=r"refused our credentials \(401\)"):
        await ex.current_version()


async def test_factory_errors_are_one_line(tmp_path: Path):
    with pytest.raises(ExecutorError, match="executor_settings.deployment"):
        executor_for(Environment(name="production", executor="kubernetes", executor_settings={}))
    ex = executor_for(Environment(name="production", executor="kubernetes",
                                  executor_settings={"deployment": DEPLOYMENT, "kubeconfig": str(tmp_path / "nope")}))
    with pytest.raises(ExecutorError) as caught:
        await ex.current_version()
    assert str(caught.value).startswith(f"cannot load kubeconfig {tmp_path / 'nope'}")
    one_clear_line(str(caught.value))
    outcome = await outcome_of(ex.deploy("v1.0.0"))
    assert not outcome.ok and "cannot load kubeconfig" in outcome.message


async def test_exec_mode_failure_is_one_line(seeded, make_executor):
    """The simulation has no exec (no websocket): run_mode="exec" must still fail in one line."""
    ex = make_executor(run_mode="exec")
    outcome = await outcome_of(ex.run(["alembic", "current"]))
    assert not outcome.ok and outcome.message.startswith("alembic current: exec failed:")
    one_clear_line(outcome.message)
