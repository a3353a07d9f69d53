"""The portal's rows of the RBAC matrix (see portal/tests/rbac_world.py for the format)."""

from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.models import TeamMembership


def _team_url(name):
    return lambda w: reverse(name, args=[w.owner_team.metadata_namespace, w.owner_team.name])


def _newcomer(w):
    w.extra["newcomer"] = get_user_model().objects.create_user("newcomer")


def _removable(w):
    person = get_user_model().objects.create_user("leaver")
    w.extra["membership"] = TeamMembership.objects.create(user=person, team=w.owner_team)


RBAC_CASES = [
    {
        "url_name": "portal:team_member_add",
        "url": _team_url("portal:team_member_add"),
        "data": lambda w: {"username": "newcomer", "role": "member"},
        "setup": _newcomer,
        "allowed": {"owner_lead", "platform_admin"},
    },
    {
        "url_name": "portal:team_member_remove",
        "url": lambda w: reverse("portal:team_member_remove", args=[w.extra["membership"].pk]),
        "setup": _removable,
        "allowed": {"owner_lead", "platform_admin"},
    },
]
