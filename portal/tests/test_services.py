import pytest
from django.contrib.auth.models import Group

from portal.errors import PermissionDenied, ValidationFailed
from portal.models import AuditEvent, SsoGroupMapping, SsoRoleGrant, TeamMembership
from portal.services import membership_add, membership_remove, sso_groups_apply


@pytest.fixture
def mappings(teams):
    return [
        SsoGroupMapping.objects.create(group="payments", team=teams["payments"]),
        SsoGroupMapping.objects.create(
            group="payments-leads", team=teams["payments"], team_role="lead"
        ),
        SsoGroupMapping.objects.create(group="checkout", team=teams["checkout"]),
        SsoGroupMapping.objects.create(group="sre", platform_role="sre"),
    ]


def _teams_of(user):
    return {
        (m.team.name, m.role, m.source)
        for m in TeamMembership.objects.filter(user=user).select_related("team")
    }


def test_claim_adds_memberships_and_roles_and_audits_them(user, mappings):
    changes = sso_groups_apply(user=user, groups=["payments", "sre", "unmapped"])
    assert _teams_of(user) == {("payments", "member", "sso")}
    assert list(user.groups.values_list("name", flat=True)) == ["sre"]
    assert set(AuditEvent.objects.values_list("action", flat=True)) == {
        "identity.membership_add",
        "identity.role_add",
        "identity.staff_add",  # SREs work in the Django admin
    }
    assert changes.added == ["payments (member)", "sre"]


def test_strongest_role_wins_when_two_groups_map_to_one_team(user, mappings):
    sso_groups_apply(user=user, groups=["payments", "payments-leads"])
    assert _teams_of(user) == {("payments", "lead", "sso")}


def test_second_login_removes_stale_sso_membership_and_keeps_manual(user, mappings, teams):
    TeamMembership.objects.create(user=user, team=teams["search"], role="member")
    sso_groups_apply(user=user, groups=["payments", "checkout", "sre"])
    AuditEvent.objects.all().delete()  # only look at what the second login does

    changes = sso_groups_apply(user=user, groups=["checkout"])

    assert _teams_of(user) == {("checkout", "member", "sso"), ("search", "member", "manual")}
    assert not user.groups.filter(name="sre").exists()
    assert not SsoRoleGrant.objects.filter(user=user).exists()
    removed = AuditEvent.objects.filter(action="identity.membership_remove").get()
    assert removed.before == {"team": "payments", "role": "member", "source": "sso"}
    assert AuditEvent.objects.filter(action="identity.role_remove").count() == 1
    assert sorted(changes.removed) == ["payments (member)", "sre"]


def test_role_change_is_audited(user, mappings):
    sso_groups_apply(user=user, groups=["payments"])
    sso_groups_apply(user=user, groups=["payments-leads"])
    assert _teams_of(user) == {("payments", "lead", "sso")}
    event = AuditEvent.objects.get(action="identity.membership_change")
    assert (event.before["role"], event.after["role"]) == ("member", "lead")


def test_manual_platform_role_survives_sso(user, mappings):
    user.groups.add(Group.objects.create(name="sre"))
    sso_groups_apply(user=user, groups=["sre"])
    sso_groups_apply(user=user, groups=[])
    assert user.groups.filter(name="sre").exists()


def test_manual_membership_is_not_taken_over_by_sso(user, mappings, teams):
    TeamMembership.objects.create(user=user, team=teams["payments"], role="member")
    sso_groups_apply(user=user, groups=["payments-leads"])
    sso_groups_apply(user=user, groups=[])
    assert _teams_of(user) == {("payments", "member", "manual")}


def test_unchanged_claim_writes_nothing(user, mappings):
    sso_groups_apply(user=user, groups=["payments"])
    count = AuditEvent.objects.count()
    changes = sso_groups_apply(user=user, groups=["payments"])
    assert AuditEvent.objects.count() == count
    assert (changes.added, changes.removed, changes.changed) == ([], [], [])


def test_team_lead_adds_and_removes_members(make_user, teams):
    lead, newcomer = make_user("lead"), make_user("newcomer")
    TeamMembership.objects.create(user=lead, team=teams["payments"], role="lead")
    membership = membership_add(actor=lead, team=teams["payments"], user=newcomer, role="member")
    with pytest.raises(ValidationFailed, match="already in"):
        membership_add(actor=lead, team=teams["payments"], user=newcomer, role="member")
    membership_remove(actor=lead, membership=membership)
    assert not TeamMembership.objects.filter(user=newcomer).exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "outcome"))
    assert actions == [("identity.membership_add", "done"), ("identity.membership_remove", "done")]


def test_member_of_the_team_cannot_add_members(make_user, teams):
    member, other = make_user("member"), make_user("other")
    TeamMembership.objects.create(user=member, team=teams["payments"], role="member")
    with pytest.raises(PermissionDenied):
        membership_add(actor=member, team=teams["payments"], user=other, role="lead")
    assert TeamMembership.objects.filter(user=other).count() == 0
    assert AuditEvent.objects.get().outcome == "denied"


def test_mapping_needs_exactly_one_target(db, teams):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        SsoGroupMapping(group="x", team=teams["payments"], platform_role="sre").full_clean()
    with pytest.raises(ValidationError):
        SsoGroupMapping(group="x").full_clean()


def test_sso_sre_gets_the_admin_and_loses_it_with_the_role(user, mappings):
    sso_groups_apply(user=user, groups=["sre"])
    user.refresh_from_db()
    assert user.is_staff
    sso_groups_apply(user=user, groups=["payments"])
    user.refresh_from_db()
    assert not user.is_staff
    actions = list(
        AuditEvent.objects.filter(action__startswith="identity.staff")
        .values_list("action", flat=True)
        .order_by("id")
    )
    assert actions == ["identity.staff_add", "identity.staff_remove"]
