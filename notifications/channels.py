"""Notification channels: one class per channel in one registry (render, send, retry).

A channel says where a person is reached (`address`), how a notification reads there (`render`)
and sends it (`send`), raising IntegrationError(transient=True) for what is worth retrying;
`max_attempts` caps the retries. Adding a channel is one class, its templates and its tests.
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

    def address(self, user) -> str:
        """Where `user` is reached on this channel; "" when they cannot be."""
        raise NotImplementedError

    def send(self, notification) -> None:
        raise NotImplementedError


@register
class PortalChannel(Channel):
    """The bell in the portal: delivered as soon as it is written; read when the person opens it."""

    name = "portal"
    label = "In the portal"
    max_attempts = 1

    def address(self, user) -> str:
        return f"user:{user.pk}"

    def send(self, notification) -> None:
        return None


@register
class EmailChannel(Channel):
    """Django's mail framework, a templated message with the link."""

    name = "email"
    label = "Email"

    def address(self, user) -> str:
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
