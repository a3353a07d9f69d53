"""Authenticate and verify a machine API call: bearer token, a v2 HMAC signature over the whole
request (method, path, delivery id, timestamp, body hash), a fresh timestamp, and a delivery id
never seen before (replay protection).

The signature binds the delivery id: re-sending a captured call with a new id breaks it, and
re-sending it with the same id is refused as a replay.
"""

import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import MachineClient, SeenDelivery

MAX_SKEW_SECONDS = 300
SIGNATURE_VERSION = "v2"
DELIVERY_RE = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


@dataclass(frozen=True)
class MachineAuthError(Exception):
    message: str
    status: int = 401
    client: MachineClient | None = None


def signing_string(method: str, path: str, delivery: str, timestamp: str, body: bytes) -> bytes:
    """What a v2 signature covers, one item a line (documented in openapi.yaml)."""
    lines = [
        SIGNATURE_VERSION,
        method.upper(),
        path,
        delivery,
        timestamp,
        hashlib.sha256(body).hexdigest(),
    ]
    return "\n".join(lines).encode()


def sign(secret: str, method: str, path: str, delivery: str, timestamp: str, body: bytes) -> str:
    """The value of X-Switchyard-Signature: "v2=" + hex HMAC-SHA256 of the signing string."""
    message = signing_string(method, path, delivery, timestamp, body)
    return f"{SIGNATURE_VERSION}=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


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
    if not (timestamp.isascii() and timestamp.isdigit() and signature and delivery):
        raise MachineAuthError(
            "missing X-Switchyard-Timestamp, X-Switchyard-Signature or X-Switchyard-Delivery",
            client=client,
        )
    if not DELIVERY_RE.match(delivery) or len(timestamp) > 12:
        raise MachineAuthError(
            "X-Switchyard-Delivery must be 1-100 letters, digits or . _ : - (a UUID), and "
            "X-Switchyard-Timestamp Unix seconds",
            client=client,
        )
    if abs((now or time.time()) - int(timestamp)) > MAX_SKEW_SECONDS:
        raise MachineAuthError("stale timestamp (more than 5 minutes off)", client=client)
    if not signature.startswith(f"{SIGNATURE_VERSION}="):
        raise MachineAuthError(
            "unsupported signature version: sign v2 (method, path, delivery id, timestamp, "
            "body hash), see /api/openapi.yaml",
            client=client,
        )
    expected = sign(
        client.signing_secret,
        request.method,
        request.get_full_path(),
        delivery,
        timestamp,
        request.body,
    )
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise MachineAuthError("bad signature", client=client)
    _delivery_remember(client, delivery)
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
