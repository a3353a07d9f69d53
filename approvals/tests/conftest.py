import pytest

from sandbox.tests import fixtures

slack_world = fixtures.slack_world


@pytest.fixture
def machine(environments, ledger):
    from approvals.models import MachineClient

    client = MachineClient.objects.create(
        name="github-ledger",
        token_sha256=MachineClient.hash_token("tok-123"),
        signing_secret="s3cret",
    )
    client.environments.add(environments["prod"])
    client.components.add(ledger)
    return client


@pytest.fixture
def call_api(client):
    """POST/GET the machine API with a correct token, timestamp, delivery id and signature."""
    import json
    import time
    import uuid

    from approvals.machine_auth import sign

    def call(
        method,
        url,
        body=None,
        *,
        token="tok-123",
        secret="s3cret",
        timestamp=None,
        delivery=None,
        signature=None,
    ):
        raw = (
            body
            if isinstance(body, bytes)
            else json.dumps(body).encode()
            if body is not None
            else b""
        )
        ts = str(timestamp if timestamp is not None else int(time.time()))
        delivery = delivery or uuid.uuid4().hex
        headers = {
            "HTTP_AUTHORIZATION": f"Bearer {token}",
            "HTTP_X_SWITCHYARD_TIMESTAMP": ts,
            "HTTP_X_SWITCHYARD_DELIVERY": delivery,
            "HTTP_X_SWITCHYARD_SIGNATURE": signature
            or sign(secret, method.upper(), url, delivery, ts, raw),
        }
        if method == "post":
            return client.post(url, raw, content_type="application/json", **headers)
        return client.get(url, **headers)

    return call


from deployments.tests.test_browser import beat, shop  # noqa: E402, F401
from integrations.tests.conftest import arm_fault, release_sandbox  # noqa: E402, F401
