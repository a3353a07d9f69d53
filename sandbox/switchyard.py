"""What the sandbox's workflow needs to call Switchyard back: a machine client of its own."""

import logging

from django.db import DatabaseError

logger = logging.getLogger(__name__)
SANDBOX_CLIENT = "sandbox-github"


def sandbox_machine_credentials() -> dict:
    """Issue (re-key) the sandbox's machine client for every environment; {} if impossible."""
    from approvals.services import machine_client_issue
    from catalog.models import Environment

    try:
        _, token, secret = machine_client_issue(
            name=SANDBOX_CLIENT,
            environments=Environment.objects.all(),
            all_components=True,
            actor_label="sandbox",
        )
    except DatabaseError as exc:
        logger.warning("sandbox: no machine client for approvals (%s); run migrate first", exc)
        return {}
    return {"token": token, "secret": secret}


def slack_workspace_seed(slack) -> None:
    """The Slack sandbox's workspace as the demo needs it: a channel for every team's chat
    field, a Slack user for every person with an email, and interactions sent to this
    Switchyard (SITE_URL), as a Slack app's settings would say."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from catalog.models import Team

    try:
        channels = set(Team.objects.exclude(chat_channel="").values_list("chat_channel", flat=True))
        people = list(get_user_model().objects.filter(is_active=True).exclude(email=""))
    except DatabaseError as exc:
        logger.warning("sandbox: Slack workspace left empty (%s); run migrate first", exc)
        return
    for name in channels:
        slack.channel_create(name)
    for person in people:
        slack.user_create(person.email, person.get_username())
    url = settings.SITE_URL.rstrip("/") + reverse("approvals_api:slack_interactions")
    slack.config["interactivity_url"] = url
