"""oncall rows of the RBAC matrix (format: portal/tests/rbac_world.py)."""

import tempfile
from datetime import timedelta
from pathlib import Path

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest


def _gated_approval(w):
    """A PagerDuty sandbox with a high-urgency incident open on ledger, the gate on in prod,
    and an approval request there: the gate holds it, so an override changes something."""
    import pagerduty

    from oncall.models import IncidentGate
    from sandbox.runner import start_sandbox
    from sandbox.tls import ca_path

    directory = Path(tempfile.mkdtemp(prefix="pd-rbac-"))
    running = start_sandbox(directory=directory, names=["pagerduty"])
    w.extra["pd"] = running
    url = running.endpoints["pagerduty"]
    w.extra["settings"] = override_settings(
        INTEGRATION_URLS={"pagerduty": url}, PAGERDUTY_TOKEN="switchyard-sandbox",
        PAGERDUTY_CA_BUNDLE=str(ca_path(directory)),
    )  # fmt: skip
    w.extra["settings"].enable()
    import ssl

    trust = ssl.create_default_context(cafile=ca_path(directory))
    pd = pagerduty.RestApiV2Client("switchyard-sandbox", base_url=url, verify=trust,
                                   default_from="sre@example.com")  # fmt: skip
    pd.rpost("users", json={"user": {"name": "SRE", "email": "sre@example.com"}})
    service = pd.rpost("services", json={"service": {"name": "ledger"}})
    pd.rpost("incidents", json={"incident": {
        "type": "incident", "title": "ledger down", "urgency": "high",
        "service": {"id": service["id"], "type": "service_reference"},
    }})  # fmt: skip
    w.component.annotations = {"pagerduty.com/service-id": service["id"]}
    w.component.save()
    IncidentGate.objects.create(environment=w.production)
    w.extra["approval"] = ApprovalRequest.objects.create(
        component=w.component, environment=w.production, rollout_phase="canary 5% verified",
        requested_by=w.users["owner_member"], requester_label="owner_member",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip


def _stop(w):
    if "settings" in w.extra:
        w.extra["settings"].disable()
    if "pd" in w.extra:
        w.extra["pd"].stop()


RBAC_CASES = [
    {
        "url_name": "oncall:incident_gate_override",
        "url": lambda w: reverse("oncall:incident_gate_override", args=[w.extra["approval"].pk]),
        "data": lambda w: {"reason": "the incident is the canary's own; promoting fixes it"},
        "setup": _gated_approval,
        "teardown": _stop,
        "allowed": {"sre"},
    },
]
