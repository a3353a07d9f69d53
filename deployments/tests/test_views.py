import pytest
from django.urls import reverse
from django.utils import timezone

from deployments.models import Release
from deployments.releases.services import release_start
from portal.models import AuditEvent


@pytest.fixture
def paused(owner, ledger, environments):
    release = release_start(
        actor=owner,
        component=ledger,
        environment=environments["prod"],
        version="v2.0.0",
        strategy="canary",
    )
    Release.objects.filter(pk=release.pk).update(
        state="paused",
        current_step=0,
        set_weight=5,
        observed_at=timezone.now(),  # just read
    )
    release.refresh_from_db()
    return release


def test_release_list_filters_and_query_count(client, owner, paused, django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("deployments:release_list"), {"state": "active"})
    assert "v2.0.0" in response.content.decode()
    response = client.get(reverse("deployments:release_list"), {"state": "succeeded"})
    assert "v2.0.0" not in response.content.decode()


def test_anonymous_is_sent_to_login(client, paused):
    response = client.get(paused.get_absolute_url())
    assert response.status_code == 302


def test_detail_shows_what_promotion_does(client, owner, paused):
    client.force_login(owner)
    html = client.get(paused.get_absolute_url()).content.decode()
    assert "Paused at 5%" in html
    assert "Promoting moves 25% of traffic to v2.0.0" in html
    assert 'hx-trigger="every 2s"' in html


def test_htmx_fragment_polls_until_terminal(client, owner, paused):
    client.force_login(owner)
    response = client.get(paused.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b"<h1>" not in response.content and b"release-status" in response.content
    Release.objects.filter(pk=paused.pk).update(state="succeeded")
    response = client.get(paused.get_absolute_url(), HTTP_HX_REQUEST="true")
    assert response.status_code == 286  # htmx stops polling
    assert b"every 2s" not in response.content


def test_owner_promotes(client, owner, paused):
    client.force_login(owner)
    response = client.post(reverse("deployments:release_promote", args=[paused.pk]))
    assert response.status_code == 302
    paused.refresh_from_db()
    assert paused.state == "progressing"


def test_outsider_cannot_promote_and_nothing_changes(client, outsider, paused):
    client.force_login(outsider)
    response = client.post(reverse("deployments:release_promote", args=[paused.pk]))
    assert response.status_code == 403
    assert b"not allowed" in response.content
    paused.refresh_from_db()
    assert paused.state == "paused"
    assert AuditEvent.objects.filter(action="release.promote", outcome="denied").exists()


def test_abort_without_reason_is_refused_with_message(client, owner, paused):
    client.force_login(owner)
    response = client.post(reverse("deployments:release_abort", args=[paused.pk]), follow=True)
    assert "Say why you abort" in response.content.decode()
    paused.refresh_from_db()
    assert paused.state == "paused"


def test_outsider_cannot_abort(client, outsider, paused):
    client.force_login(outsider)
    response = client.post(reverse("deployments:release_abort", args=[paused.pk]), {"reason": "x"})
    assert response.status_code == 403
    paused.refresh_from_db()
    assert paused.state == "paused"


def test_start_form_denied_for_outsider(client, outsider, ledger, environments):
    client.force_login(outsider)
    url = reverse("deployments:release_start", args=[ledger.pk])
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"environment": environments["staging"].pk, "version": "v1.0.0", "strategy": "rolling"}
    )
    assert response.status_code == 403
    assert not Release.objects.exists()


def test_start_form_reports_conflict_inline(client, owner, ledger, environments, paused):
    client.force_login(owner)
    url = reverse("deployments:release_start", args=[ledger.pk])
    response = client.post(
        url, {"environment": environments["prod"].pk, "version": "v2.1.0", "strategy": "rolling"}
    )
    assert response.status_code == 200
    assert "already has a release in progress" in response.content.decode()
    assert Release.objects.count() == 1
