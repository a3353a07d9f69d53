"""Who may publish API versions: the owning team, SREs and platform admins."""

import rules

from portal.rules import is_owner_team_member, is_platform_admin, is_sre


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
