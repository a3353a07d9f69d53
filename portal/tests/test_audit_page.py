"""The audit page reads at a glance: changes by default, a before/after diff, honest refusals."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.audit import audit_record
from portal.models import AuditEvent


@pytest.fixture
def sre_user(make_user):
    user = make_user("sreuser")
    user.groups.add(Group.objects.get_or_create(name="sre")[0])
    return user


@pytest.fixture
def events(sre_user):
    audit_record(actor=sre_user, action="identity.login")
    audit_record(
        actor=sre_user, action="control.scale", environment="staging",
        before={"replicas": 2, "paused": False}, after={"replicas": 4, "paused": False},
    )  # fmt: skip


def test_audit_page_shows_changes_not_sign_ins_by_default(client, sre_user, events):
    client.force_login(sre_user)
    body = client.get(reverse("portal:audit_list")).content.decode()
    assert "control.scale" in body and "identity.login" not in body
    assert '<option value="changes" selected>' in body
    everything = client.get(reverse("portal:audit_list"), {"show": "all"}).content.decode()
    assert "identity.login" in everything and "control.scale" in everything
    sign_ins = client.get(reverse("portal:audit_list"), {"show": "sign-ins"}).content.decode()
    assert "identity.login" in sign_ins and "control.scale" not in sign_ins


def test_before_and_after_read_as_a_diff_not_python_dicts(client, sre_user, events):
    client.force_login(sre_user)
    body = client.get(reverse("portal:audit_list")).content.decode()
    assert "{&#x27;replicas&#x27;" not in body and "{'replicas'" not in body
    assert '<th scope="row">replicas</th>' in body
    assert "<del>2</del>" in body and "<ins>4</ins>" in body
    assert '<tr class="muted"><th scope="row">paused</th>' in body  # unchanged fields are muted


def test_unknown_show_is_a_clear_error(client, sre_user, events):
    client.force_login(sre_user)
    body = client.get(reverse("portal:audit_list"), {"show": "bogus"}).content.decode()
    assert "Unknown show" in body and "control.scale" not in body


def test_export_follows_the_show_filter(client, sre_user, events):
    client.force_login(sre_user)
    lines = b"".join(
        client.get(reverse("portal:audit_export"), {"show": "changes"}).streaming_content
    ).decode()
    assert "control.scale" in lines and "identity.login" not in lines


def test_a_refused_page_view_does_not_claim_to_be_audited(client, make_user):
    from catalog.models import Component, Team

    team = Team.objects.create(name="payments")
    component = Component.objects.create(name="ledger", owner=team)
    client.force_login(make_user("carol"))
    before = AuditEvent.objects.count()
    response = client.get(reverse("deployments:release_start", args=[component.pk]))
    assert response.status_code == 403
    assert "recorded in the audit log" not in response.content.decode()
    assert AuditEvent.objects.count() == before


def test_a_refused_action_says_it_was_audited(client, make_user):
    from catalog.models import Component, ComponentEnvironment, Environment, Team

    team = Team.objects.create(name="payments")
    component = Component.objects.create(name="ledger", owner=team)
    env = Environment.objects.create(name="staging")
    ComponentEnvironment.objects.create(component=component, environment=env)
    client.force_login(make_user("carol"))
    response = client.post(
        reverse("deployments:release_start", args=[component.pk]),
        {"environment": env.pk, "version": "1.0.0", "strategy": "rolling"},
    )
    assert response.status_code == 403
    assert "recorded in the audit log" in response.content.decode()
    assert AuditEvent.objects.filter(outcome="denied", action="release.start").exists()


def test_admin_audit_list_has_the_target_column_and_wrapping_css(admin_client, sre_user, events):
    body = admin_client.get("/admin/portal/auditevent/").content.decode()
    assert "column-target_label" in body and "css/admin-audit.css" in body
