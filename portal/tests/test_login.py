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


def _post_from(client, address, username, password):
    return client.post(
        reverse("account_login"), {"login": username, "password": password}, REMOTE_ADDR=address
    )


def test_wrong_password_is_audited_with_the_name_tried(client, user):
    _post_from(client, "198.51.100.4", user.username, "wrong")
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.actor_label) == (
        "identity.login", "denied", f"login:{user.username}",
    )  # fmt: skip
    assert event.ip_address == "198.51.100.4" and event.reason == "wrong password"


def test_failures_from_one_address_do_not_lock_the_real_user_out(client, user, password, settings):
    attacker = "203.0.113.66"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _post_from(client, attacker, user.username, "guess")
    # Now even the right password is refused from the attacker's address...
    locked = _post_from(client, attacker, user.username, password)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(after__locked_out=True).exists()
    # ...while the real user, from their own address, signs in.
    response = _post_from(client, "192.0.2.10", user.username, password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_forwarded_for_from_the_client_cannot_dodge_the_limit(client, user, password, settings):
    settings.TRUSTED_PROXIES = []
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("account_login"), {"login": user.username, "password": "guess"},
            REMOTE_ADDR="203.0.113.66", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )  # fmt: skip
    assert _post_from(client, "203.0.113.66", user.username, password).status_code == 429


def test_failed_sso_sign_in_is_audited(client, oidc, db):
    response = client.get(
        "/accounts/oidc/sso/login/callback/", {"error": "access_denied", "state": "x"}
    )
    assert response.status_code == 401  # allauth's authentication error page
    event = AuditEvent.objects.get(action="identity.login")
    assert (event.outcome, event.actor_label) == ("failed", "sso:sso")
    assert event.after["via"] == "sso"


def test_sessions_end_after_a_working_day(settings):
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_SAMESITE == "Lax"
