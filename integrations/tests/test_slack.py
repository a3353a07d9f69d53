"""The Slack adapter (slack_sdk) against the Slack sandbox: posting, updating, finding people,
verifying signed requests, and faults (5xx and rate limits are transient, refusals are not)."""

import hashlib
import hmac
import time

import pytest

from integrations.errors import IntegrationError
from integrations.slack import PostedMessage, response_send, signature_valid, slack_client


def test_post_then_update_a_message_in_a_channel_by_name(slack_world):
    channel = slack_world.channel("payments")
    posted = slack_client().message_post("#payments", text="waits", blocks=[])
    assert posted.channel == channel["id"]
    assert PostedMessage.from_ref(posted.ref) == posted
    slack_client().message_update(posted, text="approved", blocks=[])
    assert slack_world.messages("payments")[0]["text"] == "approved"


def test_people_are_found_by_email_and_by_id(slack_world):
    bob = slack_world.user("bob@example.com", "bob")
    assert slack_client().user_by_email("bob@example.com").id == bob["id"]
    assert slack_client().user_get(bob["id"]).email == "bob@example.com"
    assert slack_client().user_by_email("nobody@example.com") is None
    assert slack_client().user_get("U999999999") is None
    assert slack_client().identity()["team_id"] == "T0SANDBOX1"


def test_unknown_channel_is_not_worth_retrying(slack_world):
    with pytest.raises(IntegrationError) as caught:
        slack_client().message_post("#nowhere", text="x", blocks=[])
    assert not caught.value.transient and "channel_not_found" in caught.value.message


@pytest.mark.parametrize("fault", [{"kind": "error", "status": 503}, {"kind": "rate_limit"}])
def test_slack_down_or_rate_limiting_is_transient(slack_world, fault):
    slack_world.channel("payments")
    slack_world.arm_fault(path="/chat.", **fault)
    with pytest.raises(IntegrationError) as caught:
        slack_client().message_post("#payments", text="x", blocks=[])
    assert caught.value.transient


def test_slack_slower_than_the_timeout_is_transient(slack_world, settings):
    settings.SLACK_TIMEOUT_SECONDS = 0.3
    slack_world.channel("payments")
    slack_world.arm_fault(path="/chat.", kind="timeout", seconds=1.5, count=1)
    with pytest.raises(IntegrationError) as caught:
        slack_client().message_post("#payments", text="x", blocks=[])
    assert caught.value.transient


def _signed(body: bytes, secret: str, stamp: int) -> dict:
    digest = hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256)
    return {
        "X-Slack-Request-Timestamp": str(stamp),
        "X-Slack-Signature": "v0=" + digest.hexdigest(),
    }


def test_signature_is_v0_within_five_minutes(settings):
    settings.SLACK_SIGNING_SECRET = "s3cret"
    now = int(time.time())
    assert signature_valid(b"payload=x", _signed(b"payload=x", "s3cret", now))
    assert not signature_valid(b"payload=y", _signed(b"payload=x", "s3cret", now))
    assert not signature_valid(b"payload=x", _signed(b"payload=x", "other", now))
    assert not signature_valid(b"payload=x", _signed(b"payload=x", "s3cret", now - 301))
    assert not signature_valid(b"payload=x", {"X-Slack-Request-Timestamp": "soon",
                                              "X-Slack-Signature": "v0=00"})  # fmt: skip
    assert not signature_valid(b"payload=x", {})
    settings.SLACK_SIGNING_SECRET = ""
    assert not signature_valid(b"payload=x", _signed(b"payload=x", "", now))


def test_response_url_must_be_slacks(slack_world):
    with pytest.raises(IntegrationError) as caught:
        response_send("http://169.254.169.254/latest/", text="hi")
    assert not caught.value.transient
    response_send(f"{slack_world.url}/actions/abc", text="hi")
    assert slack_world.responses()[0]["text"] == "hi"
    assert slack_world.responses()[0]["response_type"] == "ephemeral"
