"""Who decides approvals: the owning team and SREs, never the person who asked for the release."""

import rules

from portal.rules import is_owner_team_member, is_platform_admin, is_sre


@rules.predicate
def is_requester(user, approval) -> bool:
    return approval is not None and approval.requested_by_id == getattr(user, "pk", None)


rules.add_perm("approvals.view_approvalrequest", rules.is_authenticated)
rules.add_perm("approvals.decide_approvalrequest", (is_owner_team_member | is_sre) & ~is_requester)

# Approval policies (quorum, expiry) and machine clients are the platform team's, in the admin
# (audited by RulesAdminMixin); SREs read them.
for _model in ("approvalpolicy", "machineclient"):
    rules.add_perm(f"approvals.view_{_model}", is_sre | is_platform_admin)
    for _verb in ("add", "change", "delete"):
        rules.add_perm(f"approvals.{_verb}_{_model}", is_platform_admin)
