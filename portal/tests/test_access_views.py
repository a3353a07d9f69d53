import json

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import connection
from django.template import Context, Template
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from catalog.models import Component
from portal.audit import audit_record
from portal.models import AuditEvent


@pytest.fixture
def sre(make_user):
    person = make_user("sam")
    person.groups.add(Group.objects.create(name="sre"))
    return person


@pytest.fixture
def events(user, db):
    ledger = Component.objects.create(name="ledger")
    cart = Component.objects.create(name="cart")
    made = [
        audit_record(actor=user, action="deploy.scale", component=ledger, after={"replicas": i})
        for i in range(3)
    ]
    made.append(audit_record(actor=user, action="deploy.restart", component=cart))
    made.append(audit_record(actor=None, actor_label="workflow:gh", action="approval.create"))
    made.append(audit_record(actor=user, action="deploy.scale", outcome="denied"))
    return made


def test_audit_page_filters_by_actor_action_outcome_component(client, user, events):
    client.force_login(user)
    url = reverse("portal:audit_list")
    html = client.get(url, {"component": "ledger"}).content.decode()
    assert html.count('id="audit-') == 3
    html = client.get(url, {"actor": "workflow:gh"}).content.decode()
    assert html.count('id="audit-') == 1 and "approval.create" in html
    html = client.get(url, {"action": "deploy.", "outcome": "denied"}).content.decode()
    assert html.count('id="audit-') == 1


def test_audit_page_date_range_and_bad_input(client, user, events):
    client.force_login(user)
    url = reverse("portal:audit_list")
    today = events[0].created_at.date().isoformat()
    html = client.get(url, {"since": today, "until": today}).content.decode()
    assert html.count('id="audit-') == len(events)
    html = client.get(url, {"until": "2000-01-01"}).content.decode()
    assert html.count('id="audit-') == 0
    response = client.get(url, {"since": "yesterday"})
    assert response.status_code == 200
    assert "since must be a date" in response.content.decode()


def test_audit_page_query_count_does_not_grow(client, user, events):
    client.force_login(user)
    url = reverse("portal:audit_list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(40):
        audit_record(actor=user, action="deploy.scale", component=events[0].component, after=i)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_export_is_json_lines_for_sre_and_is_audited(client, sre, events):
    client.force_login(sre)
    response = client.get(reverse("portal:audit_export"), {"component": "ledger"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in b"".join(response.streaming_content).splitlines()]
    assert lines[0] == {"export": {"filters": {"component": "ledger"}}}
    assert "signature" in lines[-1]["checkpoint"]
    rows = lines[1:-1]
    assert [row["after"] for row in rows] == [{"replicas": 0}, {"replicas": 1}, {"replicas": 2}]
    assert rows[0]["component"] == "ledger" and rows[0]["entry_hash"] == events[0].entry_hash
    assert AuditEvent.objects.filter(action="audit.export", actor=sre).exists()


def test_export_is_refused_to_engineers_and_the_refusal_audited(client, user, events):
    client.force_login(user)
    response = client.get(reverse("portal:audit_export"))
    assert response.status_code == 403
    assert AuditEvent.objects.filter(action="audit.export", outcome="denied").exists()


def test_recent_activity_tag_shows_component_events(user, events):
    template = Template("{% load audit_tags %}{% recent_activity component %}")
    with CaptureQueriesContext(connection) as queries:
        html = template.render(Context({"component": events[0].component}))
    assert html.count('id="audit-') == 3
    assert "?component=ledger" in html
    assert len(queries) == 1


def test_audit_admin_is_read_only(client, make_user, events):
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 200
    change = reverse("admin:portal_auditevent_change", args=[events[0].pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"reason": "edited"}).status_code == 403
    assert client.get(reverse("admin:portal_auditevent_add")).status_code == 403
    delete = reverse("admin:portal_auditevent_delete", args=[events[0].pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    call_command("audit_verify")


def test_mapping_admin_changes_are_audited(client, make_user, db):
    from catalog.models import Team

    team = Team.objects.create(name="payments")
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:portal_ssogroupmapping_add"),
        {"group": "payments", "team": team.pk, "team_role": "lead", "platform_role": ""},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get()
    assert event.action == "identity.mapping.admin_add"


def test_audit_verify_command_reports_intact(events, capsys):
    call_command("audit_verify")
    assert f"intact ({len(events)} events)" in capsys.readouterr().out


def test_audit_verify_command_names_tampered_row(events):
    AuditEvent.objects.filter(pk=events[2].pk).update(actor_label="somebody-else")
    with pytest.raises(CommandError, match=f"event {events[2].pk}"):
        call_command("audit_verify")


def test_platform_admin_manages_mappings_in_admin_and_sre_cannot(client, make_user, db):
    admin_user = make_user("pa", is_staff=True)
    admin_user.groups.add(Group.objects.create(name="platform-admin"))
    sre_user = make_user("sre-staff", is_staff=True)
    sre_user.groups.add(Group.objects.create(name="sre"))
    add_url = reverse("admin:portal_ssogroupmapping_add")
    data = {"group": "sre", "team": "", "team_role": "member", "platform_role": "sre"}

    client.force_login(sre_user)
    assert client.get(reverse("admin:portal_ssogroupmapping_changelist")).status_code == 403
    assert client.post(add_url, data).status_code == 403

    client.force_login(admin_user)
    assert "SSO group mappings" in client.get(reverse("admin:index")).content.decode()
    assert client.post(add_url, data).status_code == 302
    assert AuditEvent.objects.get().action == "identity.mapping.admin_add"
