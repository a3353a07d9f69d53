"""Who may drive releases (docs/access.md, "The rules").

Start, rollback: the owning team and SREs. Promote past a pause: the same people, but only where
no approval policy applies; in a gated environment promoting is a decision on the release's
approval (approvals/rules.py: eligible people, never the requester). Abort is a safety action:
the requester, the owning team and SREs may always abort. Superuser status grants nothing.
"""

import rules

from portal.rules import is_owner_team_member, is_platform_admin, is_requester, is_sre

from .selectors import environment_gated

can_release = is_owner_team_member | is_sre


@rules.predicate
def is_gated(user, release) -> bool:
    """Going past a pause of `release` needs an approval. Unknown counts as gated."""
    environment = getattr(release, "environment", None)
    return environment is None or environment_gated(environment)


rules.add_perm("deployments.view_release", rules.is_authenticated)
rules.add_perm("deployments.start_release", can_release)
rules.add_perm("deployments.promote_release", can_release & ~is_gated)
rules.add_perm("deployments.abort_release", can_release | is_requester)
rules.add_perm("deployments.rollback_release", can_release)
rules.add_perm("deployments.restore_release", can_release)

# Deploy freezes are set in the admin by SREs and platform admins (audited by RulesAdminMixin).
for _verb in ("view", "add", "change", "delete"):
    rules.add_perm(f"deployments.{_verb}_deployfreeze", is_sre | is_platform_admin)
