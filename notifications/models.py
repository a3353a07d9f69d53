"""The notification outbox: one row per recipient, channel and thing notified about.

A row is written in the transaction of what it announces and delivered by Celery afterwards
(`notifications.tasks.deliver`), so a failed delivery never blocks a decision. The unique
(event, channel, address, key) makes announcing the same thing twice a no-op; delivery claims a
row with a conditional update, so a duplicate task sends nothing.
"""

from django.conf import settings
from django.db import models


class Notification(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    event = models.CharField(max_length=40)  # a key of notifications.events.EVENTS
    channel = models.CharField(max_length=20)  # a key of notifications.channels.CHANNELS
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    address = models.CharField(max_length=200)  # where the channel sends it
    key = models.CharField(max_length=200)  # what it is about, e.g. "approval:12"
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=400, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    # What the channel answered when it sent the row (Slack: "<channel id>:<message ts>"), so a
    # later row about the same thing can update that message instead of posting another.
    external_ref = models.CharField(max_length=200, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "channel", "address", "key"], name="notification_once"
            )
        ]
        indexes = [models.Index(fields=["user", "channel", "read_at"], name="notification_unread")]

    def __str__(self):
        return f"{self.event} to {self.address} by {self.channel}"


class NotificationPreference(models.Model):
    """A person turned one channel of one event off (or back on); no row: the default, on."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_prefs"
    )
    event = models.CharField(max_length=40)
    channel = models.CharField(max_length=20)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "channel"], name="preference_once")
        ]


class SlackAccount(models.Model):
    """The Slack user a Switchyard person is in one workspace: found by their email
    (users.lookupByEmail when a message mentions them, or users.info when they first click) and
    kept, so that a click from Slack is decided as that person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slack_accounts"
    )
    team_id = models.CharField(max_length=40)
    slack_id = models.CharField(max_length=40)
    email = models.EmailField(blank=True)  # the address they were matched by
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["team_id", "slack_id"], name="slack_account_once"),
            models.UniqueConstraint(fields=["team_id", "user"], name="slack_account_per_user"),
        ]

    def __str__(self):
        return f"{self.slack_id} in {self.team_id} is {self.user}"
