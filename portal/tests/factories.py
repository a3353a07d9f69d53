"""factory_boy factories shared by every app's tests, with minimal defaults.

The root `conftest.py` builds its personas (owner, outsider, SRE, ...) and the shared world
(the payments team, staging and prod, the ledger service) from these; app tests import them
for anything else they need: `from portal.tests.factories import ComponentFactory`.
"""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import Component, ComponentEnvironment, Environment, Team
from portal.models import TeamMembership

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        """`UserFactory(groups=["sre"])`: platform groups by name, created when missing."""
        for name in names or ():
            self.groups.add(Group.objects.get_or_create(name=name)[0])


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"team-{n}")


class TeamMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMembership

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)


class EnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Environment
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"env-{n}")


class ComponentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Component

    name = factory.Sequence(lambda n: f"service-{n}")
    owner = factory.SubFactory(TeamFactory)


class ComponentEnvironmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ComponentEnvironment

    component = factory.SubFactory(ComponentFactory)
    environment = factory.SubFactory(EnvironmentFactory)
