"""CDEvent sinks in the admin: platform admins add, change and delete them through the audited
services; everyone else is refused and nothing changes. The outbox is read-only."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from deployments.cdevents.models import CDEvent, EventSink
from deployments.cdevents.services import event_sink_save
from portal.errors import PermissionDenied, ValidationFailed
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db
ADD = "admin:deployments_eventsink_add"
FORM = {"name": "ci-bus", "url": "https://events.example.com/cdevents", "mode": "binary",
        "enabled": "on", "token": "s3cret"}  # fmt: skip


@pytest.fixture
def platform_admin(make_user):
    user = make_user("pia", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return user


@pytest.fixture
def staff_sre(make_user):
    user = make_user("sam", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="sre")[0])
    return user


def test_platform_admin_adds_a_sink_and_it_is_audited_without_the_token(client, platform_admin):
    client.force_login(platform_admin)
    response = client.post(reverse(ADD), FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    sink = EventSink.objects.get()
    assert (sink.url, sink.token, sink.created_by) == (FORM["url"], "s3cret", platform_admin)
    event = AuditEvent.objects.get(action="cdevents.sink_add")
    assert event.actor == platform_admin and event.after["url"] == FORM["url"]
    assert "s3cret" not in str(event.after) and event.after["token"] == "(set)"


def test_changing_a_sink_keeps_its_token_and_audits_before_and_after(client, platform_admin):
    sink = EventSink.objects.create(name="ci-bus", url=FORM["url"], token="s3cret")
    client.force_login(platform_admin)
    url = reverse("admin:deployments_eventsink_change", args=[sink.pk])
    response = client.post(url, FORM | {"token": "", "enabled": ""})
    assert response.status_code == 302
    sink.refresh_from_db()
    assert sink.token == "s3cret" and not sink.enabled
    event = AuditEvent.objects.get(action="cdevents.sink_change")
    assert event.before["enabled"] is True and event.after["enabled"] is False


def test_deleting_a_sink_is_audited(client, platform_admin):
    sink = EventSink.objects.create(name="ci-bus")
    client.force_login(platform_admin)
    response = client.post(
        reverse("admin:deployments_eventsink_delete", args=[sink.pk]), {"post": "yes"}
    )
    assert response.status_code == 302 and not EventSink.objects.exists()
    assert AuditEvent.objects.filter(action="cdevents.sink_delete").count() == 1


@pytest.mark.parametrize("persona", ["staff_sre", "superuser_only"])
def test_others_may_not_add_or_change_sinks_and_nothing_changes(client, persona, request,
                                                                 make_user):  # fmt: skip
    user = (
        request.getfixturevalue("staff_sre")
        if persona == "staff_sre"
        else make_user("root", is_staff=True, is_superuser=True)
    )
    sink = EventSink.objects.create(name="existing", url="https://a.example.com/")
    client.force_login(user)
    assert client.post(reverse(ADD), FORM).status_code == 403
    change = reverse("admin:deployments_eventsink_change", args=[sink.pk])
    client.post(change, FORM)
    delete = reverse("admin:deployments_eventsink_delete", args=[sink.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert list(EventSink.objects.values_list("name", "url")) == [
        ("existing", "https://a.example.com/")
    ]


def test_the_service_refuses_a_non_admin_and_audits_the_refusal(make_user):
    outsider = make_user("oscar")
    with pytest.raises(PermissionDenied):
        event_sink_save(actor=outsider, sink=EventSink(name="x"), before=None)
    assert not EventSink.objects.exists()
    assert AuditEvent.objects.filter(action="cdevents.sink_add", outcome="denied").count() == 1


def test_sres_read_the_outbox_but_cannot_edit_it(client, staff_sre):
    client.force_login(staff_sre)
    assert client.get(reverse("admin:deployments_cdevent_changelist")).status_code == 200
    assert client.get(reverse("admin:deployments_cdevent_add")).status_code == 403
    assert client.get(reverse("admin:deployments_eventsink_changelist")).status_code == 200
    assert not CDEvent.objects.exists()


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:8080/events", "a loopback address"),
        ("http://localhost:8080/events", "a loopback address"),
        ("http://10.0.0.7/events", "a private address"),
        ("http://169.254.169.254/latest/meta-data", "a cloud metadata address"),
    ],
)
def test_a_sink_at_an_inside_address_is_refused_with_the_reason(client, platform_admin, settings,
                                                               url, why):  # fmt: skip
    settings.CDEVENTS_ALLOWED_NETWORKS = []  # production: nothing inside allowed
    client.force_login(platform_admin)
    response = client.post(reverse(ADD), {**FORM, "url": url})
    assert response.status_code == 200  # the form again, with the reason under the URL
    assert why in response.content.decode()
    assert not EventSink.objects.exists()
    assert not AuditEvent.objects.filter(action="cdevents.sink_add").exists()


def test_the_allowed_networks_setting_admits_the_sandbox_sink_on_loopback(client, platform_admin,
                                                                          settings):  # fmt: skip
    settings.CDEVENTS_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    client.force_login(platform_admin)
    response = client.post(reverse(ADD), {**FORM, "url": "http://127.0.0.1:8080/events"})
    assert response.status_code == 302
    assert EventSink.objects.get().url == "http://127.0.0.1:8080/events"


def test_the_service_refuses_an_inside_address_too(platform_admin, settings):
    settings.CDEVENTS_ALLOWED_NETWORKS = []
    sink = EventSink(name="inside", url="http://192.168.1.20/events")
    with pytest.raises(ValidationFailed, match="a private address"):
        event_sink_save(actor=platform_admin, sink=sink, before=None)
    assert not EventSink.objects.exists()
