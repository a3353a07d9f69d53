"""Every mutating URL of the project × every persona: allowed or denied, and a refusal changes
nothing. Rows live in each app's tests/rbac.py (RBAC_CASES); the URL conf is walked so that a
new mutating view without a row fails here."""

import importlib
import inspect

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from portal.models import AuditEvent
from portal.tests.rbac_world import PERSONAS, db_snapshot, world_build

# URL prefixes that are not ours to put in the table, and why.
EXCLUDED_PREFIXES = {
    "admin/": "the Django admin checks model and object permissions itself (RulesAdminMixin), "
    "and its saves are audited by the mixin",
    "accounts/": "django-allauth: sign-in, sign-out and SSO callbacks are authentication, "
    "not authorization; sign-up is closed by the adapters",
}


def _cases():
    cases = []
    for config in apps.get_app_configs():
        path = str(config.path)
        if not path.startswith(str(settings.BASE_DIR)) or "site-packages" in path:
            continue  # third-party apps have no rows
        try:
            module = importlib.import_module(f"{config.name}.tests.rbac")
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith(f"{config.name}.tests"):
                continue
            raise
        cases.extend(module.RBAC_CASES)
    return cases


CASES = _cases()


def _walk(resolver, namespace="", route=""):
    """(URL name, full route, view) of every pattern, into includes and namespaces."""
    for pattern in resolver.url_patterns:
        full = route + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern, inner, full)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else full
            yield name, full, pattern.callback


def _excluded(route: str) -> bool:
    return any(route.startswith(prefix) for prefix in EXCLUDED_PREFIXES)


def _accepts_post_unmarked(callback) -> bool:
    """An unmarked view that looks like it handles POST: a class with post(), or a function whose
    source reads request.POST / compares request.method."""
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        return hasattr(view_class, "post") or hasattr(view_class, "form_valid")
    try:
        source = inspect.getsource(inspect.unwrap(callback))
    except (OSError, TypeError):
        return False
    return "request.POST" in source or "request.method" in source


def test_every_mutating_url_has_a_row():
    covered = {case["url_name"] for case in CASES}
    missing, unmarked, seen = [], [], set()
    for name, route, callback in _walk(get_resolver()):
        if _excluded(route):
            continue
        if getattr(callback, "mutating", False):
            seen.add(name)
            if name not in covered:
                missing.append(name)
        elif _accepts_post_unmarked(callback):
            unmarked.append(name)
    assert not missing, f"mutating URLs without an RBAC_CASES row: {missing}"
    assert not unmarked, f"views that take POST but are not @mutating: {unmarked}"
    stale = covered - seen
    assert not stale, f"RBAC_CASES rows for URLs that are not @mutating views: {sorted(stale)}"
    assert seen, "the project has mutating URLs; finding none means the walk is broken"


def _allowed(case, persona) -> bool:
    if persona == "requester" and not case.get("request_scoped"):
        return "owner_member" in case["allowed"]  # not about a request: one more owner member
    return persona in case["allowed"]


def test_superuser_is_allowed_nothing_in_the_product():
    granted = [
        case["url_name"]
        for case in CASES
        if "superuser" in case["allowed"] and not case.get("personal")  # one's own data
    ]
    assert not granted, f"superuser status must grant nothing in the product: {granted}"


def test_request_scoped_rows_say_what_the_requester_may_do():
    for case in CASES:
        if case.get("request_scoped"):
            assert "owner_member" in case["allowed"] or "requester" not in case["allowed"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("case", CASES, ids=[case["url_name"] for case in CASES])
def test_persona_is_allowed_or_denied(case, persona, client, db, request):
    world = world_build()
    if case.get("teardown"):
        request.addfinalizer(lambda: case["teardown"](world))
    if case.get("setup"):
        case["setup"](world)
    snapshot = case.get("snapshot") or (lambda w: db_snapshot())
    before = snapshot(world)
    user = world.users[persona]
    if user is not None:
        client.force_login(user)
    denials_before = AuditEvent.objects.filter(outcome="denied").count()

    if case.get("post"):  # a door that is not a signed-in page (Slack): the row says how
        response = case["post"](client, world, persona)
    else:
        response = client.post(case["url"](world), case.get("data", lambda w: {})(world))

    after = snapshot(world)
    if _allowed(case, persona):
        assert response.status_code < 400, f"{persona} was refused ({response.status_code})"
        assert after != before, f"{persona} was allowed but nothing changed"
        return
    assert after == before, f"{persona} was refused but the database changed"
    if "refused_status" in case:  # e.g. Slack: 200, the refusal is in the person's answer
        assert response.status_code == case["refused_status"], f"{persona} got {response}"
    elif user is None:
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    else:
        assert response.status_code in (403, 404), f"{persona} got {response.status_code}"
    if case.get("audits_denial", True):
        assert AuditEvent.objects.filter(outcome="denied").count() == denials_before + 1
