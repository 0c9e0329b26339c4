"""Fixtures for the KubernetesExecutor tests: a simulated API server (tests/kubernetes/simulated_apiserver.py,
NOT a real cluster) per test, the real kubernetes client pointed at it, and a seeded Deployment."""

from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from k8s_testlib import ADMIN_TOKEN, DEPLOYMENT, IMAGE_REPO, NAMESPACE, VIEWER_TOKEN, Cluster, configuration, deployment_manifest
from simulated_apiserver import SimulatedApiServer, SimulatedCluster


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    server = SimulatedApiServer(SimulatedCluster(
        tick=0.05, tokens={ADMIN_TOKEN: "admin", VIEWER_TOKEN: "viewer"})).start()
    try:
        yield Cluster(server)
    finally:
        server.stop()


@pytest.fixture
def seeded(cluster: Cluster) -> Cluster:
    """A cluster with the Hunter API at v0.9.0 (revision 1), 2 replicas, rolled out."""
    cluster.create("deployments", deployment_manifest())
    cluster.wait_rolled_out()
    return cluster


@pytest.fixture
def make_executor(cluster: Cluster) -> Iterator[Callable[..., Any]]:
    from hunter_console.executors.kubernetes import KubernetesExecutor

    made = []

    def make(token: str = ADMIN_TOKEN, url: str | None = None, **kwargs: Any) -> KubernetesExecutor:
        kwargs.setdefault("rollout_timeout_s", 20)
        kwargs.setdefault("run_timeout_s", 20)
        ex = KubernetesExecutor(DEPLOYMENT, namespace=NAMESPACE, container="api", image_repo=IMAGE_REPO,
                                configuration=configuration(url or cluster.url, token), **kwargs)
        made.append(ex)
        return ex

    yield make
    for ex in made:
        ex.api.close()
