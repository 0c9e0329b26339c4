"""An incident on Kubernetes through the session and its runner: a broken image is deployed to
the (simulated) cluster, the rollout misses its deadline, and the rollback — kubectl's rollout
undo — brings the previous revision back; each step audited. The health endpoints answer from a
sandbox process on 127.0.0.1 standing in for the service behind the cluster's ingress."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import httpx
from k8s_testlib import ADMIN_TOKEN, DEPLOYMENT, IMAGE_REPO, NAMESPACE

from hunter_console.config import load_settings
from hunter_console.sandbox import alembic_config
from hunter_console.session import open_session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_sandbox(db, port):
    from alembic import command

    command.upgrade(alembic_config(f"sqlite:///{db}"), "head")
    proc = subprocess.Popen([sys.executable, "-m", "hunter_console.sandbox", "serve", "--version", "v1.0.0",
                             "--port", str(port), "--database-url", f"sqlite:///{db}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz/ready", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("the stand-in service did not get ready")


async def run_to_end(session, name, **kwargs):
    started = await session.start_action(name, **kwargs)
    return [e async for e in session.follow(started.run_id)][-1]


def test_broken_rollout_then_rollout_undo_through_the_session(seeded, tmp_path):
    port = free_port()
    service = serve_sandbox(tmp_path / "hunter.db", port)
    try:
        (tmp_path / "kubeconfig").write_text(f"""
apiVersion: v1
kind: Config
clusters: [{{name: simulated, cluster: {{server: "{seeded.url}"}}}}]
users: [{{name: release, user: {{token: {ADMIN_TOKEN}}}}}]
contexts: [{{name: release@simulated, context: {{cluster: simulated, user: release, namespace: {NAMESPACE}}}}}]
current-context: release@simulated
""")
        (tmp_path / "service.env").write_text(f"DATABASE_URL=sqlite:///{tmp_path / 'hunter.db'}\n")
        (tmp_path / "hunter.toml").write_text(f"""
[console]
audit = "audit.db"
[environments.production]
base_url = "http://127.0.0.1:{port}"
executor = "kubernetes"
production = true
env_file = "service.env"
[environments.production.executor_settings]
kubeconfig = "{tmp_path / 'kubeconfig'}"
context = "release@simulated"
namespace = "{NAMESPACE}"
deployment = "{DEPLOYMENT}"
container = "api"
image_repo = "{IMAGE_REPO}"
rollout_timeout_s = 20
""")
        session = open_session(load_settings(tmp_path / "hunter.toml", operator="kim", environ={}))
        end = asyncio.run(run_to_end(session, "deploy", params={"version": "v1.0.0-broken"}, confirm="production",
                                     override="drill: no backup in this test"))
        assert end.status == "failed" and "exceeded its progress deadline" in end.outcome.message, end.outcome.message
        plan = asyncio.run(session.rollback_plan())
        assert plan.app.startswith("undo to revision 1 running image") and "v0.9.0" in plan.app
        end = asyncio.run(run_to_end(session, "rollback", confirm="production"))
        assert end.status == "ok", end.outcome.message
        deployment = seeded.get("deployments", DEPLOYMENT)
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v0.9.0")
        kinds = [r.kind for r in session.audit.events()]
        assert kinds.count("action.start") == 2 and kinds.count("action.end") == 2
        assert session.audit.verify().ok
    finally:
        service.kill()
        service.wait()
