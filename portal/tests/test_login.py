import pytest
from django.urls import reverse

from portal.models import AuditEvent


def _post_login(client, username, password):
    return client.post(reverse("account_login"), {"login": username, "password": password})


def test_local_login_works_when_enabled(client, user, password):
    response = _post_login(client, user.username, password)
    assert response.status_code == 302
    assert AuditEvent.objects.get().action == "identity.login"


@pytest.fixture
def local_off(settings):
    settings.LOCAL_LOGIN_ENABLED = False


def test_disabled_local_login_hides_form_and_refuses_post(client, user, password, local_off):
    page = client.get(reverse("account_login")).content.decode()
    assert 'name="password"' not in page
    response = _post_login(client, user.username, password)
    assert response.status_code == 200
    assert "Password sign-in is turned off" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.get().outcome == "denied"


def test_disabled_local_login_says_the_same_for_a_wrong_password(client, user, local_off):
    response = _post_login(client, user.username, "wrong")
    assert "Password sign-in is turned off" in response.content.decode()


def test_superuser_keeps_break_glass_login_and_it_is_audited(
    client, make_user, password, local_off
):
    make_user("root", is_superuser=True, is_staff=True)
    assert 'name="password"' in client.get("/accounts/login/?break_glass=1").content.decode()
    response = _post_login(client, "root", password)
    assert response.status_code == 302
    assert AuditEvent.objects.get().action == "identity.break_glass_login"


def test_sso_button_is_on_the_login_page(client, oidc, db):
    html = client.get(reverse("account_login")).content.decode()
    assert 'data-sso="sso"' in html
    assert "/accounts/oidc/sso/login/" in html


def test_no_sso_button_without_a_provider(client, db, settings):
    settings.OIDC_SANDBOX_ENABLED = False
    assert "data-sso" not in client.get(reverse("account_login")).content.decode()
