"""On-call and incidents cards: anyone signed in (PagerDuty shows the same to every responder)."""

import rules

from portal.rules import is_platform_admin, is_sre

rules.add_perm("oncall.view_panel", rules.is_authenticated)

# Letting one approval request through the incident gate: SREs only (the reason is audited).
rules.add_perm("oncall.override_incident_gate", is_sre)

# The admin: the platform team turns the gate on per environment; SREs read it and the overrides.
rules.add_perm("oncall.view_incidentgate", is_platform_admin | is_sre)
rules.add_perm("oncall.view_incidentgateoverride", is_platform_admin | is_sre)
for _verb in ("add", "change", "delete"):
    rules.add_perm(f"oncall.{_verb}_incidentgate", is_platform_admin)
