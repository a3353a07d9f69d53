import pytest
from django.contrib.auth.models import Group

from apidocs.models import ApiDefinition
from catalog.models import Component, Team
from portal.models import TeamMembership

HELLO_V1 = """syntax = "proto3";
package hello.v1;

// Greets people.
service Greeter {
  // Says hello.
  rpc SayHello (HelloRequest) returns (HelloReply);
}

message HelloRequest {
  string name = 1;
  int32 times = 2;
}

message HelloReply { string message = 1; }
"""


@pytest.fixture
def team(db):
    return Team.objects.create(name="payments")


@pytest.fixture
def component(team):
    return Component.objects.create(name="payments-api", owner=team)


@pytest.fixture
def owner(make_user, team):
    user = make_user("owner")
    TeamMembership.objects.create(user=user, team=team, role="member")
    return user


@pytest.fixture
def outsider(make_user):
    return make_user("outsider")


@pytest.fixture
def sre(make_user):
    user = make_user("sre-person")
    user.groups.add(Group.objects.get_or_create(name="sre")[0])
    return user


@pytest.fixture
def definition(component):
    return ApiDefinition.objects.create(component=component, name="protos")


@pytest.fixture
def protos_dir(shared_dir):
    return shared_dir / "fixtures" / "protos"


@pytest.fixture
def history_dir(shared_dir):
    return shared_dir / "fixtures" / "proto-history"
