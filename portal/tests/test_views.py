import pytest
from django.test import override_settings
from django.urls import reverse

from catalog.models import Component


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_login_page_is_public_and_styled(client, db):
    response = client.get(reverse("account_login"))
    assert response.status_code == 200
    assert b"Switchyard" in response.content


def test_local_signup_is_closed(client, db):
    response = client.get(reverse("account_signup"))
    assert b"Sign Up Closed" in response.content or response.status_code in (302, 403)


def test_dashboard_shows_counts_and_navigation(signed_in, db):
    Component.objects.create(name="checkout", title="Checkout")
    response = signed_in.get(reverse("portal:dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    for label in ("Catalog", "Releases", "Approvals", "APIs"):
        assert f">{label}</a>" in html
    assert "Checkout" in html
    assert 'hx-headers=\'{"X-CSRFToken"' in html
    assert "htmx" in html


def test_admin_link_for_whoever_the_admin_site_lets_in(client, make_user):
    from django.contrib.auth.models import Group

    staff = make_user("staffer", is_staff=True)
    sre = make_user("sam")  # an SRE by group, not staff: the admin site lets them in
    sre.groups.add(Group.objects.get_or_create(name="sre")[0])
    plain = make_user("plain")
    client.force_login(plain)
    assert ">Admin</a>" not in client.get("/").content.decode()
    assert client.get("/admin/").status_code == 302
    for person in (staff, sre):
        client.force_login(person)
        assert ">Admin</a>" in client.get("/").content.decode()
        assert client.get("/admin/").status_code == 200


def test_search_finds_components_by_description(signed_in, db):
    Component.objects.create(name="ledger", description="Keeps the double-entry books")
    Component.objects.create(name="cart", description="Shopping cart")
    response = signed_in.get(reverse("portal:search"), {"q": "double-entry"})
    html = response.content.decode()
    assert "ledger" in html and "cart" not in html


def test_healthz_is_public_json(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_reports_broker_down_with_503(client, db, settings):
    from portal.celery import app

    old = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get("/healthz")
    finally:
        app.conf.broker_url = old
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


@override_settings(DEBUG=False)
def test_unknown_url_gets_styled_404(signed_in):
    response = signed_in.get("/no/such/page/")
    assert response.status_code == 404
    assert b"Page not found" in response.content
    assert b"Switchyard" in response.content


def test_server_error_page_leaks_nothing(rf):
    from portal.views import server_error

    response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"Traceback" not in response.content


def test_request_id_is_returned(signed_in):
    response = signed_in.get("/", HTTP_X_REQUEST_ID="abc123")
    assert response["X-Request-Id"] == "abc123"
