"""Notification channels: one class per channel in one registry (render, send, retry).

A channel says where a person is reached (`address`: the person's own address, or the team's
chat channel the thing is announced in), how a notification reads there (`render`) and sends it
(`send`, returning what the other side calls the sent message, if anything), raising
IntegrationError(transient=True) for what is worth retrying; `max_attempts` caps the retries.
`events` lists what it carries (follow-ups such as "approval.decided" only update a message on
channels that keep one). Adding a channel is one class, its templates and its tests.
"""

import smtplib
from typing import ClassVar

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from integrations.errors import IntegrationError

CHANNELS: dict[str, "Channel"] = {}


def register(cls):
    CHANNELS[cls.name] = cls()
    return cls


class Channel:
    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    max_attempts: ClassVar[int] = 5
    followups: ClassVar[bool] = False  # carries "approval.decided" and the like

    def address(self, user, *, chat: str = "") -> str:
        """Where `user` is reached on this channel (`chat`: the owning team's chat channel);
        "" when they cannot be."""
        raise NotImplementedError

    def send(self, notification) -> str | None:
        raise NotImplementedError


@register
class PortalChannel(Channel):
    """The bell in the portal: delivered as soon as it is written; read when the person opens it."""

    name = "portal"
    label = "In the portal"
    max_attempts = 1

    def address(self, user, *, chat: str = "") -> str:
        return f"user:{user.pk}"

    def send(self, notification) -> None:
        return None


@register
class EmailChannel(Channel):
    """Django's mail framework, a templated message with the link."""

    name = "email"
    label = "Email"

    def address(self, user, *, chat: str = "") -> str:
        return user.email or ""

    def render(self, notification) -> tuple[str, str]:
        context = {
            "notification": notification,
            "link": settings.SITE_URL.rstrip("/") + notification.url if notification.url else "",
        }
        subject = f"[Switchyard] {notification.title}"
        return subject, render_to_string("notifications/email/notification.txt", context)

    def send(self, notification) -> None:
        subject, body = self.render(notification)
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [notification.address])
        except (smtplib.SMTPException, OSError) as exc:
            permanent = isinstance(exc, smtplib.SMTPRecipientsRefused)
            raise IntegrationError(f"mail: {exc}", transient=not permanent, system="smtp")


@register
class SlackChannel(Channel):
    """The owning team's Slack channel (the catalog's chat field): one message per thing
    announced, however many of the team want it, updated in place by its follow-ups."""

    name = "slack"
    label = "Team's Slack channel"
    followups = True

    def address(self, user, *, chat: str = "") -> str:
        from integrations.slack import slack_configured

        chat = chat.strip()
        return chat if chat and settings.SLACK_BOT_TOKEN and slack_configured() else ""

    def send(self, notification) -> str | None:
        from .slack import slack_deliver

        return slack_deliver(notification)
