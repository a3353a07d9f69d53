"""KubernetesAdapter on the official client against the Kubernetes sandbox (no mocks)."""

import socket
import time

import pytest
import yaml

from integrations.errors import IntegrationError
from integrations.kubernetes import KubernetesAdapter, kubernetes_adapter


@pytest.fixture
def adapter(kube_sandbox):
    return KubernetesAdapter(kubeconfig=kube_sandbox.kubeconfig, timeout=5)


@pytest.fixture
def staging(kube_sandbox):
    return kube_sandbox.clusters.get("staging")


def _kubeconfig_for(tmp_path, server: str):
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "staging",
                "clusters": [{"name": "c", "cluster": {"server": server}}],
                "contexts": [{"name": "staging", "context": {"cluster": "c", "user": "u"}}],
                "users": [{"name": "u", "user": {}}],
            }
        )
    )
    return path


def test_deployment_get_describes_image_replicas_resources_and_hpa(adapter):
    info = adapter.deployment_get("staging", "shop", "checkout")
    assert (info.image, info.tag) == ("registry.example.com/checkout:2.3.1", "2.3.1")
    assert (info.replicas_desired, info.replicas_ready, info.replicas_available) == (2, 2, 2)
    assert info.rolled_out
    assert info.strategy == "RollingUpdate" and info.max_surge == "25%"
    container = info.containers[0]
    assert (container.resources.cpu_request, container.resources.memory_limit) == ("250m", "256Mi")
    assert (info.hpa.min_replicas, info.hpa.max_replicas, info.hpa.target_cpu_utilization) == (
        2,
        6,
        70,
    )
    assert 0 < info.hpa.current_cpu_utilization <= 100
    assert adapter.deployment_get("staging", "shop", "cart").hpa is None


def test_env_vars_name_secret_and_configmap_references_without_values(adapter):
    env = {
        var.name: var for var in adapter.deployment_get("staging", "shop", "cart").containers[0].env
    }
    password = env["DATABASE_PASSWORD"]
    assert (password.value, password.redacted, password.source) == (None, True, "secret")
    assert (password.ref_name, password.ref_key) == ("cart-credentials", "password")
    flags = env["FEATURE_FLAGS"]
    assert (flags.source, flags.ref_name, flags.redacted) == ("configmap", "cart-runtime", False)
    assert env["LOG_LEVEL"].value == "info"
    env_from = adapter.deployment_get("staging", "shop", "cart").containers[0].env_from
    assert [(e.kind, e.name) for e in env_from] == [("configmap", "cart-runtime")]


def test_recent_restarts_come_from_pod_statuses(adapter, staging):
    pod = staging.store.list("pods", "shop", "app.kubernetes.io/name=cart")[0]["metadata"]["name"]
    staging.pod_restart("shop", pod, reason="OOMKilled", exit_code=137)
    staging.pod_restart("shop", pod, reason="OOMKilled", exit_code=137)
    restarts = adapter.deployment_get("staging", "shop", "cart").restarts
    assert [(r.pod, r.restart_count, r.last_reason) for r in restarts] == [(pod, 2, "OOMKilled")]
    assert restarts[0].last_finished_at is not None


def test_deployment_scale_uses_the_scale_subresource(adapter, staging):
    scale = adapter.deployment_scale("staging", "shop", "cart", 5)
    assert (scale.name, scale.replicas) == ("cart", 5)
    assert scale.selector == "app.kubernetes.io/name=cart"
    assert staging.store.get("deployments", "shop", "cart")["spec"]["replicas"] == 5
    untouched = adapter.deployment_get("production", "shop", "cart")
    assert untouched.replicas_desired == 3


def test_deployment_restart_sets_restarted_at_and_rolls_pods(adapter, staging):
    before = {rs["metadata"]["name"] for rs in staging.store.list("replicasets", "shop")}
    stamp = adapter.deployment_restart("staging", "shop", "cart")
    info = adapter.deployment_get("staging", "shop", "cart")
    assert info.restarted_at == stamp
    assert info.generation == 2 and not info.rolled_out
    after = {rs["metadata"]["name"] for rs in staging.store.list("replicasets", "shop")}
    assert len(after - before) == 1
    staging.settle()
    assert adapter.deployment_get("staging", "shop", "cart").rolled_out


def test_hpa_patch_changes_bounds_and_cpu_target(adapter, staging):
    hpa = adapter.hpa_patch(
        "staging", "shop", "checkout", min_replicas=3, max_replicas=8, target_cpu_utilization=55
    )
    assert (hpa.min_replicas, hpa.max_replicas, hpa.target_cpu_utilization) == (3, 8, 55)
    stored = staging.store.get("horizontalpodautoscalers", "shop", "checkout")["spec"]
    assert len(stored["metrics"]) == 1
    # The HPA now holds the deployment at its new minimum.
    staging.advance(time.time() + 2)
    assert staging.store.get("deployments", "shop", "checkout")["spec"]["replicas"] == 3


def test_hpa_patch_refused_out_of_range_is_not_transient(adapter, staging):
    with pytest.raises(IntegrationError) as caught:
        adapter.hpa_patch("staging", "shop", "checkout", min_replicas=9, max_replicas=4)
    assert caught.value.transient is False and caught.value.status == 422
    assert "maxReplicas" in caught.value.message
    assert (
        staging.store.get("horizontalpodautoscalers", "shop", "checkout")["spec"]["maxReplicas"]
        == 6
    )


def test_configmap_merge_keeps_other_keys_and_deletes_with_none(adapter):
    merged = adapter.configmap_merge(
        "staging",
        "shop",
        "cart-runtime",
        {"LOG_SAMPLING_RATE": "1.0", "features": None, "new": "x"},
    )
    assert merged.data == {"LOG_SAMPLING_RATE": "1.0", "config.json": "{}", "new": "x"}
    assert adapter.configmap_get("staging", "shop", "cart-runtime").data == merged.data


def test_missing_object_is_a_permanent_error(adapter):
    with pytest.raises(IntegrationError) as caught:
        adapter.deployment_get("staging", "shop", "nope")
    assert (caught.value.transient, caught.value.status) == (False, 404)
    assert 'deployments.apps "nope" not found' in caught.value.message


def test_unknown_environment_context_is_a_permanent_error(adapter):
    with pytest.raises(IntegrationError) as caught:
        adapter.deployment_get("qa", "shop", "cart")
    assert caught.value.transient is False
    assert "qa" in caught.value.message


def test_api_down_is_a_transient_error(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = KubernetesAdapter(kubeconfig=_kubeconfig_for(tmp_path, f"http://127.0.0.1:{port}"))
    with pytest.raises(IntegrationError) as caught:
        adapter.deployment_get("staging", "shop", "cart")
    assert caught.value.transient is True
    assert "unreachable" in caught.value.message


def test_timeout_is_honoured_and_transient(tmp_path):
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        server = f"http://127.0.0.1:{silent.getsockname()[1]}"
        adapter = KubernetesAdapter(kubeconfig=_kubeconfig_for(tmp_path, server), timeout=0.5)
        started = time.monotonic()
        with pytest.raises(IntegrationError) as caught:
            adapter.configmap_get("staging", "shop", "cart-runtime")
        assert time.monotonic() - started < 10
    assert caught.value.transient is True


def test_rollout_get_and_status_patch_drive_the_canary(adapter, staging):
    rollout = adapter.rollout_get("staging", "shop", "checkout-canary")
    assert (rollout.phase, rollout.current_step_index, len(rollout.steps)) == ("Healthy", 7, 7)
    assert rollout.stable_rs == rollout.current_pod_hash
    changed = adapter.rollout_patch_spec(
        "staging",
        "shop",
        "checkout-canary",
        {"template": {"metadata": {"annotations": {"release": "42"}}}},
    )
    assert changed.current_pod_hash != changed.stable_rs
    deadline = time.monotonic() + 10
    while not (rollout := adapter.rollout_get("staging", "shop", "checkout-canary")).paused:
        assert time.monotonic() < deadline, rollout
        time.sleep(0.1)
    assert (rollout.current_step_index, rollout.canary_weight) == (1, 5)
    assert rollout.pause_reasons == ("CanaryPauseStep",)
    promoted = adapter.rollout_patch_status(
        "staging", "shop", "checkout-canary", {"pauseConditions": None}
    )
    assert (promoted.pause_reasons, promoted.current_step_index) == ((), 2)
    staging.advance(time.time() + 1)  # step 2 sets the weight to 25%
    rollout = adapter.rollout_get("staging", "shop", "checkout-canary")
    assert (rollout.current_step_index, rollout.canary_weight) == (3, 25)
    full = adapter.rollout_patch_status("staging", "shop", "checkout-canary", {"promoteFull": True})
    assert full.phase == "Healthy" and full.stable_rs == full.current_pod_hash


def test_rollout_abort_degrades(adapter):
    adapter.rollout_patch_spec(
        "staging",
        "shop",
        "checkout-canary",
        {"template": {"metadata": {"annotations": {"release": "43"}}}},
    )
    aborted = adapter.rollout_patch_status("staging", "shop", "checkout-canary", {"abort": True})
    assert (aborted.phase, aborted.aborted, aborted.canary_weight) == ("Degraded", True, 0)


@pytest.mark.django_db
def test_factory_reads_settings_and_environment_contexts(kube_sandbox, settings):
    from catalog.models import Environment
    from catalog.selectors import environment_kube_contexts

    Environment.objects.create(name="stage", kube_context="staging")
    settings.KUBECONFIG = str(kube_sandbox.kubeconfig)
    adapter = kubernetes_adapter(contexts=environment_kube_contexts())
    assert adapter.deployment_get("stage", "shop", "cart").name == "cart"


def test_factory_without_kubeconfig_says_what_to_configure(settings, tmp_path):
    settings.KUBECONFIG = str(tmp_path / "missing")
    with pytest.raises(IntegrationError) as caught:
        kubernetes_adapter(contexts={})
    assert "KUBERNETES_KUBECONFIG" in caught.value.message and not caught.value.transient


def test_a_service_running_as_a_rollout_is_read_scaled_and_restarted(adapter, staging):
    info = adapter.deployment_get("staging", "shop", "checkout-canary")
    assert (info.kind, info.tag, info.strategy) == ("Rollout", "2.3.1", "Canary")
    assert info.running_tags == ("2.3.1",) and info.replicas_desired == 3
    assert adapter.deployment_scale("staging", "shop", "checkout-canary", 5).replicas == 5
    deadline = time.monotonic() + 10
    while len(staging.store.list("pods", "shop", "app.kubernetes.io/name=checkout-canary")) < 5:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    before = {p["metadata"]["name"] for p in staging.store.list("pods", "shop")}
    time.sleep(1.1)  # restartAt has a resolution of one second
    stamp = adapter.deployment_restart("staging", "shop", "checkout-canary")
    assert adapter.deployment_get("staging", "shop", "checkout-canary").restarted_at == stamp
    uid = staging.store.get("rollouts", "shop", "checkout-canary")["metadata"]["uid"]
    owned = staging.store.list("replicasets", "shop", owner_uid=uid)
    pods = [
        p["metadata"]["name"]
        for rs in owned
        for p in staging.store.list("pods", "shop", owner_uid=rs["metadata"]["uid"])
    ]
    assert len(pods) == 5 and not before & set(pods)  # every pod of the Rollout replaced
