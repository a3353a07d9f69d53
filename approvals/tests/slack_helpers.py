"""Slack's side of an interaction, for tests that call the endpoint with Django's client: a
block_actions payload (shaped like shared/specs/slack/payload-samples) signed as Slack signs."""

import hashlib
import hmac
import json
import time
import urllib.parse

from django.urls import reverse

TEAM_ID = "T0SANDBOX1"


def block_actions(*, slack_id: str, action_id: str, value: str, response_url: str = "") -> dict:
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "switchyard-sandbox"},
        "user": {"id": slack_id, "username": slack_id, "name": slack_id, "team_id": TEAM_ID},
        "api_app_id": "A0SWITCHY01",
        "container": {"type": "message", "message_ts": "1700000000.000001",
                      "channel_id": "C000000001", "is_ephemeral": False},
        "channel": {"id": "C000000001", "name": "payments"},
        "response_url": response_url,
        "actions": [{"type": "button", "action_id": action_id, "value": value,
                     "block_id": f"approval:{value}", "action_ts": f"{time.time():.6f}"}],
    }  # fmt: skip


def slack_post(client, payload: dict, *, secret: str, age: int = 0, signature: str = ""):
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    stamp = str(int(time.time()) - age)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256)
    return client.post(
        reverse("approvals_api:slack_interactions"),
        body,
        content_type="application/x-www-form-urlencoded",
        HTTP_X_SLACK_REQUEST_TIMESTAMP=stamp,
        HTTP_X_SLACK_SIGNATURE=signature or "v0=" + digest.hexdigest(),
    )
