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
# Superuser status is not a role: it grants nothing in the product (docs/access.md).
is_platform_admin = rules.is_group_member(PLATFORM_ADMIN_GROUP)
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
def is_unowned(user, obj) -> bool:
    """The component (of `obj`) has no owning team: its owner is not in the catalog (yet)."""
    component = getattr(obj, "component", None) or obj
    return component is not None and getattr(component, "owner_id", 0) is None


@rules.predicate
def is_team_member(user) -> bool:
    return bool(_team_ids(user))


def _environment(obj):
    """The catalog Environment behind `obj`: an Environment, a ComponentEnvironment, or anything
    with an `environment` attribute (a knob, a release, an approval request ...)."""
    if obj is None:
        return None
    if hasattr(obj, "is_production"):
        return obj
    return getattr(obj, "environment", None)


@rules.predicate
def environment_is_production(user, obj) -> bool:
    """True when `obj` is, or belongs to, a production environment. Unknown counts as production:
    a missing environment must never loosen a rule."""
    environment = _environment(obj)
    if environment is None or not hasattr(environment, "is_production"):
        return True
    return bool(environment.is_production)


@rules.predicate
def other_teams_allowed(user, obj) -> bool:
    """The platform team opened `obj` (a knob, a try-it target ...) to engineers of any team by
    setting `other_teams_allowed = True` on it. Viewers do not count as engineers."""
    return bool(getattr(obj, "other_teams_allowed", False)) and is_team_member(user)


@rules.predicate
def is_requester(user, obj) -> bool:
    """`user` asked for `obj` (an approval request, a release ...): `requested_by` or `actor`."""
    if obj is None or not user.is_authenticated:
        return False
    requester_id = getattr(obj, "requested_by_id", None) or getattr(obj, "actor_id", None)
    return requester_id is not None and requester_id == user.pk


@rules.predicate
def is_lead_of_team(user, obj) -> bool:
    """`user` leads the team `obj` is about (a Team, or anything with a `team`)."""
    team_id = getattr(obj, "team_id", None) if obj is not None else None
    if team_id is None and obj is not None and obj._meta.label_lower == "catalog.team":
        team_id = obj.pk
    return team_id is not None and team_id in _team_ids(user, leads_only=True)


# The seed's rule: only the owning team (and SREs) change production-facing settings; other teams
# may act on non-production where the platform team allows. Apps build their permissions on it.
# Until an unowned component has an owner, the platform team (and SREs) stand in for it.
changes_production = is_sre | is_owner_team_member | (is_unowned & is_platform_admin)
changes_non_production = is_sre | is_owner_team_member | other_teams_allowed
can_change_setting = (environment_is_production & changes_production) | (
    ~environment_is_production & changes_non_production
)
# Who approves is decided in approvals/rules.py (one place; docs/access.md "The rules").

rules.add_perm("portal.view_auditevent", rules.is_authenticated)
rules.add_perm("portal.export_auditevent", is_sre | is_platform_admin)
manages_team = is_lead_of_team | is_platform_admin
rules.add_perm("portal.add_teammembership", manages_team)
rules.add_perm("portal.change_teammembership", manages_team)
rules.add_perm("portal.delete_teammembership", manages_team)
rules.add_perm("portal.view_teammembership", rules.is_authenticated)
for _verb in ("add", "change", "delete", "view"):
    rules.add_perm(f"portal.{_verb}_ssogroupmapping", is_platform_admin)
