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
