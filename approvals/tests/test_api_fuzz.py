"""Schemathesis against the served machine API document, every request validly signed:
positive and negative cases of every operation, and not one answer may be a 5xx.

Bounded (FUZZ_EXAMPLES per operation, a fixed seed via derandomize) so that it runs in the
normal suite in well under two minutes.
"""

import json
import time
import uuid

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings

from approvals.machine_auth import sign

FUZZ_EXAMPLES = 150
schema = schemathesis.openapi.from_wsgi("/api/openapi.yaml", get_wsgi_application())


def _aimed(body):
    """Half of the object bodies name a real service and environment, so that cases get past
    the catalog look-up into expiry, release and signal handling."""
    if isinstance(body, dict) and len(json.dumps(body)) % 2 == 0:
        return {**body, "service": "ledger", "environment": "prod"}
    return body


def _signed_call(client, case):
    raw = b""
    body = _aimed(getattr(case, "body", None))
    if body is not None and type(body).__name__ != "NotSet":
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = case.formatted_path
    query = case.query or {}
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query, doseq=True)
    ts, delivery = str(int(time.time())), uuid.uuid4().hex
    headers = {
        "HTTP_AUTHORIZATION": "Bearer tok-123",
        "HTTP_X_SWITCHYARD_TIMESTAMP": ts,
        "HTTP_X_SWITCHYARD_DELIVERY": delivery,
        "HTTP_X_SWITCHYARD_SIGNATURE": sign("s3cret", case.method, path, delivery, ts, raw),
    }
    return client.generic(case.method, path, raw, content_type="application/json", **headers)


@pytest.fixture
def fuzz_world(machine, ledger, environments):
    machine.environments.add(environments["staging"])
    return machine


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_signed_requests_never_get_a_server_error(case, client, fuzz_world):
    response = _signed_call(client, case)
    assert response.status_code < 500, (case.method, case.formatted_path, case.body)
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/json", response.content[:200]
        assert response.json()["error"]
