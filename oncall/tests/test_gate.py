"""The incident gate: no promotion while a high-urgency incident is open on the service or a
direct dependency; an SRE's override needs a reason and is audited; abort is never gated."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import approval_decide
from catalog.models import Component, Dependency
from oncall.gate import PromotionBlocked, incident_gate_override
from oncall.models import IncidentGate, IncidentGateOverride
from portal.errors import PermissionDenied, PortalError
from portal.models import AuditEvent


@pytest.fixture
def gated(paging, ledger, environments, make_user, payments):
    """The gate on in prod; ledger depends directly on `vault` (its own PagerDuty service)."""
    IncidentGate.objects.create(environment=environments["prod"])
    requester = make_user("rita")
    approval = ApprovalRequest.objects.create(
        component=ledger, environment=environments["prod"], rollout_phase="canary 5%",
        requested_by=requester, requester_label="rita",
        expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip
    return approval


@pytest.fixture
def vault(pagerduty_world, paging, ledger, payments):
    service = pagerduty_world.rest().rpost("services", json={"service": {"name": "vault"}})
    component = Component.objects.create(
        name="vault", owner=payments, annotations={"pagerduty.com/service-id": service["id"]}
    )
    Dependency.objects.create(source=ledger, target=component)
    return service


def test_a_high_urgency_incident_on_a_direct_dependency_blocks_promotion(
    gated, vault, incident, owner
):
    incident(vault, "vault sealed")
    with pytest.raises(PromotionBlocked) as caught:
        approval_decide(actor=owner, approval=gated, decision="approve")
    assert "#1 vault sealed on vault" in caught.value.message
    assert "An SRE may override it" in caught.value.message
    gated.refresh_from_db()
    assert gated.state == "pending" and not gated.votes.exists()
    approval_decide(actor=owner, approval=gated, decision="abort")  # never gated
    gated.refresh_from_db()
    assert gated.state == "aborted"


def test_low_urgency_or_blast_radius_only_incidents_do_not_block(gated, paging, incident, owner):
    incident(paging["services"]["ledger"], "ledger slow", urgency="low")
    incident(paging["services"]["checkout"], "checkout down")  # depends on ledger, not a dependency
    approval_decide(actor=owner, approval=gated, decision="approve")
    gated.refresh_from_db()
    assert gated.state == "approved"


def test_an_sre_override_needs_a_reason_is_audited_and_lets_the_request_through(
    gated, paging, incident, owner, sre
):
    incident(paging["services"]["ledger"], "ledger down")
    with pytest.raises(PermissionDenied):
        incident_gate_override(actor=owner, approval=gated, reason="I know what I am doing")
    with pytest.raises(PortalError):
        incident_gate_override(actor=sre, approval=gated, reason="because")
    assert not IncidentGateOverride.objects.exists()
    incident_gate_override(actor=sre, approval=gated, reason="the incident is this canary's bug")
    event = AuditEvent.objects.get(action="approval.incident_gate_override", outcome="done")
    assert (
        AuditEvent.objects.filter(
            action="approval.incident_gate_override", outcome="denied"
        ).count()
        == 1
    )
    assert event.reason == "the incident is this canary's bug"
    assert event.after["incidents"][0]["title"] == "ledger down"
    approval_decide(actor=owner, approval=gated, decision="approve")
    gated.refresh_from_db()
    assert gated.state == "approved"


def test_pagerduty_down_decisions_still_work_and_the_card_says_the_gate_is_unknown(
    gated, paging, incident, owner, pagerduty_world, client
):
    incident(paging["services"]["ledger"], "ledger down")
    pagerduty_world.arm_fault(kind="error", status=503)
    client.force_login(owner)
    url = reverse("oncall:panel_incident_gate", args=[gated.pk])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "PagerDuty could not be asked" in html and "cannot be checked" in html
    approval_decide(actor=owner, approval=gated, decision="approve")
    gated.refresh_from_db()
    assert gated.state == "approved"


def test_the_card_shows_the_gate_and_offers_the_override_to_sres_only(
    gated, paging, incident, owner, sre, client
):
    incident(paging["services"]["ledger"], "ledger down")
    url = reverse("oncall:panel_incident_gate", args=[gated.pk])
    client.force_login(owner)
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "blocked" in html and "ledger down" in html and "gate-override" not in html
    assert f'hx-get="{url}"' in client.get(gated.get_absolute_url()).content.decode()
    client.force_login(sre)
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "gate-override" in html
    response = client.post(
        reverse("oncall:incident_gate_override", args=[gated.pk]),
        {"reason": "rollback is worse than the canary"},
    )
    assert response.status_code == 302
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "overridden" in html and "rollback is worse" in html


def test_without_the_gate_the_card_says_it_is_off(ledger, environments, owner, client, make_user):
    approval = ApprovalRequest.objects.create(
        component=ledger, environment=environments["prod"], rollout_phase="canary 5%",
        requested_by=make_user("rita"), expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip
    client.force_login(owner)
    url = reverse("oncall:panel_incident_gate", args=[approval.pk])
    html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "Off in prod" in html and "blocked" not in html
