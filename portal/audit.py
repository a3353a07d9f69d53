"""The audit log: record every action (done, denied or failed) and verify the hash chain."""

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from .models import AuditEvent

GENESIS_HASH = "0" * 64
# PostgreSQL advisory lock id taken while appending, so that concurrent writers chain in order.
_CHAIN_LOCK_ID = 7_203_114


@dataclass(frozen=True)
class AuditContext:
    """Where an action came from: filled from the request in views, by hand in tasks."""

    request_id: str = ""
    ip_address: str | None = None

    @classmethod
    def from_request(cls, request) -> "AuditContext":
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
        return cls(request_id=getattr(request, "request_id", ""), ip_address=ip or None)


def _canonical(event: AuditEvent) -> bytes:
    content = {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "outcome": event.outcome,
        "target_type": event.target_type,
        "target_id": event.target_id,
        "target_label": event.target_label,
        "component_id": event.component_id,
        "environment": event.environment,
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "request_id": event.request_id,
        "ip_address": event.ip_address,
        "previous_hash": event.previous_hash,
    }
    return json.dumps(content, sort_keys=True, cls=DjangoJSONEncoder).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def _json_safe(value: Any) -> Any:
    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(
    *,
    actor,
    action: str,
    target=None,
    outcome: str = AuditEvent.Outcome.DONE,
    component=None,
    environment: str = "",
    before: Any = None,
    after: Any = None,
    reason: str = "",
    context: AuditContext | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one event to the chain. Call it inside the transaction of the change it records.

    `actor` is a user or None for a machine identity (then give `actor_label`, e.g.
    "workflow:github/payments"). `target` is any model instance (or None).
    """
    context = context or AuditContext()
    user = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        _lock_chain()
        last = AuditEvent.objects.order_by("-id").values_list("entry_hash", flat=True).first()
        event = AuditEvent(
            actor=user,
            actor_label=actor_label or (user.get_username() if user else "anonymous"),
            action=action,
            outcome=outcome,
            target_type=target._meta.label_lower if target is not None else "",
            target_id=str(target.pk) if target is not None else "",
            target_label=str(target)[:300] if target is not None else "",
            component=component,
            environment=str(environment or ""),
            before=_json_safe(before),
            after=_json_safe(after),
            reason=reason,
            request_id=context.request_id,
            ip_address=context.ip_address,
            previous_hash=last or GENESIS_HASH,
        )
        event.entry_hash = compute_hash(event)
        event.save(force_insert=True)
    return event


def _lock_chain() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_ID])
    # SQLite serialises writers already (IMMEDIATE transactions).


@dataclass(frozen=True)
class ChainProblem:
    event_id: int
    message: str


def audit_verify(*, batch_size: int = 2000) -> ChainProblem | None:
    """Walk the chain from the first event; return the first broken link, or None when intact."""
    expected_previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.previous_hash != expected_previous:
            return ChainProblem(
                event.id,
                f"event {event.id} points at previous hash {event.previous_hash[:12]}…, but the "
                f"event before it hashes to {expected_previous[:12]}… (an event was removed or "
                "inserted before it)",
            )
        if compute_hash(event) != event.entry_hash:
            return ChainProblem(
                event.id, f"event {event.id} ({event.action}) was changed after it was written"
            )
        expected_previous = event.entry_hash
    return None
