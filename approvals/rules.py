"""Who decides approvals (docs/access.md, "The rules"):

- approve / promote past a gated pause: people eligible under the environment's policy (members,
  or only leads, of the owning team, and SREs), never the requester;
- abort: a safety action, open to the requester, the owning team and SREs;
- break-glass: SREs only, a separate and loudly audited action.

Superuser status and the platform-admin role grant none of these (services check with
`rules.has_perm`, which ignores `is_superuser`).
"""

import rules

from portal.rules import (
    is_owner_team_lead,
    is_owner_team_member,
    is_platform_admin,
    is_requester,
    is_sre,
)


@rules.predicate
def leads_only(user, approval) -> bool:
    return getattr(approval, "approvers", "team") == "leads"


is_eligible_approver = (
    is_sre | (leads_only & is_owner_team_lead) | (~leads_only & is_owner_team_member)
)

rules.add_perm("approvals.view_approvalrequest", rules.is_authenticated)
rules.add_perm("approvals.decide_approvalrequest", is_eligible_approver & ~is_requester)
rules.add_perm("approvals.abort_approvalrequest", is_requester | is_owner_team_member | is_sre)
rules.add_perm("approvals.break_glass_approvalrequest", is_sre)

# Approval policies (quorum, expiry) and machine clients are the platform team's, in the admin
# (audited by RulesAdminMixin); SREs read them.
for _model in ("approvalpolicy", "machineclient"):
    rules.add_perm(f"approvals.view_{_model}", is_sre | is_platform_admin)
    for _verb in ("add", "change", "delete"):
        rules.add_perm(f"approvals.{_verb}_{_model}", is_platform_admin)
