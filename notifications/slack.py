"""The Slack channel's work: how a row reads in Slack, posting or updating its message, and who
a Slack user is in Switchyard.

How a thing reads is up to the app that owns it: an app registers a renderer for the prefix of
its notification keys ("approval" for "approval:12") in its AppConfig.ready(), since this app
may not import it (deployments reaches notifications, and must not reach approvals through it).
A renderer is called at send time, so a message says how things are when it is posted, and an
update says how they ended.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from integrations.errors import IntegrationError
from integrations.slack import PostedMessage, slack_client

from .models import Notification, SlackAccount


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the notification's fallback text (and what a screen reader says)
    blocks: list[dict] = field(default_factory=list)


Renderer = Callable[[Notification], SlackMessage | None]
RENDERERS: dict[str, Renderer] = {}


def slack_renderer_register(prefix: str, renderer: Renderer) -> None:
    RENDERERS[prefix] = renderer


def link(url: str) -> str:
    return settings.SITE_URL.rstrip("/") + url if url.startswith("/") else url


def message_default(row: Notification) -> SlackMessage:
    """A title, the body and a link: for things without a renderer of their own."""
    text = f"*{row.title}*" + (f"\n{row.body}" if row.body else "")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}}]
    if row.url:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "action_id": "open", "url": link(row.url),
             "text": {"type": "plain_text", "text": "Open in Switchyard"}},
        ]})  # fmt: skip
    return SlackMessage(text=row.title, blocks=blocks)


def message_for(row: Notification) -> SlackMessage:
    renderer = RENDERERS.get(row.subject.partition(":")[0])
    return (renderer and renderer(row)) or message_default(row)


def slack_deliver(row: Notification) -> str:
    """Post the row's message, or, for a follow-up, update the message it follows; a reminder
    (`THREADED`) is a reply in the thread of the message it reminds of. Returns the message's
    reference. A follow-up or reply whose first message is still on its way waits for it
    (transient); one whose first message was never posted posts a message of its own, unless
    it only tells progress (a vote, the soak over): then there is nothing to do."""
    from .services import FOLLOWUPS, PROGRESS, THREADED

    if row.event in FOLLOWUPS:
        posted = _first_posted(row, FOLLOWUPS[row.event])
        if posted is not None:
            message = message_for(row)
            slack_client().message_update(posted, text=message.text, blocks=message.blocks)
            return posted.ref
        if row.event in PROGRESS:
            return ""  # no message to update: progress is not worth a message of its own
    message = message_for(row)
    if row.event in THREADED:
        parent = _first_posted(row, THREADED[row.event])
        if parent is not None:
            return (
                slack_client()
                .message_post(
                    parent.channel, text=message.text, blocks=message.blocks, thread_ts=parent.ts
                )
                .ref
            )
    return slack_client().message_post(row.address, text=message.text, blocks=message.blocks).ref


def _first_posted(row: Notification, event: str) -> PostedMessage | None:
    """The message `row` belongs with (`event`, same subject and channel), once it is posted;
    raises a transient error while it is still on its way."""
    first = Notification.objects.filter(
        event=event, channel=row.channel, address=row.address, key=row.subject
    ).first()
    if first is not None and first.state in (first.State.PENDING, first.State.SENDING):
        raise IntegrationError(
            "the first message is not posted yet", transient=True, system="slack"
        )
    if first is not None and first.external_ref:
        return PostedMessage.from_ref(first.external_ref)
    return None


def slack_mentions(users) -> list[str]:
    """`<@U…>` for each person Slack knows by their email (users.lookupByEmail), linking them
    to their Slack account on the way; people Slack does not know are left out. Slack failing
    to answer leaves out those not linked yet: the message goes without their mentions."""
    known = dict(SlackAccount.objects.filter(user__in=users).values_list("user_id", "slack_id"))
    mentions, client, asking = [], None, True
    for user in users:
        slack_id = known.get(user.pk)
        if slack_id is None and user.email and asking:
            try:
                client = client or slack_client()
                found = client.user_by_email(user.email)
            except IntegrationError:
                asking = False  # not again for the others of this message
                continue
            if found is not None and not found.deleted:
                _link(user, found)
                slack_id = found.id
        if slack_id:
            mentions.append(f"<@{slack_id}>")
    return mentions


def slack_user_resolve(*, slack_id: str, team_id: str):
    """The Switchyard person a Slack user is: their stored link, else the one active account
    whose email is the Slack user's (users.info), linked from then on. None when there is no
    such person (or Slack cannot say); raises IntegrationError only for a transient failure."""
    account = (
        SlackAccount.objects.select_related("user").filter(team_id=team_id, slack_id=slack_id)
    ).first()
    if account is not None:
        return account.user if account.user.is_active else None
    found = slack_client().user_get(slack_id)
    if found is None or found.deleted or not found.email:
        return None
    if found.team_id and found.team_id != team_id:
        return None
    people = list(get_user_model().objects.filter(email__iexact=found.email, is_active=True)[:2])
    if len(people) != 1:
        return None  # nobody, or an address two accounts share: never guess
    _link(people[0], found, team_id=team_id)
    return people[0]


def _link(user, found, *, team_id: str = "") -> None:
    try:
        with transaction.atomic():
            SlackAccount.objects.get_or_create(
                team_id=team_id or found.team_id, slack_id=found.id,
                defaults={"user": user, "email": found.email},
            )  # fmt: skip
    except IntegrityError:
        pass  # linked meanwhile, or this person is linked to another Slack account already
