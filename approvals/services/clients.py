"""Machine clients: issued (or re-keyed) with their scope."""

import secrets

from django.db import transaction

from portal.audit import audit_record

from ..models import MachineClient


def machine_client_issue(
    *,
    name: str,
    environments,
    components=(),
    all_components: bool = False,
    actor=None,
    actor_label: str = "",
) -> tuple:
    """Create (or re-key) a machine client; returns (client, token, signing secret).

    The client may post only for `environments` and for `components` (or any component when
    `all_components`). The token is stored only as its SHA-256: this is the one moment it can
    be shown.
    """
    token, secret = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with transaction.atomic():
        client, created = MachineClient.objects.update_or_create(
            name=name,
            defaults={
                "token_sha256": MachineClient.hash_token(token),
                "signing_secret": secret,
                "is_active": True,
                "all_components": all_components,
            },
        )
        client.environments.set(environments)
        if components or not created:
            client.components.set(components)
        audit_record(
            actor=actor,
            actor_label=actor_label,
            action="approvals.machine_client_issue",
            target=client,
            after={
                "created": created,
                "environments": sorted(e.name for e in client.environments.all()),
                "components": "all"
                if all_components
                else sorted(c.name for c in client.components.all()),
            },
        )
    return client, token, secret
