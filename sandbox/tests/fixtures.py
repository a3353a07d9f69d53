"""A running Kubernetes sandbox for tests, without the catalog: clusters are built explicitly."""

from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.kube_seed import service_add
from sandbox.runner import start_sandbox


@dataclass
class KubeSandbox:
    url: str
    kubeconfig: Path
    clusters: object  # sandbox.kubernetes.ClusterSet

    def cluster_url(self, name: str) -> str:
        return f"{self.url}/clusters/{name}"


@pytest.fixture
def kube_sandbox(tmp_path, settings):
    """Sandbox with clusters `staging` and `production`, namespace `shop`: services `checkout`
    (HPA 2-6 at 70% CPU, Rollout `checkout-canary`) and `cart` (no HPA), converged."""
    settings.SANDBOX_KUBERNETES_SEED = False
    running = start_sandbox(directory=tmp_path / "sandbox", names=["kubernetes"])
    clusters = running.state.shared["kubernetes"]
    clusters.ready_delay = 0.4
    for environment in ("staging", "production"):
        cluster = clusters.add(environment, namespace="shop")
        cluster.step_delay = 0.2
        service_add(
            cluster, "shop", "checkout", version="2.3.1", hpa=(2, 6, 70), rollout="checkout-canary"
        )
        service_add(cluster, "shop", "cart", version="1.4.0", replicas=3)
        cluster.settle()
    try:
        yield KubeSandbox(running.endpoints["kubernetes"], clusters.kubeconfig, clusters)
    finally:
        running.stop()
