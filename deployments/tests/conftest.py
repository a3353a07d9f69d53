import pytest
from django.contrib.auth.models import Group

from catalog.models import Component, ComponentEnvironment, Environment, Team
from portal.models import TeamMembership


@pytest.fixture
def payments(db):
    return Team.objects.create(name="payments", title="Payments")


@pytest.fixture
def environments(db):
    return {
        "staging": Environment.objects.create(name="staging", order=20),
        "prod": Environment.objects.create(name="prod", order=30, is_production=True),
    }


@pytest.fixture
def ledger(payments, environments):
    component = Component.objects.create(name="ledger", owner=payments)
    for env in environments.values():
        ComponentEnvironment.objects.create(
            component=component,
            environment=env,
            kube_deployment="ledger",
            argocd_application=f"ledger-{env.name}",
        )
    return component


@pytest.fixture
def owner(make_user, payments):
    user = make_user("olivia")
    TeamMembership.objects.create(user=user, team=payments)
    return user


@pytest.fixture
def outsider(make_user):
    other = Team.objects.create(name="search")
    user = make_user("oscar")
    TeamMembership.objects.create(user=user, team=other)
    return user


@pytest.fixture
def sre(make_user):
    user = make_user("sasha")
    user.groups.add(Group.objects.get_or_create(name="sre")[0])
    return user


from integrations.tests.conftest import arm_fault, release_sandbox  # noqa: E402, F401
