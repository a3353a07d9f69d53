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
        ({"signature": "v2=" + "0" * 64}, "bad signature"),
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
        ({"service": "component:billing/ledger"}, "unknown service"),
        ({"signal": {"rollout": {"application": "carol-prod"}}}, "disagrees with the catalog"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "within 24 hours"),
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
    # Refused at the edge by the OpenAPI document (an https? pattern), before any service.
    assert response.status_code == 400 and response.json()["error"]
    assert not ApprovalRequest.objects.exists()


def test_v1_signature_over_timestamp_and_body_is_refused(call_api, machine, ledger):
    import hashlib
    import hmac
    import json

    ts = str(int(time.time()))
    raw = json.dumps(body()).encode()
    v1 = "sha256=" + hmac.new(b"s3cret", ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
    response = call_api("post", URL, body(), timestamp=ts, signature=v1)
    assert response.status_code == 401 and "sign v2" in response.json()["error"]
    assert not ApprovalRequest.objects.exists()


def test_captured_request_resent_with_a_new_delivery_id_is_refused(client, machine, ledger):
    """The attack of issue 12: a captured call replayed inside 5 minutes with a fresh id."""
    import json
    import uuid

    from approvals.machine_auth import sign

    raw, ts, delivery = json.dumps(body()).encode(), str(int(time.time())), uuid.uuid4().hex
    headers = {
        "HTTP_AUTHORIZATION": "Bearer tok-123",
        "HTTP_X_SWITCHYARD_TIMESTAMP": ts,
        "HTTP_X_SWITCHYARD_DELIVERY": delivery,
        "HTTP_X_SWITCHYARD_SIGNATURE": sign("s3cret", "POST", URL, delivery, ts, raw),
    }
    assert client.post(URL, raw, content_type="application/json", **headers).status_code == 201
    headers["HTTP_X_SWITCHYARD_DELIVERY"] = uuid.uuid4().hex
    replay = client.post(URL, raw, content_type="application/json", **headers)
    assert replay.status_code == 401 and replay.json() == {"error": "bad signature"}
    assert ApprovalRequest.objects.count() == 1
    assert AuditEvent.objects.filter(action="api.authenticate", outcome="denied").count() == 1


def test_signature_binds_the_path(call_api, machine, ledger):
    created = call_api("post", URL, body()).json()
    import uuid

    from approvals.machine_auth import sign

    ts, delivery = str(int(time.time())), uuid.uuid4().hex
    signed_for_other = sign("s3cret", "GET", "/api/approvals/999", delivery, ts, b"")
    response = call_api(
        "get", f"/api/approvals/{created['id']}", timestamp=ts, delivery=delivery,
        signature=signed_for_other,
    )  # fmt: skip
    assert response.status_code == 401


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b'{"service": "ledger"}',
        b"NaN",
        b"[" * 5000 + b"]" * 5000,
        b"\xff\xfe",
    ],
    ids=["text", "array", "missing-fields", "nan", "deep", "bad-utf8"],
)
def test_malformed_body_is_a_400_with_a_json_error(call_api, machine, ledger, raw):
    response = call_api("post", URL, raw)
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/json" and response.json()["error"]
    assert not ApprovalRequest.objects.exists()
    assert AuditEvent.objects.filter(outcome="denied").count() == 1


@pytest.mark.parametrize(
    "change",
    [
        {"rollout_phase": ""},
        {"weight": 101},
        {"weight": "5"},
        {"release_id": [1]},
        {"release_id": 10**20},
        {"to_version": "v" * 500},
        {"rollout_phase": "a\u0000b"},
        {"workflow_run_url": "javascript:alert(document.domain)"},
        {"expires_in_minutes": 0},
        {"expires_in_minutes": 10**12},
        {"expires_at": "2026-13-45T99:00:00Z"},
        {"unexpected": 1},
        {"signal": {"rollout": {"application": 7}}},
    ],
    ids=lambda change: next(iter(change)),
)
def test_values_outside_the_document_are_a_400(call_api, machine, ledger, change):
    response = call_api("post", URL, body(**change))
    assert response.status_code == 400, response.content
    assert response.json()["error"]
    assert not ApprovalRequest.objects.exists()


def test_expires_in_zero_is_refused_not_read_as_default(machine, ledger):
    from approvals.services import ApprovalRefused, approval_create

    with pytest.raises(ApprovalRefused, match="positive whole number"):
        approval_create(client=machine, data=body(expires_in_minutes=0))
    assert not ApprovalRequest.objects.exists()


def test_unknown_approval_id_shapes_are_400_or_404(call_api, machine, ledger):
    assert call_api("get", "/api/approvals/abc").status_code == 400
    assert call_api("get", "/api/approvals/99999999999").status_code == 400
    assert call_api("get", "/api/approvals/12345").status_code == 404
