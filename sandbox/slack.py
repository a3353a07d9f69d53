"""Slack: the Web API subset Switchyard uses, and the Slack side of interactivity.

Web API at `/api/<method>` and `/<method>` (the sandbox's address is the Web API base, as
https://slack.com/api is): `chat.postMessage`, `chat.update`, `chat.postEphemeral`,
`users.lookupByEmail`, `users.info`, `auth.test`, in Slack's shapes (checked against its Web API
description in `shared/specs/slack/`). Arguments come as JSON, form fields or the query string;
the token as `Authorization: Bearer` or a `token` argument. Errors are Slack's: HTTP 200 with
`{"ok": false, "error": "channel_not_found"}`; a rate limit is HTTP 429 with `Retry-After`.

Response URLs (`POST /actions/<id>`) take an interaction's answer, as hooks.slack.com does.

Sandbox controls:
- `POST /sandbox/channels {"name"}`, `POST /sandbox/users {"email", "name"}`: the workspace.
- `GET /sandbox/messages[?channel=]`: what was posted (its edits, its thread's `replies`), the
  ephemeral answers and what arrived at response URLs.
- `POST /sandbox/config {"interactivity_url", "signing_secret"}`: where interactions go.
- `POST /sandbox/interact {"user", "channel", "ts", "action_id", "age_seconds", "forged"}`:
  a person clicks a button of a posted message: the sandbox sends Slack's signed
  `block_actions` payload (form field `payload`) to the interactivity URL and answers what
  Switchyard said and what arrived at the response URL. `age_seconds` back-dates the request
  (a replay), `forged` signs it with another secret.
- `/sandbox/faults`: the shared fault knobs (sandbox/web.py).
"""

import hashlib
import hmac
import itertools
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .registry import SandboxState, register
from .web import FaultKnobs, bearer_token, json_response, request_json, wsgi_app

TOKEN = "xoxb-switchyard-sandbox"
SIGNING_SECRET = "switchyard-sandbox-signing-secret"
TEAM = {"id": "T0SANDBOX1", "name": "Switchyard sandbox", "domain": "switchyard-sandbox"}
BOT = {"user_id": "U0SWITCHY1", "bot_id": "B0SWITCHY01", "app_id": "A0SWITCHY01"}
INTERACT_TIMEOUT_SECONDS = 30


class SlackSandbox:
    def __init__(self, state: SandboxState):
        self.state = state
        self.faults = FaultKnobs()
        self.lock = threading.Lock()
        self.channels: dict[str, dict] = {}
        self.users: dict[str, dict] = {}
        self.messages: list[dict] = []
        self.ephemerals: list[dict] = []
        self.responses: list[dict] = []
        self.config = {"interactivity_url": "", "signing_secret": SIGNING_SECRET}
        self.ids = itertools.count(1)
        self.clock = itertools.count(1)
        self.url_map = Map(
            [
                Rule("/api/<method>", endpoint="api", methods=["GET", "POST"]),
                # the sandbox's address is the Web API base too (SLACK_URL=https://slack.com/api)
                Rule("/<method>", endpoint="api", methods=["GET", "POST"]),
                Rule("/actions/<hook>", endpoint="respond", methods=["POST"]),
                Rule("/sandbox/channels", endpoint="channel_add", methods=["POST"]),
                Rule("/sandbox/users", endpoint="user_add", methods=["POST"]),
                Rule("/sandbox/messages", endpoint="listing", methods=["GET", "DELETE"]),
                Rule("/sandbox/config", endpoint="configure", methods=["GET", "POST"]),
                Rule("/sandbox/interact", endpoint="interact", methods=["POST"]),
            ]
        )
        self.methods = {
            "chat.postMessage": self.post_message,
            "chat.update": self.update_message,
            "chat.postEphemeral": self.post_ephemeral,
            "users.lookupByEmail": self.lookup_by_email,
            "users.info": self.user_info,
            "auth.test": self.auth_test,
        }

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request):
        return json_response({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": "1"})

    def failed(self, request, status):
        return json_response({"ok": False, "error": "internal_error"}, status)

    def handle(self, request: Request) -> Response:
        endpoint, values = self.url_map.bind_to_environ(request.environ).match()
        if endpoint == "api":
            return self.api(request, values["method"])
        return getattr(self, endpoint)(request, **values)

    # ---- Web API --------------------------------------------------------------------------

    def api(self, request: Request, method: str) -> Response:
        handler = self.methods.get(method)
        if handler is None:
            return json_response({"ok": False, "error": "unknown_method"}, 404)
        try:
            args = _arguments(request)
        except ValueError:
            return ok_false("invalid_json")
        if (bearer_token(request) or args.get("token")) != TOKEN:
            return ok_false("invalid_auth" if bearer_token(request) else "not_authed")
        return handler(args)

    def post_message(self, args: dict) -> Response:
        channel = self.channel(args.get("channel"))
        if channel is None:
            return ok_false("channel_not_found")
        blocks = _blocks(args.get("blocks"))
        if blocks is None:
            return ok_false("invalid_blocks")
        if not args.get("text") and not blocks:
            return ok_false("no_text")
        message = self.bot_message(str(args.get("text") or ""), blocks)
        thread_ts = str(args.get("thread_ts") or "")
        with self.lock:
            # A reply goes in its parent's thread (as conversations.replies lists it); a
            # thread_ts naming no message posts to the channel, since Slack's description
            # lists no error for it.
            parent = self.message(channel["id"], thread_ts) if thread_ts else None
            if parent is not None:
                message["thread_ts"] = parent["ts"]
                broadcast = str(args.get("reply_broadcast", "")).lower() in ("1", "true")
                parent.setdefault("replies", []).append({**message, "broadcast": broadcast})
            else:
                self.messages.append({"channel": channel["id"], **message, "edits": []})
        return json_response({"ok": True, "channel": channel["id"], "ts": message["ts"],
                              "message": message})  # fmt: skip

    def update_message(self, args: dict) -> Response:
        channel = self.channel(args.get("channel"))
        if channel is None:
            return ok_false("channel_not_found")
        blocks = _blocks(args.get("blocks"))
        if blocks is None:
            return ok_false("invalid_blocks")
        with self.lock:
            found = self.message(channel["id"], str(args.get("ts") or ""))
            if found is None:
                return ok_false("message_not_found")
            found["edits"].append({"text": found["text"], "blocks": found["blocks"]})
            found["text"] = str(args.get("text") or found["text"])
            found["blocks"] = blocks
        text = found["text"]
        return json_response({"ok": True, "channel": channel["id"], "ts": found["ts"],
                              "text": text, "message": {"text": text}})  # fmt: skip

    def post_ephemeral(self, args: dict) -> Response:
        channel = self.channel(args.get("channel"))
        if channel is None:
            return ok_false("channel_not_found")
        if str(args.get("user") or "") not in self.users:
            return ok_false("user_not_in_channel")
        ts = self.ts()
        with self.lock:
            self.ephemerals.append({"channel": channel["id"], "user": args["user"],
                                    "text": str(args.get("text") or ""),
                                    "message_ts": ts})  # fmt: skip
        return json_response({"ok": True, "message_ts": ts})

    def lookup_by_email(self, args: dict) -> Response:
        email = str(args.get("email") or "").strip().lower()
        with self.lock:
            found = next((u for u in self.users.values() if u["profile"]["email"] == email), None)
        if found is None:
            return ok_false("users_not_found")
        return json_response({"ok": True, "user": found})

    def user_info(self, args: dict) -> Response:
        with self.lock:
            found = self.users.get(str(args.get("user") or ""))
        if found is None:
            return ok_false("user_not_found")
        return json_response({"ok": True, "user": found})

    def auth_test(self, args: dict) -> Response:
        return json_response({
            "ok": True, "url": f"https://{TEAM['domain']}.slack.com/", "team": TEAM["name"],
            "user": "switchyard", "team_id": TEAM["id"], "user_id": BOT["user_id"],
            "bot_id": BOT["bot_id"],
        })  # fmt: skip

    # ---- the workspace ----------------------------------------------------------------------

    def ts(self) -> str:
        return f"{int(time.time()):010d}.{next(self.clock):06d}"

    def bot_message(self, text: str, blocks: list[dict]) -> dict:
        return {"type": "message", "text": text, "ts": self.ts(), "user": BOT["user_id"],
                "bot_id": BOT["bot_id"], "team": TEAM["id"], "blocks": blocks}  # fmt: skip

    def channel(self, value) -> dict | None:
        name = str(value or "").strip().lstrip("#")
        with self.lock:
            return self.channels.get(name) or next(
                (c for c in self.channels.values() if c["name"] == name), None
            )

    def message(self, channel_id: str, ts: str) -> dict | None:
        return next(
            (m for m in self.messages if m["channel"] == channel_id and m["ts"] == ts), None
        )

    def channel_create(self, name: str) -> dict:
        name = name.strip().lstrip("#")
        existing = self.channel(name)
        if existing:
            return existing
        with self.lock:
            channel = {"id": f"C{next(self.ids):09d}", "name": name}
            self.channels[channel["id"]] = channel
        return channel

    def user_create(self, email: str, name: str = "") -> dict:
        email = email.strip().lower()
        with self.lock:
            found = next((u for u in self.users.values() if u["profile"]["email"] == email), None)
            if found:
                return found
            uid = f"U{next(self.ids):09d}"
            self.users[uid] = _user(uid, name or email.split("@")[0], email)
            return self.users[uid]

    def channel_add(self, request: Request) -> Response:
        name = str(request_json(request).get("name") or "").strip().lstrip("#")
        if not name:
            return json_response({"error": "name is required"}, 400)
        return json_response({"channel": self.channel_create(name)}, 201)

    def user_add(self, request: Request) -> Response:
        body = request_json(request)
        email = str(body.get("email") or "").strip().lower()
        if not email:
            return json_response({"error": "email is required"}, 400)
        return json_response({"user": self.user_create(email, str(body.get("name") or ""))}, 201)

    def listing(self, request: Request) -> Response:
        with self.lock:
            if request.method == "DELETE":
                self.messages.clear()
                self.ephemerals.clear()
                self.responses.clear()
            wanted = request.args.get("channel", "")
            channel = self.channels.get(wanted) or next(
                (c for c in self.channels.values() if c["name"] == wanted.lstrip("#")), None
            )
            messages = [m for m in self.messages if not wanted or (channel and
                        m["channel"] == channel["id"])]  # fmt: skip
            return json_response({"messages": messages, "ephemerals": list(self.ephemerals),
                                  "responses": list(self.responses)})  # fmt: skip

    def configure(self, request: Request) -> Response:
        if request.method == "POST":
            body = request_json(request)
            with self.lock:
                self.config.update({k: str(v) for k, v in body.items() if k in self.config})
        return json_response({"config": self.config})

    # ---- interactivity ----------------------------------------------------------------------

    def respond(self, request: Request, hook: str) -> Response:
        """A response URL: Slack shows the answer (ephemeral unless response_type says so)."""
        try:
            body = request_json(request)
        except ValueError:
            return Response("invalid_payload", 400, content_type="text/html")
        with self.lock:
            self.responses.append({"hook": hook, **body})
        return Response("ok", 200, content_type="text/html")

    def interact(self, request: Request) -> Response:
        body = request_json(request)
        channel = self.channel(body.get("channel"))
        with self.lock:
            user = self.users.get(str(body.get("user") or ""))
            message = channel and self.message(channel["id"], str(body.get("ts") or ""))
            url, secret = self.config["interactivity_url"], self.config["signing_secret"]
        if not (channel and user and message and url):
            return json_response({"error": "a known channel, user and message ts, and "
                                           "config.interactivity_url"}, 400)  # fmt: skip
        action = _button(message["blocks"], str(body.get("action_id") or ""))
        if action is None:
            return json_response({"error": "the message has no such button"}, 400)
        hook = secrets.token_hex(8)
        payload = self.block_actions(channel, user, message, action, hook)
        stamp = str(int(time.time()) - int(body.get("age_seconds") or 0))
        form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        key = ("not-" + secret) if body.get("forged") else secret
        signature = "v0=" + hmac.new(key.encode(), f"v0:{stamp}:".encode() + form,
                                     hashlib.sha256).hexdigest()  # fmt: skip
        status, answer = _post(url, form, {"X-Slack-Request-Timestamp": stamp,
                                           "X-Slack-Signature": signature})  # fmt: skip
        with self.lock:
            answered = [r for r in self.responses if r["hook"] == hook]
        return json_response({"status": status, "body": answer, "responses": answered})

    def block_actions(self, channel, user, message, action, hook) -> dict:
        base = self.state.endpoints.get("slack", "")
        shown = {k: v for k, v in message.items() if k not in ("channel", "edits")}
        return {
            "type": "block_actions",
            "team": {"id": TEAM["id"], "domain": TEAM["domain"]},
            "user": {"id": user["id"], "username": user["name"], "name": user["name"],
                     "team_id": TEAM["id"]},
            "api_app_id": BOT["app_id"],
            "token": "deprecated-verification-token",
            "container": {"type": "message", "message_ts": message["ts"],
                          "channel_id": channel["id"], "is_ephemeral": False},
            "trigger_id": f"{next(self.ids)}.{secrets.token_hex(6)}",
            "channel": {"id": channel["id"], "name": channel["name"]},
            "message": shown,
            "state": {"values": {}},
            "response_url": f"{base}/actions/{hook}",
            "actions": [{**action, "action_ts": f"{time.time():.6f}"}],
        }  # fmt: skip


def ok_false(error: str) -> Response:
    return json_response({"ok": False, "error": error})


def _arguments(request: Request) -> dict:
    args = dict(request.args.items())
    if request.mimetype == "application/json":
        args.update(request_json(request))
    else:
        args.update(request.form.items())
    return args


def _blocks(value) -> list[dict] | None:
    """Blocks as Slack takes them: a JSON array, or its text in a form field."""
    if value in (None, ""):
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if not isinstance(value, list) or not all(isinstance(b, dict) and b.get("type") for b in value):
        return None
    return value


def _button(blocks: list[dict], action_id: str) -> dict | None:
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button" and element.get("action_id") == action_id:
                return {**element, "block_id": block.get("block_id", "")}
    return None


def _user(uid: str, name: str, email: str) -> dict:
    profile = {
        "real_name": name, "display_name": name, "avatar_hash": "", "real_name_normalized": name,
        "display_name_normalized": name, "title": "", "phone": "", "skype": "",
        "status_text": "", "status_emoji": "", "fields": None, "email": email,
    }  # fmt: skip
    return {"id": uid, "team_id": TEAM["id"], "name": name, "real_name": name, "deleted": False,
            "is_bot": False, "is_app_user": False, "updated": int(time.time()),
            "profile": profile}  # fmt: skip


def _post(url: str, data: bytes, headers: dict) -> tuple[int, str]:
    # the interactivity URL is the one configured through the control endpoint (http/https)
    request = urllib.request.Request(  # noqa: S310
        url, data=data, method="POST",
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=INTERACT_TIMEOUT_SECONDS) as answer:  # noqa: S310
            return answer.status, answer.read().decode("utf-8", "replace")[:2000]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")[:2000]
    except OSError as exc:
        return 0, str(exc)


def create_app(state: SandboxState):
    sandbox = SlackSandbox(state)
    state.shared["slack"] = sandbox
    return sandbox.wsgi()


register("slack", create_app, "Slack Web API (chat, users, auth) and signed interaction payloads")
