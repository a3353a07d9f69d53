"""Who may do what: the predicates every app's rules.py builds on.

Platform roles are Django auth groups (managed in the admin, filled from SSO by the identity
mapping): "sre", "platform-admin", "viewer" (PMs and other read-only users). Team roles come from
`TeamMembership` (member or lead of a catalog team).
"""

import rules

SRE_GROUP = "sre"
PLATFORM_ADMIN_GROUP = "platform-admin"
VIEWER_GROUP = "viewer"

is_sre = rules.is_group_member(SRE_GROUP)
is_platform_admin = rules.is_group_member(PLATFORM_ADMIN_GROUP) | rules.is_superuser
is_viewer = rules.is_group_member(VIEWER_GROUP)


def _team_ids(user, *, leads_only: bool = False) -> set[int]:
    """The ids of the teams `user` belongs to, cached on the user object for one request."""
    if not user.is_authenticated:
        return set()
    attr = "_switchyard_lead_team_ids" if leads_only else "_switchyard_team_ids"
    if not hasattr(user, attr):
        memberships = user.team_memberships.all()
        if leads_only:
            memberships = memberships.filter(role="lead")
        setattr(user, attr, set(memberships.values_list("team_id", flat=True)))
    return getattr(user, attr)


def _owner_team_id(obj):
    """The owning team of a component, or of whatever `obj.component` is."""
    if obj is None:
        return None
    component = getattr(obj, "component", None) or obj
    return getattr(component, "owner_id", None)


@rules.predicate
def is_owner_team_member(user, obj) -> bool:
    owner = _owner_team_id(obj)
    return owner is not None and owner in _team_ids(user)


@rules.predicate
def is_owner_team_lead(user, obj) -> bool:
    owner = _owner_team_id(obj)
    return owner is not None and owner in _team_ids(user, leads_only=True)


@rules.predicate
def is_team_member(user) -> bool:
    return bool(_team_ids(user))


rules.add_perm("portal.view_auditevent", rules.is_authenticated)
rules.add_perm("portal.export_auditevent", is_sre | is_platform_admin)
