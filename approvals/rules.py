"""Who decides approvals: the owning team and SREs, never the person who asked for the release."""

import rules

from portal.rules import is_owner_team_member, is_sre


@rules.predicate
def is_requester(user, approval) -> bool:
    return approval is not None and approval.requested_by_id == getattr(user, "pk", None)


rules.add_perm("approvals.view_approvalrequest", rules.is_authenticated)
rules.add_perm("approvals.decide_approvalrequest", (is_owner_team_member | is_sre) & ~is_requester)
