"""The PagerDuty cards: on call now and next with open incidents (service and approval pages),
and open incidents across the blast radius (release and approval pages)."""

import rules

from approvals.models import ApprovalRequest
from catalog.models import Component
from portal.panels import APPROVAL, RELEASE, SERVICE, Panel, register

from .gate import gate_state
from .selectors import SERVICE_ID, blast_incidents, on_call


class ComponentCard(Panel):
    permission = "oncall.view_panel"
    model = Component
    lazy = True
    refresh = 60

    def target(self, subject):
        return subject if isinstance(subject, Component) else subject.component


@register
class OnCallPanel(ComponentCard):
    name = "on-call"
    title = "On call"
    url_name = "oncall:panel_on_call"
    template = "oncall/_on_call.html"
    pages = {SERVICE: ("main", 33), APPROVAL: ("aside", 27)}

    def context(self, request, target, page) -> dict:
        return {"component": target, "view": on_call(target), "annotation": SERVICE_ID}


@register
class IncidentsPanel(ComponentCard):
    name = "incidents"
    title = "Open incidents in the blast radius"
    url_name = "oncall:panel_incidents"
    template = "oncall/_incidents.html"
    refresh = 30
    pages = {RELEASE: ("aside", 17), APPROVAL: ("aside", 15)}

    def context(self, request, target, page) -> dict:
        return {"component": target, "found": blast_incidents(target), "annotation": SERVICE_ID}


@register
class IncidentGatePanel(Panel):
    """The approval policy's incident gate for this request: open, holding (with the reason and
    an SRE's override form), overridden, or unknown while PagerDuty is down."""

    name = "incident-gate"
    title = "Incident gate"
    permission = "oncall.view_panel"
    url_name = "oncall:panel_incident_gate"
    template = "oncall/_incident_gate.html"
    lazy = True
    refresh = 30
    pages = {APPROVAL: ("main", 12)}
    model = ApprovalRequest

    def load(self, pk: int):
        from django.shortcuts import get_object_or_404

        return get_object_or_404(
            self.model.objects.select_related("component", "environment"), pk=pk
        )

    def context(self, request, target, page) -> dict:
        return {
            "approval": target,
            "gate": gate_state(target),
            "can_override": rules.has_perm("oncall.override_incident_gate", request.user, target),
        }
