"""Passwords are stored with Argon2id (OWASP parameters); older PBKDF2 hashes upgrade at login."""

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from portal import settings as project_settings


def test_new_passwords_are_argon2id_with_owasp_parameters(settings, db):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    assert make_password("switchyard-demo").startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_a_pbkdf2_password_still_signs_in_and_is_rehashed(settings, client, db):
    settings.PASSWORD_HASHERS = project_settings.PASSWORD_HASHERS
    user = get_user_model().objects.create(
        username="old", password=make_password("s3cret-pass", hasher="pbkdf2_sha256")
    )
    response = client.post("/accounts/login/", {"login": "old", "password": "s3cret-pass"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
