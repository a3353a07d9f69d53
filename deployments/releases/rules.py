"""Who may drive releases: the owning team and SREs; viewers and other teams only watch."""

import rules

from portal.rules import is_owner_team_member, is_sre

can_release = is_owner_team_member | is_sre

rules.add_perm("deployments.view_release", rules.is_authenticated)
rules.add_perm("deployments.start_release", can_release)
rules.add_perm("deployments.promote_release", can_release)
rules.add_perm("deployments.abort_release", can_release)
rules.add_perm("deployments.rollback_release", can_release)
rules.add_perm("deployments.restore_release", can_release)
