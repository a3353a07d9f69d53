"""Try-it against a real gRPC server built from the shared example protos."""

import json

import pytest

from apidocs.models import TryItCall, TryItPolicy
from apidocs.tryit import RateLimited, TryItRequest, tryit_call
from portal.errors import PermissionDenied, PortalError, ValidationFailed
from portal.models import AuditEvent

HELLO = "helloworld.Greeter.SayHello"


def call(actor, version, environment, operation=HELLO, body='{"name": "Ada"}', **extra):
    return tryit_call(
        actor=actor, version=version, environment=environment,
        request=TryItRequest(operation=operation, body=body, **extra),
    )  # fmt: skip


def test_pm_calls_unary_method_on_staging(pm, grpc_version, tryit_envs, grpc_calls_seen):
    response = call(pm, grpc_version, tryit_envs[0])
    assert response.status == "OK" and response.ok
    assert json.loads(response.body) == {"message": "Hello, Ada!"}
    assert ("x-served-by", "greeter-test") in response.trailers
    assert response.latency_ms >= 0
    assert grpc_calls_seen[0][:2] == ("SayHello", "Ada")
    event = AuditEvent.objects.get(action="apidocs.tryit_call")
    assert event.outcome == "done" and event.environment == "staging"
    assert event.actor == pm and event.after["status"] == "OK"
    assert event.before["operation"] == HELLO and "latency_ms" in event.after


def test_metadata_reaches_server_and_audit_redacts_secrets(
    pm, grpc_version, tryit_envs, grpc_calls_seen
):
    call(
        pm, grpc_version, tryit_envs[0],
        body='{"name": "Ada"}', metadata="authorization: Bearer s3cr3t\nx-team: payments",
    )  # fmt: skip
    received = grpc_calls_seen[0][2]
    assert received["authorization"] == "Bearer s3cr3t" and received["x-team"] == "payments"
    event = AuditEvent.objects.get(action="apidocs.tryit_call")
    assert ["authorization", "[redacted]"] in event.before["metadata"]
    assert ["x-team", "payments"] in event.before["metadata"]
    assert "s3cr3t" not in json.dumps(event.before)


def test_request_body_secrets_are_redacted_in_audit(pm, grpc_version, tryit_envs):
    call(pm, grpc_version, tryit_envs[0], body='{"name": "password=hunter2"}')
    event = AuditEvent.objects.get(action="apidocs.tryit_call")
    # The value of a non-secret key is kept; only secret keys are redacted in JSON bodies.
    assert event.before["body"] == {"name": "password=hunter2"}
    from apidocs.tryit_shapes import redact_text

    assert redact_text('{"user": {"password": "x", "token": "y"}, "n": 1}') == {
        "user": {"password": "[redacted]", "token": "[redacted]"}, "n": 1,
    }  # fmt: skip
    assert "hunter2" not in redact_text("user=ada&password=hunter2")


def test_error_status_with_details_and_trailers(pm, grpc_version, tryit_envs):
    response = call(pm, grpc_version, tryit_envs[0], body='{"name": "nobody"}')
    assert response.status == "NOT_FOUND" and not response.ok
    assert "nobody is not here" in response.status_details
    assert "NO_SUCH_PERSON" in response.status_details
    assert AuditEvent.objects.get(action="apidocs.tryit_call").after["status"] == "NOT_FOUND"


def test_server_streaming_is_a_list_of_messages(pm, grpc_version, tryit_envs):
    body = '{"lo": {"latitude": 10, "longitude": 0}, "hi": {"latitude": 20, "longitude": 5}}'
    response = call(pm, grpc_version, tryit_envs[0], "routeguide.RouteGuide.ListFeatures", body)
    assert response.streaming and response.status == "OK"
    names = [json.loads(m)["name"] for m in response.messages]
    assert names == ["feature-0", "feature-1", "feature-2"]
    assert json.loads(response.messages[1])["location"] == {"latitude": 11, "longitude": 1}


def test_server_stream_is_cut_at_the_message_bound(pm, grpc_version, tryit_envs):
    body = '{"lo": {"latitude": -1}}'
    response = call(pm, grpc_version, tryit_envs[0], "routeguide.RouteGuide.ListFeatures", body)
    assert len(response.messages) == 100
    assert response.truncated == "stopped after 100 messages"


def test_bidi_streaming_is_refused_and_nothing_is_sent(
    pm, grpc_version, tryit_envs, grpc_calls_seen
):
    with pytest.raises(ValidationFailed, match="Bidirectional streaming methods cannot"):
        call(pm, grpc_version, tryit_envs[0], "keyvaluestore.KeyValueStore.GetValues", "{}")
    assert grpc_calls_seen == [] and not TryItCall.objects.exists()


def test_invalid_json_is_refused_with_a_message(pm, grpc_version, tryit_envs, grpc_calls_seen):
    with pytest.raises(ValidationFailed, match="not a valid helloworld.HelloRequest"):
        call(pm, grpc_version, tryit_envs[0], body='{"nmae": "Ada"}')
    with pytest.raises(ValidationFailed, match="deadline"):
        call(pm, grpc_version, tryit_envs[0], timeout=120)
    with pytest.raises(ValidationFailed, match="cannot be set"):
        call(pm, grpc_version, tryit_envs[0], metadata="grpc-timeout: 1S")
    assert grpc_calls_seen == []


def test_unknown_method_is_refused(pm, grpc_version, tryit_envs):
    with pytest.raises(ValidationFailed, match="is not a method"):
        call(pm, grpc_version, tryit_envs[0], "helloworld.Greeter.Nope")


def test_deadline_exceeded_is_a_status(pm, grpc_version, tryit_envs):
    body = '{"lo": {"latitude": -1}}'
    response = call(
        pm, grpc_version, tryit_envs[0], "routeguide.RouteGuide.ListFeatures", body,
        timeout=0.001,
    )  # fmt: skip
    assert response.status in ("DEADLINE_EXCEEDED", "OK")  # a fast machine may finish first
    assert response.status == "DEADLINE_EXCEEDED" or len(response.messages) == 100


# --- permissions -------------------------------------------------------------------------------


def test_pm_is_refused_on_production_audited_and_nothing_sent(
    pm, grpc_version, tryit_envs, grpc_calls_seen
):
    with pytest.raises(PermissionDenied, match="prod is not approved"):
        call(pm, grpc_version, tryit_envs[1])
    assert grpc_calls_seen == [] and not TryItCall.objects.exists()
    event = AuditEvent.objects.get(action="apidocs.tryit_call")
    assert event.outcome == "denied" and event.environment == "prod"


def test_outsider_is_refused_on_staging(outsider, grpc_version, tryit_envs, grpc_calls_seen):
    with pytest.raises(PermissionDenied, match="Your role may not"):
        call(outsider, grpc_version, tryit_envs[0])
    assert grpc_calls_seen == []
    assert AuditEvent.objects.get(action="apidocs.tryit_call").outcome == "denied"


def test_owner_team_may_call_staging_without_viewer_role(owner, grpc_version, tryit_envs):
    assert call(owner, grpc_version, tryit_envs[0]).status == "OK"


def test_viewers_refused_when_policy_does_not_allow_them(pm, grpc_version, tryit_envs):
    TryItPolicy.objects.filter(environment=tryit_envs[0]).update(allow_viewers=False)
    with pytest.raises(PermissionDenied):
        call(pm, grpc_version, tryit_envs[0])


def test_production_callable_once_platform_admins_enable_it(pm, sre, grpc_version, tryit_envs):
    TryItPolicy.objects.create(environment=tryit_envs[1], enabled=True)  # viewers off
    assert call(sre, grpc_version, tryit_envs[1]).status == "OK"
    with pytest.raises(PermissionDenied):
        call(pm, grpc_version, tryit_envs[1])


def test_rate_limit_refuses_and_audits(pm, grpc_version, tryit_envs, grpc_calls_seen):
    TryItPolicy.objects.filter(environment=tryit_envs[0]).update(calls_per_minute=2)
    call(pm, grpc_version, tryit_envs[0])
    call(pm, grpc_version, tryit_envs[0])
    with pytest.raises(RateLimited, match="at most 2"):
        call(pm, grpc_version, tryit_envs[0])
    assert len(grpc_calls_seen) == 2
    outcomes = list(
        AuditEvent.objects.filter(action="apidocs.tryit_call")
        .order_by("id")
        .values_list("outcome", "after__status")
    )
    assert outcomes == [("done", "OK"), ("done", "OK"), ("denied", "rate-limited")]


def test_rate_limit_is_per_user(pm, owner, grpc_version, tryit_envs):
    TryItPolicy.objects.filter(environment=tryit_envs[0]).update(calls_per_minute=1)
    call(pm, grpc_version, tryit_envs[0])
    assert call(owner, grpc_version, tryit_envs[0]).status == "OK"


def test_refused_address_is_audited_as_failed(pm, grpc_version, tryit_envs):
    from catalog.models import ComponentEnvironment

    ComponentEnvironment.objects.filter(environment=tryit_envs[0]).update(
        api_base_url="http://169.254.169.254"
    )
    with pytest.raises(PortalError, match="metadata"):
        call(pm, grpc_version, tryit_envs[0])
    event = AuditEvent.objects.get(action="apidocs.tryit_call")
    assert event.outcome == "failed" and "metadata" in event.reason
