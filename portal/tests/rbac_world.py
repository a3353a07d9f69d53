"""The shared world of the RBAC matrix test: personas, a component and its environments.

Each app lists its mutating URLs in `<app>/tests/rbac.py` as `RBAC_CASES`, a list of dicts:

    {
        "url_name": "deployments:knob_set",          # namespace:name in the URL conf
        "url": lambda w: reverse("deployments:knob_set", args=[w.component.pk, "prod"]),
        "data": lambda w: {"value": "3"},            # POST body (default: empty)
        "allowed": {"owner_member", "owner_lead", "sre"},
        "setup": lambda w: ...,                       # optional: create rows, stash in w.extra
        "teardown": lambda w: ...,                    # optional: undo setup (servers, settings)
        "snapshot": lambda w: ...,                    # optional: state that a refusal must not
                                                      # change (default: every project table)
        "audits_denial": True,                        # a refused signed-in user leaves a
                                                      # "denied" audit row (default True)
        "post": lambda client, w, persona: ...,       # optional: how the persona calls a door
                                                      # that is not a signed-in page (Slack)
        "refused_status": 200,                        # optional: the answer to every refusal,
                                                      # anonymous included
    }

Personas (PERSONAS) are users built fresh for every test; `w.users[persona]` (None for
anonymous). The owner team owns `w.component`; `w.production` and `w.staging` are environments.
"requester" is a member of the owning team who asked for the release or approval a row sets
up; "owner_member" is another member of that team. Rows about a request mark themselves
`"request_scoped": True` and list "requester" explicitly; in other rows the requester is just
one more owner member (allowed where "owner_member" is). "viewer" is the PM (read-only role);
"superuser" has Django's is_superuser and is_staff and no role: it is allowed nothing.
"""

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import Component, ComponentEnvironment, Environment, Team
from portal.models import TeamMembership

PERSONAS = (
    "requester",
    "owner_member",
    "owner_lead",
    "other_team_member",
    "sre",
    "platform_admin",
    "viewer",
    "superuser",
    "anonymous",
)
PROJECT_APPS = (
    "portal",
    "catalog",
    "deployments",
    "approvals",
    "apidocs",
    "oncall",
    "notifications",
)
# Rows that change on every request whatever the answer: not part of "nothing changed".
SNAPSHOT_SKIP = {"portal.auditevent", "portal.workerheartbeat"}


@dataclass
class World:
    owner_team: Team
    other_team: Team
    component: Component
    production: Environment
    staging: Environment
    users: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


def world_build() -> World:
    User = get_user_model()
    owner_team = Team.objects.create(name="payments", title="Payments")
    other_team = Team.objects.create(name="search", title="Search")
    component = Component.objects.create(name="ledger", owner=owner_team)
    production = Environment.objects.create(name="prod", order=2, is_production=True)
    staging = Environment.objects.create(name="staging", order=1)
    for environment in (production, staging):
        ComponentEnvironment.objects.create(component=component, environment=environment)
    users = {}
    for persona in PERSONAS:
        if persona == "anonymous":
            users[persona] = None
            continue
        users[persona] = User.objects.create_user(persona, f"{persona}@example.com")
    users["superuser"].is_superuser = users["superuser"].is_staff = True
    users["superuser"].save(update_fields=["is_superuser", "is_staff"])
    memberships = [
        ("requester", owner_team, "member"),
        ("owner_member", owner_team, "member"),
        ("owner_lead", owner_team, "lead"),
        ("other_team_member", other_team, "member"),
    ]
    for persona, team, role in memberships:
        TeamMembership.objects.create(user=users[persona], team=team, role=role)
    for persona, group in (
        ("sre", "sre"),
        ("platform_admin", "platform-admin"),
        ("viewer", "viewer"),
    ):
        users[persona].groups.add(Group.objects.get_or_create(name=group)[0])
    return World(owner_team, other_team, component, production, staging, users)


def db_snapshot() -> dict[str, list]:
    """Every row of every project table (but the audit log), to compare before and after."""
    state = {}
    for app_label in PROJECT_APPS:
        try:
            config = apps.get_app_config(app_label)
        except LookupError:
            continue
        for model in config.get_models():
            if model._meta.label_lower in SNAPSHOT_SKIP:
                continue
            state[model._meta.label_lower] = list(model.objects.order_by("pk").values())
    return state
