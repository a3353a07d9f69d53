"""The incident gate: an approval-policy option (oncall.IncidentGate per environment).

`incident_gate_check` is called by the decision service (approvals' approval_decide) before an
approval or promotion: it refuses with the incidents as the reason while the gate is on and a
high-urgency incident is open on the service or a direct dependency, unless an SRE overrode the
request (`incident_gate_override`, a reason, audited). Aborting is never gated. When PagerDuty
cannot be asked, the gate cannot be checked: the decision goes ahead (decisions still work when
PagerDuty is down) and the card says the gate is unknown.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from integrations.errors import IntegrationError
from integrations.pagerduty import Incident, pagerduty_client
from portal.audit import audit_record
from portal.errors import PortalError
from portal.permissions import permission_require

from .models import IncidentGate, IncidentGateOverride
from .selectors import SERVICE_ID, problem_text


class PromotionBlocked(PortalError):
    """A high-urgency incident is open on the service or a direct dependency."""


@dataclass
class GateState:
    enabled: bool
    blocking: list[tuple[Incident, str]] = field(default_factory=list)  # incident, component
    override: IncidentGateOverride | None = None
    problem: str = ""

    @property
    def blocked(self) -> bool:
        return self.enabled and bool(self.blocking) and self.override is None

    @property
    def reason(self) -> str:
        items = "; ".join(f"#{i.number} {i.title} on {name}" for i, name in self.blocking)
        return f"Promotion is blocked while a high-urgency incident is open: {items}."


def gate_state(approval) -> GateState:
    """Whether the gate holds `approval` now (one PagerDuty call when the gate is on)."""
    enabled = IncidentGate.objects.filter(environment_id=approval.environment_id, enabled=True)
    state = GateState(enabled=enabled.exists())
    if not state.enabled:
        return state
    state.override = IncidentGateOverride.objects.filter(approval=approval).first()
    component = approval.component
    mapped = {str((component.annotations or {}).get(SERVICE_ID, "")): component.name}
    for target in component.dependencies.select_related("target"):
        sid = str((target.target.annotations or {}).get(SERVICE_ID, ""))
        mapped.setdefault(sid, target.target.name)
    mapped.pop("", None)
    if not mapped:
        return state
    try:
        incidents = pagerduty_client().incidents_open(sorted(mapped), limit=100)
    except IntegrationError as exc:
        state.problem = problem_text(exc) + " The incident gate cannot be checked meanwhile."
        return state
    state.blocking = [(i, mapped.get(i.service_id, i.service_name)) for i in incidents if i.high]
    return state


def incident_gate_check(*, approval, decision: str) -> None:
    """Raise PromotionBlocked (nothing changed) when the gate holds this approval."""
    if decision == "abort":
        return
    state = gate_state(approval)
    if state.blocked:
        raise PromotionBlocked(state.reason + " An SRE may override it with a reason.")


def incident_gate_override(*, actor, approval, reason: str, context=None) -> IncidentGateOverride:
    """An SRE lets `approval` through the gate; the reason and the open incidents are audited."""
    permission_require(
        actor=actor, perm="oncall.override_incident_gate", obj=approval,
        action="approval.incident_gate_override", component=approval.component,
        environment=approval.environment.name, context=context,
        message="Only SREs may override the incident gate.",
    )  # fmt: skip
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise PortalError("Say why the gate may be overridden (at least 10 characters).")
    state = gate_state(approval)
    if not state.blocked:
        raise PortalError("The incident gate does not hold this request: nothing to override.")
    incidents = [{"id": i.id, "number": i.number, "title": i.title, "component": name}
                 for i, name in state.blocking]  # fmt: skip
    try:
        with transaction.atomic():
            override = IncidentGateOverride.objects.create(
                approval=approval, actor=actor, reason=reason[:2000], incidents=incidents
            )
            audit_record(
                actor=actor, action="approval.incident_gate_override", target=approval,
                component=approval.component, environment=approval.environment.name,
                after={"incidents": incidents}, reason=reason, context=context,
            )  # fmt: skip
    except IntegrityError:
        raise PortalError("This request's incident gate was overridden already.")
    return override
