from types import SimpleNamespace

import pytest

from catalog.models import ComponentEnvironment
from portal import rules as r
from portal.tests.rbac_world import world_build


@pytest.fixture
def world(db):
    return world_build()


def _env(world, name):
    return ComponentEnvironment.objects.select_related("environment", "component").get(
        component=world.component, environment__name=name
    )


def test_environment_is_production_reads_the_environment(world):
    assert r.environment_is_production(None, _env(world, "prod"))
    assert not r.environment_is_production(None, _env(world, "staging"))
    assert not r.environment_is_production(None, world.staging)
    # Unknown means production: a missing environment never loosens a rule.
    assert r.environment_is_production(None, SimpleNamespace())


@pytest.mark.parametrize(
    ("persona", "prod", "staging", "staging_opened"),
    [
        ("owner_member", True, True, True),
        ("owner_lead", True, True, True),
        ("sre", True, True, True),
        ("other_team_member", False, False, True),
        ("viewer", False, False, False),
        ("platform_admin", False, False, False),
    ],
)
def test_only_owners_and_sres_change_production(world, persona, prod, staging, staging_opened):
    user = world.users[persona]
    prod_env, staging_env = _env(world, "prod"), _env(world, "staging")
    assert r.can_change_setting(user, prod_env) is prod
    assert r.can_change_setting(user, staging_env) is staging
    staging_env.other_teams_allowed = True
    assert r.can_change_setting(user, staging_env) is staging_opened
    prod_env.other_teams_allowed = True
    assert r.can_change_setting(user, prod_env) is prod


def test_requester_cannot_approve_own_request(world):
    """The one approval rule lives in approvals/rules.py (docs/access.md, "The rules")."""
    import rules

    sre, member = world.users["sre"], world.users["owner_member"]
    own = SimpleNamespace(component=world.component, requested_by_id=sre.pk, approvers="team")
    other = SimpleNamespace(
        component=world.component, requested_by_id=world.users["requester"].pk, approvers="team"
    )
    decide = "approvals.decide_approvalrequest"
    assert not rules.has_perm(decide, sre, own)
    assert rules.has_perm(decide, sre, other)
    assert rules.has_perm(decide, member, other)
    assert not rules.has_perm(decide, world.users["requester"], other)
    leads = SimpleNamespace(**{**vars(other), "approvers": "leads"})
    assert not rules.has_perm(decide, member, leads)
    assert rules.has_perm(decide, world.users["owner_lead"], leads)
    for nobody in ("platform_admin", "superuser", "viewer", "other_team_member"):
        assert not rules.has_perm(decide, world.users[nobody], other), nobody
