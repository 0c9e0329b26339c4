"""Helpers for the KubernetesExecutor tests: the seeded Deployment's manifest, a handle on the simulated
API server (tests/kubernetes/simulated_apiserver.py, a simulation, NOT a real cluster), a client configuration."""

from __future__ import annotations

import time
from typing import Any, Callable

from simulated_apiserver import SimulatedApiServer

NAMESPACE = "hunter"
DEPLOYMENT = "dyn365hunter-api"
IMAGE_REPO = "registry.local/hunter-api"
ADMIN_TOKEN = "admin-token-0123456789"
VIEWER_TOKEN = "viewer-token-0123456789"


def deployment_manifest(version: str = "v0.9.0", *, replicas: int = 2, deadline_s: int = 2, **extra: Any) -> dict:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE, "labels": {"app": "hunter-api"}},
        "spec": {
            "replicas": replicas, "progressDeadlineSeconds": deadline_s,
            "selector": {"matchLabels": {"app": "hunter-api"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "hunter-api"}},
                "spec": {"containers": [{
                    "name": "api", "image": f"{IMAGE_REPO}:{version}",
                    "env": [{"name": "LOG_LEVEL", "value": "INFO"},
                            {"name": "SCRIPTED_LOGS", "value": "GET /healthz/live 200|GET /healthz/ready 200"},
                            {"name": "DATABASE_URL",
                             "valueFrom": {"secretKeyRef": {"name": "hunter-db", "key": "url"}}}],
                }]},
            },
            **extra,
        },
    }


class Cluster:
    """The test's handle on the simulation: its URL, direct access to its state, waits."""

    def __init__(self, server: SimulatedApiServer) -> None:
        self.server = server
        self.sim = server.cluster
        self.url = server.url

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return self.server.call(fn, *args)

    def get(self, resource: str, name: str) -> dict | None:
        import copy

        return self.call(lambda: copy.deepcopy(self.sim.get(resource, NAMESPACE, name)))

    def items(self, resource: str, selector: str | None = None) -> list[dict]:
        import copy

        return self.call(lambda: copy.deepcopy(self.sim.items(resource, NAMESPACE, selector)))

    def create(self, resource: str, obj: dict) -> dict:
        return self.call(lambda: self.sim.create(resource, NAMESPACE, obj))

    def patch_deployment(self, change: Callable[[dict], None]) -> None:
        def apply() -> None:
            d = self.sim.get("deployments", NAMESPACE, DEPLOYMENT)
            change(d)
            self.sim.update("deployments", d)

        self.call(apply)

    def wait_rolled_out(self, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = self.get("deployments", DEPLOYMENT)
            s = d.get("status", {})
            if (s.get("observedGeneration") == d["metadata"]["generation"] and s.get("updatedReplicas") ==
                    d["spec"]["replicas"] == s.get("availableReplicas") == s.get("replicas")):
                return d
            time.sleep(0.05)
        raise AssertionError(f"the seeded deployment did not roll out: {d.get('status')}")


def configuration(url: str, token: str = ADMIN_TOKEN) -> Any:
    from kubernetes import client

    config = client.Configuration(host=url, api_key={"authorization": f"Bearer {token}"})
    config.retries = 0
    return config
