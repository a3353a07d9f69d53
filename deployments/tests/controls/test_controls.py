"""Knob changes within the guardrails, against the Kubernetes sandbox (no mocks)."""

import pytest

from deployments.controls import tasks
from deployments.controls.selectors import control_live, control_warnings
from deployments.controls.services import (
    ConfirmationNeeded,
    KubernetesUnavailable,
    control_request,
)
from deployments.models import ControlAction, ControlPolicy
from portal.errors import PermissionDenied, ValidationFailed
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db


def scale(shop, actor, replicas, env="staging", name="cart", **extra):
    extra.setdefault("reason", "more traffic expected")
    return control_request(
        actor=actor,
        target=shop["target"](name, env),
        kind="scale",
        params={"replicas": replicas},
        **extra,
    )


def test_owner_scales_staging_within_range_and_the_cluster_follows(
    shop, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        action = scale(shop, owner, 5)
    action.refresh_from_db()
    assert action.state == "done" and action.message == "Replicas set to 5."
    assert action.before == {"replicas": 3}
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 5
    event = AuditEvent.objects.get(action="control.scale")
    assert event.reason == "more traffic expected" and event.after == {"replicas": 5}
    assert event.actor == owner and event.environment == "staging"


def test_out_of_range_is_refused_and_nothing_reaches_the_cluster(shop, owner):
    version = shop["deployment"]("staging", "cart")["metadata"]["resourceVersion"]
    with pytest.raises(ValidationFailed, match="outside the allowed range 1–6"):
        scale(shop, owner, 9)
    with pytest.raises(ValidationFailed, match="whole number"):
        scale(shop, owner, "lots")
    deployment = shop["deployment"]("staging", "cart")
    assert deployment["metadata"]["resourceVersion"] == version
    assert deployment["spec"]["replicas"] == 3
    assert not ControlAction.objects.exists()


def test_other_team_is_refused_in_production_and_the_refusal_is_audited(shop, outsider):
    with pytest.raises(PermissionDenied):
        scale(shop, outsider, 4, env="production", confirmed=True)
    assert AuditEvent.objects.get().outcome == "denied"
    assert not ControlAction.objects.exists()
    assert shop["deployment"]("production", "cart")["spec"]["replicas"] == 3


def test_other_teams_may_scale_staging_only_where_the_policy_opens_it(
    shop, outsider, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied):
        scale(shop, outsider, 4)
    shop["policies"]["staging"].replicas_roles = ["owner_team", "other_teams"]
    shop["policies"]["staging"].save()
    with django_capture_on_commit_callbacks(execute=True):
        scale(shop, outsider, 4)
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 4


def test_a_policy_cannot_open_production_to_other_teams(shop, outsider):
    shop["policies"]["production"].replicas_roles = ["other_teams"]
    shop["policies"]["production"].save()
    with pytest.raises(PermissionDenied):
        scale(shop, outsider, 4, env="production", confirmed=True)


def test_restart_is_for_leads_and_sres_here_not_plain_members(
    shop, owner, lead, sre, django_capture_on_commit_callbacks
):
    target = shop["target"]("cart", "staging")
    with pytest.raises(PermissionDenied):
        control_request(actor=owner, target=target, kind="restart", reason="stuck")
    with django_capture_on_commit_callbacks(execute=True):
        control_request(actor=sre, target=target, kind="restart", reason="stuck pods")
    template = shop["deployment"]("staging", "cart")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    assert ControlAction.objects.get(kind="restart").state == "done"


def test_no_policy_means_no_knob(shop, sre):
    ControlPolicy.objects.filter(environment__name="staging").delete()
    with pytest.raises(PermissionDenied):
        scale(shop, sre, 2)


def test_a_component_policy_replaces_the_environment_default(shop, owner):
    ControlPolicy.objects.create(
        environment=shop["envs"]["staging"],
        component=shop["components"]["cart"],
        replicas_enabled=True,
        replicas_min=2,
        replicas_max=3,
        replicas_roles=["owner_team"],
    )
    with pytest.raises(ValidationFailed, match="2–3"):
        scale(shop, owner, 5)
    with pytest.raises(PermissionDenied):  # restart is off in the component's own policy
        control_request(
            actor=owner, target=shop["target"]("cart", "staging"), kind="restart", reason="x"
        )


def test_production_asks_for_confirmation_before_anything_is_recorded(
    shop, owner, django_capture_on_commit_callbacks
):
    with pytest.raises(ConfirmationNeeded):
        scale(shop, owner, 4, env="production")
    assert not ControlAction.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        scale(shop, owner, 4, env="production", confirmed=True)
    assert shop["deployment"]("production", "cart")["spec"]["replicas"] == 4


def test_a_reason_is_required(shop, owner):
    with pytest.raises(ValidationFailed, match="reason"):
        scale(shop, owner, 4, reason="  ")


def test_owner_changes_the_autoscaler_within_its_ranges(
    shop, owner, django_capture_on_commit_callbacks
):
    target = shop["target"]("checkout", "staging")
    params = {"min_replicas": 3, "max_replicas": 8, "target_cpu_utilization": 60}
    with django_capture_on_commit_callbacks(execute=True):
        control_request(actor=owner, target=target, kind="hpa", params=params, reason="sale")
    spec = shop["hpa"]("staging", "checkout")["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (3, 8)
    assert spec["metrics"][0]["resource"]["target"]["averageUtilization"] == 60
    action = ControlAction.objects.get()
    assert action.before == {"min_replicas": 2, "max_replicas": 6, "target_cpu_utilization": 70}


def test_autoscaler_bounds_out_of_range_or_crossed_are_refused(shop, owner):
    target = shop["target"]("checkout", "staging")
    bad = [
        ({"min_replicas": 3, "max_replicas": 8, "target_cpu_utilization": 95}, "Target CPU"),
        ({"min_replicas": 5, "max_replicas": 8, "target_cpu_utilization": 60}, "Minimum"),
        ({"min_replicas": 4, "max_replicas": 3, "target_cpu_utilization": 60}, "must not exceed"),
    ]
    for params, message in bad:
        with pytest.raises(ValidationFailed, match=message):
            control_request(actor=owner, target=target, kind="hpa", params=params, reason="x")
    assert shop["hpa"]("staging", "checkout")["spec"]["maxReplicas"] == 6


def test_autoscaler_change_on_a_deployment_without_one_is_refused(shop, owner):
    params = {"min_replicas": 2, "max_replicas": 4, "target_cpu_utilization": 60}
    with pytest.raises(ValidationFailed, match="no autoscaler"):
        control_request(
            actor=owner,
            target=shop["target"]("cart", "staging"),
            kind="hpa",
            params=params,
            reason="x",
        )


def test_warnings_say_when_an_autoscaler_or_argocd_will_undo_a_change(shop):
    checkout, cart = shop["target"]("checkout", "staging"), shop["target"]("cart", "staging")
    policy = shop["policies"]["staging"]
    hpa_warning = control_warnings("scale", policy, control_live(checkout))
    assert "autoscaler checkout controls replicas (2–6)" in hpa_warning[0]
    assert control_warnings("scale", policy, control_live(cart)) == []
    policy.argocd_auto_sync = True
    assert "Argo CD self-heal" in control_warnings("scale", policy, control_live(cart))[0]
    assert control_warnings("restart", policy, control_live(cart)) == []


def test_live_state_describes_the_deployment(shop):
    live = control_live(shop["target"]("checkout", "production"))
    assert live.known and live.info.tag == "2.3.1" and live.info.hpa.max_replicas == 6


def test_api_down_gives_unknown_state_and_refuses_writes_with_a_record(shop, owner, kube_down):
    target = shop["target"]("cart", "staging")
    live = control_live(target)
    assert not live.known and "unreachable" in live.error
    with pytest.raises(KubernetesUnavailable, match="Nothing was sent to the cluster"):
        scale(shop, owner, 4)
    action = ControlAction.objects.get()
    assert action.state == "refused" and "unreachable" in action.message
    assert AuditEvent.objects.get(action="control.scale").outcome == "failed"
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 3


def test_a_second_delivery_of_the_apply_task_changes_nothing(
    shop, sre, django_capture_on_commit_callbacks
):
    target = shop["target"]("cart", "staging")
    with django_capture_on_commit_callbacks(execute=True):
        action = control_request(actor=sre, target=target, kind="restart", reason="stuck")
    annotations = lambda: shop["deployment"]("staging", "cart")["spec"]["template"]["metadata"][  # noqa: E731
        "annotations"
    ]
    first = dict(annotations())
    tasks.control_action_apply(action.pk)  # delivered again, late
    assert annotations() == first
    action.refresh_from_db()
    assert action.state == "done"


def test_an_action_whose_worker_died_is_applied_by_the_recovery_sweep(
    shop, owner, sre, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=False):  # the task is lost
        lost = scale(shop, owner, 4)
    with django_capture_on_commit_callbacks(execute=False):
        restart = control_request(
            actor=sre, target=shop["target"]("cart", "staging"), kind="restart", reason="stuck"
        )
    # The scale was never delivered; the restart's worker died after claiming it.
    ControlAction.objects.filter(pk=restart.pk).update(state="applying")
    ControlAction.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    assert tasks.control_actions_recover() == 1  # only the scale is sent again
    lost.refresh_from_db()
    restart.refresh_from_db()
    assert lost.state == "done"
    assert shop["deployment"]("staging", "cart")["spec"]["replicas"] == 4
    assert restart.state == "failed" and "check the pods" in restart.message
    assert tasks.control_actions_recover() == 0  # nothing left: a late sweep does nothing
