"""Slack (the Web API through the official `slack_sdk`): post and update the team channel's
message, answer one person privately, find people, and verify Slack's signed requests.

Configured by `endpoint("slack")` (SLACK_URL, https://slack.com/api in production, else the
sandbox), settings.SLACK_BOT_TOKEN, settings.SLACK_SIGNING_SECRET and
settings.SLACK_TIMEOUT_SECONDS. The client's own retries are turned off: Celery retries what is
worth retrying (the notification outbox), and an interaction's answer must come back quickly.
"""

from dataclasses import dataclass
from typing import Protocol
from urllib.error import URLError

from django.conf import settings
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.webhook import WebhookClient

from .endpoints import endpoint
from .errors import IntegrationError

SYSTEM = "slack"
# Slack's own "try again later" answers (sent with HTTP 200 or 429/5xx).
TRANSIENT_ERRORS = {"ratelimited", "rate_limited", "internal_error", "fatal_error",
                    "service_unavailable", "request_timeout"}  # fmt: skip


@dataclass(frozen=True)
class PostedMessage:
    channel: str  # the conversation id Slack answered (C…), which chat.update needs
    ts: str

    @property
    def ref(self) -> str:
        return f"{self.channel}:{self.ts}"

    @classmethod
    def from_ref(cls, ref: str) -> "PostedMessage":
        channel, _, ts = ref.partition(":")
        return cls(channel=channel, ts=ts)


@dataclass(frozen=True)
class SlackUser:
    id: str
    name: str
    email: str
    deleted: bool
    team_id: str = ""


class SlackClient(Protocol):
    def message_post(
        self, channel: str, *, text: str, blocks: list[dict], thread_ts: str = ""
    ) -> PostedMessage: ...

    def message_update(self, message: PostedMessage, *, text: str, blocks: list[dict]) -> None: ...

    def ephemeral_post(self, channel: str, user: str, *, text: str) -> None: ...

    def user_by_email(self, email: str) -> SlackUser | None: ...

    def user_get(self, user_id: str) -> SlackUser | None: ...

    def identity(self) -> dict: ...


def _user(data: dict) -> SlackUser:
    profile = data.get("profile") or {}
    return SlackUser(
        id=data.get("id", ""),
        name=data.get("real_name") or data.get("name", ""),
        email=(profile.get("email") or "").strip(),
        deleted=bool(data.get("deleted")),
        team_id=data.get("team_id") or data.get("team") or "",
    )


def _failure(doing: str, exc: Exception) -> IntegrationError:
    if isinstance(exc, SlackApiError):
        status = getattr(exc.response, "status_code", None)
        code = (exc.response.data or {}).get("error", "") if exc.response is not None else ""
        code = code if isinstance(code, str) else ""
        transient = code in TRANSIENT_ERRORS or (
            status is not None and (status >= 500 or status == 429)
        )
        what = code or f"HTTP {status}"
        return IntegrationError(
            f"{doing}: {what}", transient=transient, system=SYSTEM, status=status
        )
    # Network errors, timeouts, an answer that is not JSON: worth trying again.
    return IntegrationError(f"{doing}: {exc}"[:300], transient=True, system=SYSTEM)


class WebApiSlackClient:
    def __init__(self, *, base_url: str, token: str, timeout: float):
        self._web = WebClient(
            token=token, base_url=base_url.rstrip("/") + "/", timeout=timeout, retry_handlers=[]
        )
        self._timeout = timeout

    def _call(self, doing: str, action):
        try:
            return action()
        except (SlackClientError, URLError, OSError, ValueError) as exc:
            raise _failure(doing, exc) from exc

    def message_post(
        self, channel: str, *, text: str, blocks: list[dict], thread_ts: str = ""
    ) -> PostedMessage:
        """chat.postMessage to `channel` (a name such as #payments, or an id); with `thread_ts`,
        a reply in that message's thread, also shown in the channel (reply_broadcast)."""
        thread = {"thread_ts": thread_ts, "reply_broadcast": True} if thread_ts else {}
        answer = self._call(
            f"posting to {channel}",
            lambda: self._web.chat_postMessage(channel=channel, text=text, blocks=blocks, **thread),
        )
        return PostedMessage(channel=answer["channel"], ts=answer["ts"])

    def message_update(self, message: PostedMessage, *, text: str, blocks: list[dict]) -> None:
        """chat.update of a message posted before."""
        self._call(
            f"updating message {message.ts} in {message.channel}",
            lambda: self._web.chat_update(
                channel=message.channel, ts=message.ts, text=text, blocks=blocks
            ),
        )

    def ephemeral_post(self, channel: str, user: str, *, text: str) -> None:
        """chat.postEphemeral: a line in `channel` only `user` sees."""
        self._call(
            f"answering {user} in {channel}",
            lambda: self._web.chat_postEphemeral(channel=channel, user=user, text=text),
        )

    def user_by_email(self, email: str) -> SlackUser | None:
        """users.lookupByEmail; None when no Slack account has this address."""
        try:
            answer = self._web.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if (exc.response.data or {}).get("error") == "users_not_found":
                return None
            raise _failure(f"looking up {email}", exc) from exc
        except (SlackClientError, URLError, OSError, ValueError) as exc:
            raise _failure(f"looking up {email}", exc) from exc
        return _user(answer["user"])

    def user_get(self, user_id: str) -> SlackUser | None:
        """users.info; None when Slack knows no such user."""
        try:
            answer = self._web.users_info(user=user_id)
        except SlackApiError as exc:
            if (exc.response.data or {}).get("error") == "user_not_found":
                return None
            raise _failure(f"reading user {user_id}", exc) from exc
        except (SlackClientError, URLError, OSError, ValueError) as exc:
            raise _failure(f"reading user {user_id}", exc) from exc
        return _user(answer["user"])

    def identity(self) -> dict:
        """auth.test: which workspace and bot the token belongs to."""
        answer = self._call("checking the token", lambda: self._web.auth_test())
        return {key: answer.get(key, "") for key in ("team", "team_id", "user", "user_id", "url")}


def response_send(response_url: str, *, text: str, replace_original: bool = False) -> None:
    """Answer an interaction through its `response_url` (an ephemeral message by default).

    Only addresses of Slack (or the configured Slack endpoint, e.g. the sandbox) are called:
    the URL arrives in a signed request, and is still never trusted as an open door."""
    allowed = tuple(settings.SLACK_RESPONSE_URL_PREFIXES) + (_base_url(),)
    if not response_url.startswith(allowed):
        raise IntegrationError(
            "the interaction's response_url is not a Slack address", transient=False, system=SYSTEM
        )
    hook = WebhookClient(response_url, timeout=_timeout(), retry_handlers=[])
    try:
        answer = hook.send(
            text=text,
            response_type="ephemeral",
            replace_original=replace_original,
        )
    except (SlackClientError, URLError, OSError, ValueError) as exc:
        raise _failure("answering the interaction", exc) from exc
    if answer.status_code != 200:
        raise IntegrationError(
            f"answering the interaction: HTTP {answer.status_code}",
            transient=answer.status_code >= 500 or answer.status_code == 429,
            system=SYSTEM,
            status=answer.status_code,
        )


def signature_valid(body: bytes, headers) -> bool:
    """Slack's v0 signature over `v0:<timestamp>:<body>` with the signing secret, compared in
    constant time, and a timestamp within five minutes of now (slack_sdk's SignatureVerifier).
    False, never an exception, for anything malformed."""
    secret = settings.SLACK_SIGNING_SECRET
    if not secret:
        return False
    try:
        return SignatureVerifier(secret).is_valid_request(body, dict(headers))
    except (ValueError, TypeError):  # a timestamp that is not a number
        return False


def _base_url() -> str:
    try:
        return endpoint(SYSTEM)
    except IntegrationError:
        return "https://slack.com/api"


def _timeout() -> float:
    return getattr(settings, "SLACK_TIMEOUT_SECONDS", settings.INTEGRATION_TIMEOUT_SECONDS)


def slack_client() -> WebApiSlackClient:
    return WebApiSlackClient(
        base_url=endpoint(SYSTEM), token=settings.SLACK_BOT_TOKEN or "", timeout=_timeout()
    )


def slack_configured() -> bool:
    """True when Slack (or its sandbox) has an address: without one, no Slack rows are written."""
    try:
        endpoint(SYSTEM)
    except IntegrationError:
        return False
    return True
