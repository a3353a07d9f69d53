"""Who may publish API versions: the owning team, SREs and platform admins."""

import rules

from portal.rules import is_owner_team_member, is_platform_admin, is_sre, is_viewer


@rules.predicate
def is_api_owner(user, definition) -> bool:
    """Owning-team membership of the component the definition (or version) belongs to."""
    if definition is None:
        return False
    component = getattr(definition, "component", None)
    if component is None and hasattr(definition, "definition"):
        component = definition.definition.component
    return is_owner_team_member(user, component)


can_publish = is_api_owner | is_sre | is_platform_admin

rules.add_perm("apidocs.add_apiversion", can_publish)
rules.add_perm("apidocs.add_apidefinition", is_owner_team_member | is_sre | is_platform_admin)
rules.add_perm("apidocs.view_apiversion", rules.is_authenticated)


# --- try-it -------------------------------------------------------------------------------------
# Checked on a TryItTarget (an API definition in one environment, with that environment's policy).


@rules.predicate
def is_tryit_approved(user, target) -> bool:
    """The platform team approved try-it in the target's environment (off when no policy)."""
    return target is not None and target.policy is not None and target.policy.enabled


@rules.predicate
def has_tryit_role(user, target) -> bool:
    """The user holds a role the environment's policy lets call."""
    if target is None or target.policy is None:
        return False
    policy = target.policy
    return (
        (policy.allow_viewers and is_viewer(user))
        or (policy.allow_owner_team and is_owner_team_member(user, target.definition.component))
        or (policy.allow_sre and is_sre(user))
        or (policy.allow_platform_admins and is_platform_admin(user))
    )


rules.add_perm("apidocs.tryit_call", rules.is_authenticated & is_tryit_approved & has_tryit_role)
# Saved examples are shared: anyone who may read the API sees them; whoever may call the API in
# an environment may save one; the author, the owning team and platform admins may remove one.
rules.add_perm(
    "apidocs.add_tryitexample", rules.is_authenticated & is_tryit_approved & has_tryit_role
)


@rules.predicate
def is_example_author(user, example) -> bool:
    return example is not None and example.created_by_id == user.pk


@rules.predicate
def is_example_api_owner(user, example) -> bool:
    return example is not None and is_owner_team_member(user, example.definition.component)


rules.add_perm(
    "apidocs.delete_tryitexample", is_example_author | is_example_api_owner | is_platform_admin
)
