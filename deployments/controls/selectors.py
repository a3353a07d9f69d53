"""Reads of the knobs wing reused by rules, services and views: the policy that applies to a
target, its live deployment, and the warnings to show before a change."""

from dataclasses import dataclass

from django.db.models import Q
from django.shortcuts import get_object_or_404

from catalog.models import ComponentEnvironment
from catalog.selectors import environment_kube_contexts
from integrations.errors import IntegrationError
from integrations.kubernetes import DeploymentInfo, kubernetes_adapter

from .knobs import knob_get
from .models import ControlPolicy


def target_get_or_404(component_id, env) -> ComponentEnvironment:
    """The component's deployment in the environment named `env`, for a knob or tuning page."""
    return get_object_or_404(
        ComponentEnvironment.objects.select_related("component__owner", "environment"),
        component_id=component_id,
        environment__name=env,
    )


def control_policy_for(target: ComponentEnvironment) -> ControlPolicy | None:
    """The component's own policy in the environment, else the environment's default; cached on
    `target` for the request."""
    if not hasattr(target, "_control_policy"):
        policies = ControlPolicy.objects.filter(environment_id=target.environment_id).filter(
            Q(component_id=target.component_id) | Q(component__isnull=True)
        )
        found = sorted(policies, key=lambda p: p.component_id is None)
        target._control_policy = found[0] if found else None
    return target._control_policy


# -- live state ----------------------------------------------------------------------------


@dataclass(frozen=True)
class LiveState:
    """The live deployment of one target, or why it is unknown."""

    info: DeploymentInfo | None = None
    error: str = ""
    configured: bool = True

    @property
    def known(self) -> bool:
        return self.info is not None


def control_live(target: ComponentEnvironment) -> LiveState:
    """Read the target's Deployment (with HPA and restarts); failures become an unknown state."""
    if not target.kube_deployment:
        return LiveState(
            error="No Kubernetes deployment is set for it in the catalog.", configured=False
        )
    environment = target.environment
    try:
        info = kubernetes_adapter(contexts=environment_kube_contexts()).deployment_get(
            environment.name, environment.kube_namespace or "default", target.kube_deployment
        )
    except IntegrationError as exc:
        return LiveState(error=exc.message)
    return LiveState(info=info)


def control_warnings(kind: str, policy: ControlPolicy | None, live: LiveState) -> list[str]:
    """What would undo a change of the knob named `kind`, said before the person acts."""
    knob = knob_get(kind)
    warnings = knob.warnings(policy, live.info)
    if policy and policy.argocd_auto_sync and knob.reverted_by_self_heal:
        warnings.append(
            "Argo CD self-heal is on here (declared by the platform team in the guardrails): it "
            "reverts a manual change at its next sync. Change the GitOps repository to keep it."
        )
    return warnings
