"""Who may turn which Kubernetes knob: the platform team's ControlPolicy decides, per knob and
environment; production stays with the owning team and SREs whatever a policy says."""

import rules

from portal.rules import (
    can_change_setting,
    changes_production,
    environment_is_production,
    is_owner_team_lead,
    is_owner_team_member,
    is_platform_admin,
    is_sre,
    is_team_member,
)

from .knobs import KNOBS
from .selectors import control_policy_for


def _role_matches(role: str, user, target) -> bool:
    if role == "sre":
        return bool(is_sre(user))
    if role == "owner_team":
        return bool(is_owner_team_member(user, target))
    if role == "owner_lead":
        return bool(is_owner_team_lead(user, target))
    if role == "other_teams":
        return bool(is_team_member(user)) and not is_owner_team_member(user, target)
    return False


def knob_predicate(knob: str):
    """`knob`: a knob's policy_prefix. True when the target's policy has it switched on and
    names one of the user's roles. `target` is a catalog ComponentEnvironment."""

    @rules.predicate(name=f"policy_allows_{knob}")
    def policy_allows(user, target) -> bool:
        if target is None or not user.is_authenticated:
            return False
        policy = control_policy_for(target)
        if policy is None or not policy.knob_enabled(knob):
            return False
        return any(_role_matches(role, user, target) for role in policy.knob_roles(knob))

    # Belt and braces: a policy can never open production to other teams.
    return policy_allows & (~environment_is_production | changes_production)


for _knob in KNOBS.values():
    rules.add_perm(_knob.permission, knob_predicate(_knob.policy_prefix))
rules.add_perm("deployments.view_controlaction", rules.is_authenticated)

# Runtime tuning: the seed's rule for settings (owning team and SREs; production likewise).
rules.add_perm("deployments.change_tuningvalue", can_change_setting)
rules.add_perm("deployments.issue_runtimetoken", is_owner_team_member | is_sre)

# Guardrails and tuning keys are the platform team's, in the admin.
for _model in ("controlpolicy", "tuningkey"):
    for _verb in ("add", "change", "delete", "view"):
        rules.add_perm(f"deployments.{_verb}_{_model}", is_platform_admin)
rules.set_perm("deployments.view_controlpolicy", is_platform_admin | is_sre)
