"""On-call and incidents cards: anyone signed in (PagerDuty shows the same to every responder)."""

import rules

rules.add_perm("oncall.view_panel", rules.is_authenticated)
