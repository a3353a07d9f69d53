"""The Slack sandbox answers as Slack's Web API description says (shared/specs/slack/, Swagger
2.0), strictly: a field the description does not name fails. Called with the official
`slack_sdk` client, unmodified; interaction payloads follow the shape samples kept there."""

import json
import urllib.parse

import pytest
from jsonschema import Draft4Validator, FormatChecker
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from sandbox.slack import SIGNING_SECRET, TOKEN
from sandbox.tests.specs import strict

BLOCKS = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*ledger* waits"}},
    {"type": "actions", "block_id": "decide", "elements": [
        {"type": "button", "action_id": "approval_approve", "value": "7", "style": "primary",
         "text": {"type": "plain_text", "text": "Approve"}},
    ]},
]  # fmt: skip


@pytest.fixture(scope="module")
def web_api(shared_dir):
    return json.loads((shared_dir / "specs/slack/slack_web_openapi_v2.json").read_text())


@pytest.fixture
def check(web_api):
    definitions = {
        name: strict(definition, web_api["definitions"])
        for name, definition in web_api["definitions"].items()
    }

    def validate(path: str, method: str, answer: dict, status: str = "200") -> None:
        schema = strict(web_api["paths"][path][method]["responses"][status]["schema"])
        validator = Draft4Validator({**schema, "definitions": definitions},
                                    format_checker=FormatChecker())  # fmt: skip
        errors = sorted(validator.iter_errors(answer), key=str)
        assert not errors, "\n".join(f"{path} {list(e.absolute_path)}: {e.message}"
                                     for e in errors[:10])  # fmt: skip

    return validate


@pytest.fixture
def client(slack_world):
    return WebClient(token=TOKEN, base_url=slack_world.url + "/api/", retry_handlers=[])


def test_post_update_and_ephemeral_answers_follow_the_web_api(slack_world, client, check):
    channel = slack_world.channel("payments")
    bob = slack_world.user("bob@example.com", "bob")
    posted = client.chat_postMessage(channel="#payments", text="ledger waits", blocks=BLOCKS)
    check("/chat.postMessage", "post", posted.data)
    assert posted["channel"] == channel["id"]
    updated = client.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved",
                                 blocks=BLOCKS[:1])  # fmt: skip
    check("/chat.update", "post", updated.data)
    ephemeral = client.chat_postEphemeral(channel=channel["id"], user=bob["id"], text="hi")
    check("/chat.postEphemeral", "post", ephemeral.data)
    stored = slack_world.messages("payments")
    assert stored[0]["text"] == "approved" and stored[0]["edits"][0]["text"] == "ledger waits"


def test_a_reply_in_a_thread_follows_the_web_api(slack_world, client, check):
    slack_world.channel("payments")
    parent = client.chat_postMessage(channel="#payments", text="ledger waits", blocks=BLOCKS)
    reply = client.chat_postMessage(channel=parent["channel"], text="expires at 14:05",
                                    thread_ts=parent["ts"], reply_broadcast=True)  # fmt: skip
    check("/chat.postMessage", "post", reply.data)
    assert reply["message"]["thread_ts"] == parent["ts"] and reply["ts"] != parent["ts"]
    (stored,) = slack_world.messages("payments")  # the reply is in the thread, not beside it
    assert [(r["text"], r["broadcast"]) for r in stored["replies"]] == [("expires at 14:05", True)]
    lost = client.chat_postMessage(channel="#payments", text="x", thread_ts="1.000")
    assert "thread_ts" not in lost["message"]  # no such message: posted to the channel
    assert len(slack_world.messages("payments")) == 2


def test_user_lookups_and_auth_test_follow_the_web_api(slack_world, client, check):
    bob = slack_world.user("Bob@Example.com", "bob")
    found = client.users_lookupByEmail(email="bob@example.com")
    check("/users.lookupByEmail", "get", found.data)
    assert found["user"]["id"] == bob["id"]
    check("/users.info", "get", client.users_info(user=bob["id"]).data)
    check("/auth.test", "get", client.auth_test().data)


def test_errors_are_slacks_own(slack_world, client, check):
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="#nowhere", text="x")
    check("/chat.postMessage", "post", caught.value.response.data, "default")
    assert caught.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as caught:
        client.users_lookupByEmail(email="nobody@example.com")
    assert caught.value.response["error"] == "users_not_found"
    stranger = WebClient(token="xoxb-wrong", base_url=slack_world.url + "/api/", retry_handlers=[])
    with pytest.raises(SlackApiError) as caught:
        stranger.auth_test()
    assert caught.value.response["error"] == "invalid_auth"


def test_rate_limit_fault_is_a_429_with_retry_after(slack_world, client):
    slack_world.arm_fault(kind="rate_limit", path="/api/chat.postMessage", count=1)
    slack_world.channel("payments")
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel="#payments", text="x")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["retry-after"] in ("1", ["1"])


def test_a_click_sends_a_signed_block_actions_payload_shaped_like_slacks(
    slack_world, client, shared_dir, live_server_url
):
    sample = json.loads((shared_dir / "specs/slack/payload-samples/app-backend/"
                         "interactive-components/BlockActionPayload.json").read_text())  # fmt: skip
    slack_world.channel("payments")
    bob = slack_world.user("bob@example.com", "bob")
    posted = client.chat_postMessage(channel="#payments", text="ledger waits", blocks=BLOCKS)
    url, received = live_server_url
    slack_world.control("POST", "config", interactivity_url=url)
    answer = slack_world.interact(user=bob["id"], channel="payments", ts=posted["ts"],
                                  action_id="approval_approve")  # fmt: skip
    assert answer["status"] == 200
    body, headers = received[0]
    assert SignatureVerifier(SIGNING_SECRET).is_valid_request(body, headers)
    payload = json.loads(urllib.parse.parse_qs(body.decode())["payload"][0])
    assert set(payload) <= set(sample) and payload["type"] == "block_actions"
    assert set(payload["actions"][0]) <= set(sample["actions"][0]) | {"block_id"}
    assert set(payload["container"]) <= set(sample["container"])
    assert payload["actions"][0]["value"] == "7" and payload["user"]["id"] == bob["id"]
    assert payload["response_url"].startswith(slack_world.url)
    # a replayed (old) or forged request is signed so that a verifier refuses it
    slack_world.interact(user=bob["id"], channel="payments", ts=posted["ts"],
                         action_id="approval_approve", age_seconds=600)  # fmt: skip
    slack_world.interact(user=bob["id"], channel="payments", ts=posted["ts"],
                         action_id="approval_approve", forged=True)  # fmt: skip
    assert [SignatureVerifier(SIGNING_SECRET).is_valid_request(b, h) for b, h in received[1:]] \
        == [False, False]  # fmt: skip


@pytest.fixture
def live_server_url():
    """A tiny receiving server standing in for Switchyard's interactivity URL."""
    import threading

    from werkzeug.serving import make_server
    from werkzeug.wrappers import Request, Response

    received = []

    def app(environ, start_response):
        request = Request(environ)
        received.append((request.get_data(), dict(request.headers)))
        return Response("", 200)(environ, start_response)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/slack/", received
    server.shutdown()
