"""Authenticate and verify a machine API call: bearer token, HMAC signature, fresh timestamp,
and a delivery id never seen before (replay protection)."""

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import MachineClient, SeenDelivery

MAX_SKEW_SECONDS = 300


@dataclass(frozen=True)
class MachineAuthError(Exception):
    message: str
    status: int = 401
    client: MachineClient | None = None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a caller sends in X-Switchyard-Signature (also used by the example script)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def machine_authenticate(request, *, now: float | None = None) -> MachineClient:
    """Return the calling MachineClient or raise MachineAuthError saying what is wrong."""
    header = request.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if not token:
        raise MachineAuthError("missing bearer token")
    client = MachineClient.objects.filter(
        token_sha256=MachineClient.hash_token(token), is_active=True
    ).first()
    if client is None:
        raise MachineAuthError("unknown or disabled token")
    timestamp = request.headers.get("X-Switchyard-Timestamp", "")
    signature = request.headers.get("X-Switchyard-Signature", "")
    delivery = request.headers.get("X-Switchyard-Delivery", "")
    if not (timestamp.isdigit() and signature and delivery):
        raise MachineAuthError(
            "missing X-Switchyard-Timestamp, X-Switchyard-Signature or X-Switchyard-Delivery",
            client=client,
        )
    if abs((now or time.time()) - int(timestamp)) > MAX_SKEW_SECONDS:
        raise MachineAuthError("stale timestamp (more than 5 minutes off)", client=client)
    if not hmac.compare_digest(sign(client.signing_secret, timestamp, request.body), signature):
        raise MachineAuthError("bad signature", client=client)
    _delivery_remember(client, delivery[:100])
    return client


def _delivery_remember(client: MachineClient, delivery: str) -> None:
    try:
        with transaction.atomic():
            SeenDelivery.objects.create(client=client, delivery_id=delivery)
    except IntegrityError:
        raise MachineAuthError("replayed delivery id", client=client)
    # Old ids can go: their timestamps would be refused as stale anyway.
    cutoff = timezone.now() - timedelta(seconds=2 * MAX_SKEW_SECONDS)
    SeenDelivery.objects.filter(client=client, seen_at__lt=cutoff).delete()
