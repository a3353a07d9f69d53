import time

import pytest

from approvals.models import ApprovalRequest
from portal.models import AuditEvent

URL = "/api/approvals/"


def body(**extra):
    data = {
        "service": "ledger",
        "environment": "prod",
        "rollout_phase": "canary 5% verified",
        "actor": "olivia",
        "weight": 5,
        "expires_in_minutes": 30,
    }
    data.update(extra)
    return data


def test_workflow_creates_pending_approval(call_api, machine, ledger, owner):
    response = call_api("post", URL, body())
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["state"] == "pending" and data["service"] == "ledger"
    approval = ApprovalRequest.objects.get()
    assert approval.requested_by == owner and approval.weight == 5
    assert response["Location"].endswith(f"/api/approvals/{approval.pk}")
    event = AuditEvent.objects.get(action="approval.create")
    assert event.actor_label == "machine:github-ledger" and event.outcome == "done"
    polled = call_api("get", f"/api/approvals/{approval.pk}")
    assert polled.status_code == 200 and polled.json()["state"] == "pending"


@pytest.mark.parametrize(
    "tamper, message",
    [
        ({"signature": "sha256=" + "0" * 64}, "bad signature"),
        ({"secret": "wrong"}, "bad signature"),
        ({"timestamp": int(time.time()) - 3600}, "stale timestamp (more than 5 minutes off)"),
        ({"token": "nope"}, "unknown or disabled token"),
    ],
)
def test_bad_authentication_is_rejected_and_audited(call_api, machine, ledger, tamper, message):
    response = call_api("post", URL, body(), **tamper)
    assert response.status_code == 401
    assert response.json() == {"error": message}
    assert not ApprovalRequest.objects.exists()
    assert AuditEvent.objects.get().outcome == "denied"


def test_replayed_delivery_is_rejected(call_api, machine, ledger):
    assert call_api("post", URL, body(), delivery="d-1").status_code == 201
    response = call_api("post", URL, body(), delivery="d-1")
    assert response.status_code == 401 and response.json()["error"] == "replayed delivery id"
    assert ApprovalRequest.objects.count() == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"service": "nope"}, "unknown service"),
        ({"environment": "staging"}, "may not ask for approvals in staging"),
        ({"environment": "moon"}, "unknown environment"),
        ({"rollout_phase": ""}, "rollout_phase is required"),
        ({"expires_in_minutes": 5000}, "within 24 hours"),
    ],
)
def test_bad_content_is_rejected_and_audited(call_api, machine, ledger, change, message):
    response = call_api("post", URL, body(**change))
    assert response.status_code == 422
    assert message in response.json()["error"]
    assert not ApprovalRequest.objects.exists()
    assert AuditEvent.objects.get(action="approval.create").outcome == "denied"


def test_token_only_sees_its_own_requests(call_api, machine, ledger, environments):
    from approvals.models import MachineClient

    created = call_api("post", URL, body()).json()
    other = MachineClient.objects.create(
        name="other", token_sha256=MachineClient.hash_token("t2"), signing_secret="x"
    )
    other.environments.add(environments["prod"])
    response = call_api("get", f"/api/approvals/{created['id']}", token="t2", secret="x")
    assert response.status_code == 404


def test_openapi_document_is_served_and_valid(client, db):
    import yaml
    from openapi_spec_validator import validate

    response = client.get("/api/openapi.yaml")
    assert response.status_code == 200
    validate(yaml.safe_load(response.content))


@pytest.mark.parametrize(
    "url", ["javascript:alert(document.domain)", "data:text/html,<script>1</script>",
            "JAVASCRIPT:alert(1)", " javascript:alert(1)", "//evil.example/run"],
)  # fmt: skip
def test_workflow_run_url_must_be_http(call_api, machine, ledger, url):
    response = call_api("post", URL, body(workflow_run_url=url))
    assert response.status_code == 422
    assert "http(s) URL" in response.json()["error"]
    assert not ApprovalRequest.objects.exists()
