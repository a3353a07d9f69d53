"""A catalog that matches the Kubernetes sandbox's `shop` namespace, with guardrails."""

import pytest
import yaml

from catalog.models import Component, ComponentEnvironment, Environment
from deployments.models import ControlPolicy
from portal.models import TeamMembership
from sandbox.tests.fixtures import kube_sandbox  # noqa: F401


@pytest.fixture
def shop(kube_sandbox, settings, payments):  # noqa: F811
    """staging + production (namespace shop) with `cart` (3 replicas) and `checkout` (HPA 2-6),
    owned by payments; default guardrails in both environments."""
    settings.KUBECONFIG = str(kube_sandbox.kubeconfig)
    envs = {
        "staging": Environment.objects.create(name="staging", order=1, kube_namespace="shop"),
        "production": Environment.objects.create(
            name="production", order=2, is_production=True, kube_namespace="shop"
        ),
    }
    components = {}
    for name in ("cart", "checkout"):
        components[name] = Component.objects.create(name=name, owner=payments)
        for env in envs.values():
            ComponentEnvironment.objects.create(
                component=components[name], environment=env, kube_deployment=name
            )
    policies = {
        name: ControlPolicy.objects.create(
            environment=env,
            replicas_enabled=True,
            replicas_min=1,
            replicas_max=6,
            replicas_roles=["owner_team", "sre"],
            hpa_enabled=True,
            hpa_min_from=1,
            hpa_min_to=4,
            hpa_max_from=2,
            hpa_max_to=10,
            cpu_from=50,
            cpu_to=85,
            hpa_roles=["owner_team", "sre"],
            restart_enabled=True,
            restart_roles=["owner_lead", "sre"],
        )
        for name, env in envs.items()
    }
    return {
        "sandbox": kube_sandbox,
        "envs": envs,
        "components": components,
        "policies": policies,
        "target": lambda c, e: ComponentEnvironment.objects.select_related(
            "component", "environment"
        ).get(component__name=c, environment__name=e),
        "deployment": lambda e, name: kube_sandbox.clusters.get(e).store.get(
            "deployments", "shop", name
        ),
        "configmap": lambda e, name: kube_sandbox.clusters.get(e).store.get(
            "configmaps", "shop", name
        ),
        "hpa": lambda e, name: kube_sandbox.clusters.get(e).store.get(
            "horizontalpodautoscalers", "shop", name
        ),
    }


@pytest.fixture
def lead(make_user, payments):
    user = make_user("lena")
    TeamMembership.objects.create(user=user, team=payments, role="lead")
    return user


@pytest.fixture
def kube_down(tmp_path, settings):
    """Point the adapter at a kubeconfig whose API server does not answer."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    contexts = [
        {"name": name, "context": {"cluster": "dead", "user": "u", "namespace": "shop"}}
        for name in ("staging", "production")
    ]
    path = tmp_path / "dead-kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "staging",
                "clusters": [{"name": "dead", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
                "contexts": contexts,
                "users": [{"name": "u", "user": {}}],
            }
        )
    )
    settings.KUBECONFIG = str(path)
    settings.INTEGRATION_TIMEOUT_SECONDS = 2
    return path
