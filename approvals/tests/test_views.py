from datetime import timedelta

import pytest
from django.utils import timezone

from approvals.models import ApprovalRequest
from portal.models import TeamMembership


@pytest.fixture
def approval(ledger, environments, owner):
    ledger.repository = "https://github.com/example/ledger"
    ledger.save()
    return ApprovalRequest.objects.create(
        component=ledger,
        environment=environments["prod"],
        rollout_phase="canary 5% verified",
        weight=5,
        requested_by=owner,
        requester_label="olivia",
        from_version="1.2.0",
        to_version="1.3.0",
        expires_at=timezone.now() + timedelta(minutes=30),
    )


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


def test_colleague_sees_decision_buttons_and_what_changes(client, colleague, approval, settings):
    settings.INTEGRATION_URLS = {"github": "https://api.github.com"}
    client.force_login(colleague)
    html = client.get(approval.get_absolute_url()).content.decode()
    assert 'value="approve"' in html and 'value="abort"' in html
    assert "https://github.com/example/ledger/compare/1.2.0...1.3.0" in html
    assert "Blast radius" in html


def test_requester_is_told_someone_else_decides(client, owner, approval):
    client.force_login(owner)
    html = client.get(approval.get_absolute_url()).content.decode()
    assert 'value="approve"' not in html
    assert "You asked for this release" in html


def test_inbox_lists_what_the_person_may_decide(client, colleague, owner, outsider, approval):
    client.force_login(colleague)
    assert "canary 5% verified" in client.get("/approvals/").content.decode()
    client.force_login(owner)  # the requester
    assert "canary 5% verified" not in client.get("/approvals/").content.decode()
    client.force_login(outsider)
    assert "canary 5% verified" not in client.get("/approvals/").content.decode()


def test_service_page_shows_the_pending_approval(client, outsider, approval):
    client.force_login(outsider)
    html = client.get(approval.component.get_absolute_url()).content.decode()
    assert "Waiting for approval" in html and "canary 5% verified" in html


def test_decide_view_approves_and_redirects(client, colleague, approval):
    client.force_login(colleague)
    response = client.post(f"/approvals/{approval.pk}/decide/", {"decision": "approve"})
    assert response.status_code == 302
    approval.refresh_from_db()
    assert approval.state == "approved"


def test_decide_view_never_redirects_off_site(client, colleague, approval):
    client.force_login(colleague)
    response = client.post(
        f"/approvals/{approval.pk}/decide/",
        {"decision": "approve", "next": "https://evil.example/phish"},
    )
    assert response.status_code == 302
    assert response["Location"] == approval.get_absolute_url()


def test_a_nul_in_the_comment_is_a_400_and_decides_nothing(client, colleague, approval):
    client.force_login(colleague)
    response = client.post(
        f"/approvals/{approval.pk}/decide/", {"decision": "approve", "comment": "ok\x00"}
    )
    assert response.status_code == 400
    approval.refresh_from_db()
    assert approval.state == "pending"


def test_requester_may_abort_but_not_approve_and_superuser_gets_no_buttons(
    client, owner, make_user, approval
):
    client.force_login(owner)
    html = client.get(approval.get_absolute_url()).content.decode()
    assert 'value="abort"' in html and 'value="promote-full"' not in html
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    for url in (approval.get_absolute_url(),):
        html = client.get(url, headers={"HX-Request": "true"}).content.decode()
        assert 'value="approve"' not in html and 'value="abort"' not in html
