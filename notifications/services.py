"""Announce things to people (write outbox rows) and deliver them (Celery moves rows forward).

`notify` is called inside the transaction of what it announces; delivery is scheduled on commit.
"""

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from integrations.errors import IntegrationError
from portal.errors import PermissionDenied

from .channels import CHANNELS
from .models import Notification, NotificationPreference

EVENTS = {
    "approval.requested": "An approval you may give is requested",
    "approval.expiring": "An approval request is about to expire",
    "release.failed": "A release failed",
    "release.aborted": "A release was aborted",
    "override.reverting": "A temporary runtime override is about to revert",
    "train.part_requested": "A release train waits for your team's approval of its part",
}
# What happened next to something announced: carried only by channels that keep a message to
# update (Slack), never a notification of its own, so not in anyone's preferences.
FOLLOWUPS = {
    "approval.decided": "approval.requested",
    "approval.expired": "approval.requested",
    "approval.voted": "approval.requested",
    "approval.gate_opened": "approval.requested",
}
# Follow-ups that say how something is going, not how it ended: one row per occurrence (its key
# is "<key>#<occurrence>"), and nothing to do when the first message was never posted.
PROGRESS = {"approval.voted", "approval.gate_opened"}
# Messages of their own that belong with an earlier one: on a channel with threads (Slack) they
# are posted as a reply in its thread (and shown in the channel), else as a message of their own.
THREADED = {"approval.expiring": "approval.requested"}


def _wanted(users, event: str) -> set[tuple[int, str]]:
    off = NotificationPreference.objects.filter(
        user__in=users, event=event, enabled=False
    ).values_list("user_id", "channel")
    return {(user.pk, channel) for user in users for channel in CHANNELS} - set(off)


def notify(
    *, event: str, key: str, users, title: str, body: str = "", url: str = "", chat: str = ""
) -> int:
    """One outbox row per user and wanted channel (one per team chat channel, however many of
    the team want it: `chat` is the owning team's); an event announced before is not repeated.
    Returns how many rows are new."""
    if event not in EVENTS:
        raise ValueError(f"unknown notification event {event!r}")
    users = [u for u in {u.pk: u for u in users}.values() if u.is_active]
    wanted = _wanted(users, event)
    rows: dict[tuple[str, str], Notification] = {}
    for user in users:
        for name, channel in CHANNELS.items():
            address = channel.address(user, chat=chat)
            if (user.pk, name) in wanted and address and (name, address) not in rows:
                row = Notification(event=event, channel=name, user=user, address=address, key=key)
                row.title, row.body, row.url = title[:300], body, url
                rows[name, address] = row
    return _write(event, key, list(rows.values()))


def notification_followup(
    *, event: str, key: str, title: str, url: str = "", occurrence: str = ""
) -> int:
    """What became of something announced (`FOLLOWUPS`): one row per message sent about it on a
    channel that keeps messages, which updates that message. Call it in the transaction of
    what it follows up; a second call for the same thing (and `occurrence`: "vote-2") writes
    nothing."""
    first = FOLLOWUPS[event]
    row_key = f"{key}#{occurrence}" if occurrence else key
    keeping = [name for name, channel in CHANNELS.items() if channel.followups]
    announced = Notification.objects.filter(event=first, key=key, channel__in=keeping)
    rows = [
        Notification(event=event, channel=row.channel, user_id=row.user_id, address=row.address,
                     key=row_key, title=title[:300], url=url)
        for row in announced.only("channel", "user_id", "address")
    ]  # fmt: skip
    return _write(event, row_key, rows)


def _write(event: str, key: str, rows: list[Notification]) -> int:
    before = set(Notification.objects.filter(event=event, key=key).values_list("pk", flat=True))
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    new = list(
        Notification.objects.filter(event=event, key=key)
        .exclude(pk__in=before)
        .values_list("pk", flat=True)
    )
    if new:
        from . import tasks

        for pk in new:
            transaction.on_commit(lambda pk=pk: tasks.deliver.delay(pk), robust=True)
    return len(new)


def notification_deliver(*, notification_id: int) -> str:
    """Send one row: "sent", "retry" (transient failure, back to pending), "failed", or
    "skipped" (someone else claimed it, or it is done: a duplicate task changes nothing)."""
    now = timezone.now()
    claimed = Notification.objects.filter(
        pk=notification_id, state=Notification.State.PENDING
    ).update(state=Notification.State.SENDING, attempts=F("attempts") + 1, claimed_at=now)
    if not claimed:
        return "skipped"
    row = Notification.objects.select_related("user").get(pk=notification_id)
    channel = CHANNELS[row.channel]
    try:
        ref = channel.send(row)
    except IntegrationError as exc:
        again = exc.transient and row.attempts < channel.max_attempts
        Notification.objects.filter(pk=row.pk, state=Notification.State.SENDING).update(
            state=Notification.State.PENDING if again else Notification.State.FAILED,
            last_error=str(exc)[:500],
        )
        return "retry" if again else "failed"
    Notification.objects.filter(pk=row.pk, state=Notification.State.SENDING).update(
        state=Notification.State.SENT, sent_at=timezone.now(), last_error="",
        external_ref=(ref or "")[:200],
    )  # fmt: skip
    return "sent"


def notifications_recover(*, older_than_seconds: int = 300) -> list[int]:
    """Rows a dead worker left "sending" go back to pending; returns their ids to redeliver."""
    stale = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    rows = Notification.objects.filter(state=Notification.State.SENDING, claimed_at__lt=stale)
    ids = list(rows.values_list("pk", flat=True))
    Notification.objects.filter(pk__in=ids, state=Notification.State.SENDING).update(
        state=Notification.State.PENDING
    )
    return ids


def notifications_read(*, actor, ids=None) -> int:
    """Mark the actor's own portal notifications read (all of them, or `ids`)."""
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to read your notifications.")
    rows = Notification.objects.filter(user=actor, channel="portal", read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


def preferences_set(*, actor, enabled: set[tuple[str, str]]) -> None:
    """The actor's own choices: every (event, channel) in `enabled` on, every other off."""
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to change your notification settings.")
    with transaction.atomic():
        for event in EVENTS:
            for channel in CHANNELS:
                NotificationPreference.objects.update_or_create(
                    user=actor, event=event, channel=channel,
                    defaults={"enabled": (event, channel) in enabled},
                )  # fmt: skip


def eligible_approvers(approval) -> list:
    """Who may decide `approval`, by the decision rule itself (owner team and SREs, never the
    requester): the candidates are filtered through approvals.decide_approvalrequest."""
    from portal.rules import SRE_GROUP

    User = get_user_model()
    candidates = User.objects.filter(is_active=True).filter(
        team_memberships__team_id=approval.component.owner_id
    ) | User.objects.filter(is_active=True, groups__name=SRE_GROUP)
    return [
        u for u in candidates.distinct() if u.has_perm("approvals.decide_approvalrequest", approval)
    ]
