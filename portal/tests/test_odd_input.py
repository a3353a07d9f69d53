"""Odd input in query strings and forms gives a 400 or a form error, never a 500.

Run it on PostgreSQL too (DATABASE_URL): SQLite stores NUL characters that PostgreSQL refuses.
"""

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from portal.models import AuditEvent

ODD_VALUES = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "-0",
    "1e16",
    "NaN",
    "[1]",
    "%",
    "'\"><script>",
    "é\ud7ff",
]
PARAMS = (
    "q", "page", "component", "actor", "action", "outcome", "since", "until", "env",
    "environment", "state", "kind", "owner", "team", "lifecycle", "type", "sort", "op",
    "example", "system", "namespace", "depth", "edge", "next",
)  # fmt: skip
# Not pages of ours: allauth's and the admin's own forms, and the machine API (JSON only).
SKIPPED_PREFIXES = ("accounts/", "admin/", "api/")


def _plain_get_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _plain_get_routes(pattern, route)
        elif isinstance(pattern, URLPattern) and "<" not in route and "(" not in route:
            if not getattr(pattern.callback, "mutating", False) and not route.startswith(
                SKIPPED_PREFIXES
            ):
                yield "/" + route.lstrip("^").rstrip("$")


@pytest.fixture
def sre_client(sre, ledger):
    client = Client(raise_request_exception=False)
    client.force_login(sre)
    return client


def test_routes_are_found():
    routes = list(_plain_get_routes())
    assert "/search/" in routes and "/audit/" in routes and "/catalog/" in routes


@pytest.mark.parametrize("value", ODD_VALUES)
def test_odd_query_values_never_give_a_500(sre_client, value):
    failures = []
    for route in _plain_get_routes():
        response = sre_client.get(route, {name: value for name in PARAMS})
        if response.status_code >= 500:
            failures.append((route, response.status_code))
    assert failures == []


def test_nul_in_a_query_is_a_400_with_a_message(sre_client):
    response = sre_client.get("/search/", {"q": "led\x00ger"})
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_nul_in_a_form_changes_nothing(sre_client, ledger):
    before = AuditEvent.objects.count()
    response = sre_client.post(
        f"/catalog/{ledger.metadata_namespace}/{ledger.name}/", {"reason": "x\x00", "title": "\x00"}
    )
    assert response.status_code == 400
    assert AuditEvent.objects.count() == before


def test_nul_in_a_machine_json_body_is_a_json_400(client, db):
    response = client.post(
        "/api/v1/approvals", '{"component": "ledger\\u0000"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "The request contains a NUL character, which no field accepts."
    }


def test_binary_uploads_may_hold_nul_bytes(sre_client):
    response = sre_client.post("/search/", b"PK\x03\x04\x00\x00", content_type="application/zip")
    assert response.status_code != 400


def _mutating_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _mutating_routes(pattern, route)
        elif getattr(pattern.callback, "mutating", False):
            yield pattern, route


def test_every_mutating_view_refuses_a_nul_in_reasons_comments_and_titles(sre_client):
    import re

    from django.urls import reverse

    seen = 0
    for pattern, _route in _mutating_routes():
        if not pattern.name:
            continue
        converters = re.findall(r"<(?:(\w+):)?(\w+)>", str(pattern.pattern))
        kwargs = {name: 1 if kind == "int" else "x" for kind, name in converters}
        namespace = pattern.callback.__module__.split(".")[0]
        try:
            url = reverse(f"{namespace}:{pattern.name}", kwargs=kwargs)
        except Exception:  # noqa: BLE001 - a namespace that differs from the module: skip it
            continue
        before = AuditEvent.objects.count()
        response = sre_client.post(
            url, {"reason": "x\x00", "comment": "\x00", "title": "t\x00", "decision": "approve"}
        )
        assert response.status_code == 400, url
        assert AuditEvent.objects.count() == before
        seen += 1
    assert seen >= 10
