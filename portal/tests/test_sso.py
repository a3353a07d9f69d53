"""SSO end to end against the sandbox provider (panva/oidc-provider on Node)."""

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests

from portal.models import AuditEvent, SsoGroupMapping, TeamMembership
from sandbox.oidc import CLIENT_ID, CLIENT_SECRET, PASSWORD, sandbox_user_groups_set


def _discovery(url):
    return requests.get(f"{url}/.well-known/openid-configuration", timeout=5).json()


def test_sandbox_provider_serves_discovery_and_jwks(oidc):
    url = oidc.endpoints["oidc"]
    config = _discovery(url)
    assert config["issuer"] == url
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "groups" in config["claims_supported"]
    keys = requests.get(config["jwks_uri"], timeout=5).json()["keys"]
    assert keys and keys[0]["kty"] == "RSA" and "d" not in keys[0]


def _sign_in_by_hand(session, config, username, redirect_uri):
    """Drive the authorization code flow over HTTP, as a browser would; return the token body."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "openid profile email groups",
        "redirect_uri": redirect_uri,
        "state": "s",
        "nonce": "n",
        "code_challenge": challenge.decode(),
        "code_challenge_method": "S256",
    }
    response = session.get(config["authorization_endpoint"], params=params, timeout=5)
    action = re.search(r'action="([^"]+/login)"', response.text).group(1)
    response = session.post(
        config["issuer"] + action, data={"username": username, "password": PASSWORD}, timeout=5
    )
    action = re.search(r'action="([^"]+/confirm)"', response.text).group(1)
    response = session.post(config["issuer"] + action, allow_redirects=False, timeout=5)
    while "code=" not in response.headers.get("Location", ""):
        response = session.get(response.headers["Location"], allow_redirects=False, timeout=5)
    code = parse_qs(urlparse(response.headers["Location"]).query)["code"][0]
    return session.post(
        config["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=5,
    ).json()


def test_id_token_is_signed_and_carries_groups(oidc):
    config = _discovery(oidc.endpoints["oidc"])
    tokens = _sign_in_by_hand(
        requests.Session(),
        config,
        "alice",
        "http://127.0.0.1:8123/accounts/oidc/sso/login/callback/",
    )
    signing_key = jwt.PyJWKClient(config["jwks_uri"]).get_signing_key_from_jwt(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"],
        signing_key.key,
        algorithms=["RS256"],
        audience=CLIENT_ID,
        issuer=config["issuer"],
    )
    assert claims["groups"] == ["payments-leads"]
    assert claims["preferred_username"] == "alice"


def test_authorization_without_pkce_is_refused(oidc):
    config = _discovery(oidc.endpoints["oidc"])
    response = requests.get(
        config["authorization_endpoint"],
        params={
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": "http://127.0.0.1:8123/accounts/oidc/sso/login/callback/",
        },
        allow_redirects=False,
        timeout=5,
    )
    error = parse_qs(urlparse(response.headers["Location"]).query)
    assert error["error"] == ["invalid_request"]
    assert "PKCE" in error["error_description"][0]


@pytest.fixture
def payments_mappings(teams):
    SsoGroupMapping.objects.create(group="payments", team=teams["payments"])
    SsoGroupMapping.objects.create(group="payments-leads", team=teams["payments"], team_role="lead")
    SsoGroupMapping.objects.create(group="checkout", team=teams["checkout"])
    return teams


def _browser_sso_login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("button[data-sso]")
    page.wait_for_url(re.compile(r".*/interaction/.*"))
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.click("button:has-text('Allow')")
    page.wait_for_url(f"{live_server.url}/")
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sso_sign_in_lands_on_dashboard_with_teams_and_follows_group_changes(
    page, live_server, oidc, payments_mappings
):
    _browser_sso_login(page, live_server, "alice")
    card = page.locator("section.your-teams")
    assert "Payments" in card.inner_text() and "lead" in card.inner_text()
    assert page.locator("h1").inner_text() == "Hello, Alice"

    sandbox_user_groups_set(directory=oidc.state.directory, username="alice", groups=["checkout"])
    page.context.clear_cookies()
    _browser_sso_login(page, live_server, "alice")
    teams_text = page.locator("section.your-teams").inner_text()
    assert "Checkout" in teams_text and "Payments" not in teams_text
    memberships = TeamMembership.objects.filter(user__username="alice")
    assert [(m.team.name, m.source) for m in memberships] == [("checkout", "sso")]
    actions = list(
        AuditEvent.objects.filter(actor__username="alice").values_list("action", flat=True)
    )
    assert actions.count("identity.login") == 2
    assert "identity.membership_remove" in actions


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_wrong_sso_password_stays_at_the_provider(page, live_server, oidc):
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("button[data-sso]")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong")
    page.click("button[type=submit]")
    assert "wrong password" in page.locator("[role=alert]").inner_text()
    assert not TeamMembership.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sso_signs_into_existing_local_account_with_the_same_email(
    page, live_server, oidc, payments_mappings, make_user
):
    local = make_user("bob", first_name="Robert")
    _browser_sso_login(page, live_server, "bob")
    assert page.locator("h1").inner_text() == "Hello, Robert"
    membership = TeamMembership.objects.get()
    assert (membership.user, membership.team.name, membership.role) == (local, "payments", "member")
