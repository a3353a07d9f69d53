"""Runtime tuning: typed values per component and environment, temporary overrides that beat
reverts, delivery through the `<deployment>-runtime` ConfigMap (merge patch) and a read-only JSON
endpoint with a per-service token.

Every change writes the row and its audit event in one transaction and pushes the component's
effective values to Kubernetes on commit. The push always sends the whole current state, so a
late or duplicate push cannot bring back an old value.
"""

import hashlib
import json
import math
import re
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from catalog.models import Component, Environment
from portal.audit import audit_record
from portal.errors import ValidationFailed
from portal.permissions import permission_require

from . import tasks
from .models import RuntimeToken, TuningKey, TuningValue
from .tuning_machine import tuning_audit, tuning_override_end

KEY_RE = re.compile(r"^[A-Za-z0-9._-]{1,120}$")
TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
MAX_JSON_BYTES = 16_000
MAX_OVERRIDE_MINUTES = 24 * 60


# -- typed values --------------------------------------------------------------------------


def tuning_parse(key: TuningKey, raw) -> object:
    """Turn form input into a value of the key's kind, or raise ValidationFailed saying why."""
    text = raw.strip() if isinstance(raw, str) else raw
    kind = key.kind
    if kind in (TuningKey.Kind.BOOL, TuningKey.Kind.TOGGLE):
        if isinstance(text, bool):
            return text
        if str(text).lower() in TRUE | FALSE:
            return str(text).lower() in TRUE
        raise ValidationFailed(f"{key.key} is on or off: write true or false.")
    if kind == TuningKey.Kind.JSON:
        if not isinstance(text, str):
            return text
        if len(text.encode()) > MAX_JSON_BYTES:
            raise ValidationFailed(f"{key.key} is larger than {MAX_JSON_BYTES} bytes.")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise ValidationFailed(f"{key.key} is not valid JSON: {exc}.")
    if kind == TuningKey.Kind.STRING:
        if len(str(text)) > 1000:
            raise ValidationFailed(f"{key.key} is longer than 1000 characters.")
        return str(text)
    return _number(key, text)


def _number(key: TuningKey, text) -> int | float:
    kind = key.kind
    try:
        if kind == TuningKey.Kind.SAMPLING and isinstance(text, str) and text.endswith("%"):
            value = float(text[:-1]) / 100
        elif kind == TuningKey.Kind.INT:
            value = int(text)
        else:
            value = float(text)
    except (TypeError, ValueError):
        noun = "a whole number" if kind == TuningKey.Kind.INT else "a number"
        raise ValidationFailed(f"{key.key} must be {noun}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValidationFailed(f"{key.key} must be a finite number.")
    low, high = key.minimum, key.maximum
    if kind == TuningKey.Kind.SAMPLING:
        low, high = 0.0, 1.0
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationFailed(f"{key.key} must be between {_fmt(low)} and {_fmt(high)}.")
    return value


def _fmt(bound) -> str:
    return "no limit" if bound is None else f"{bound:g}"


# -- people's actions ----------------------------------------------------------------------


def _reason_require(value: TuningValue, reason: str) -> None:
    """The one rule of production: every change says why (knobs ask for it too)."""
    if value.environment.is_production and not (reason or "").strip():
        raise ValidationFailed(
            f"{value.environment} is production: say why in the reason field; it goes into the "
            "audit log. Nothing was changed."
        )


def _require(actor, value: TuningValue, action: str, context) -> None:
    permission_require(
        actor=actor,
        perm="deployments.change_tuningvalue",
        obj=value,
        action=action,
        component=value.key.component,
        environment=value.environment.name,
        context=context,
        message=f"Only {value.key.component.owner or 'the owning team'} and SREs may tune "
        f"{value.key.component} in {value.environment}.",
    )


def tuning_value_for(*, key: TuningKey, environment: Environment) -> TuningValue:
    """The key's row in `environment` (unsaved when nothing was ever set there)."""
    found = TuningValue.objects.filter(key=key, environment=environment).first()
    return found or TuningValue(key=key, environment=environment)


def tuning_set(
    *, actor, key: TuningKey, environment: Environment, raw, reason: str = "", context=None
) -> TuningValue:
    """Set the lasting value of `key` in `environment` (raw None or "" → back to the default)."""
    value = tuning_value_for(key=key, environment=environment)
    _require(actor, value, "tuning.set", context)
    _reason_require(value, reason)
    new = None if raw in (None, "") else tuning_parse(key, raw)
    before = value.base
    with transaction.atomic():
        value, _ = TuningValue.objects.select_for_update().get_or_create(
            key=key, environment=environment
        )
        value.value = new
        value.save(update_fields=["value", "updated_at"])
        tuning_audit(actor, value, "tuning.set", before, value.base, reason, context)
        _push_on_commit(key.component_id, environment.pk)
    return value


def tuning_override(
    *,
    actor,
    key: TuningKey,
    environment: Environment,
    raw,
    minutes: int,
    reason: str = "",
    context=None,
) -> TuningValue:
    """Use `raw` for `minutes`; beat then reverts to the lasting value (incident mode)."""
    value = tuning_value_for(key=key, environment=environment)
    _require(actor, value, "tuning.override", context)
    _reason_require(value, reason)
    new = tuning_parse(key, raw)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= MAX_OVERRIDE_MINUTES:
        raise ValidationFailed(f"An override lasts 1 to {MAX_OVERRIDE_MINUTES} minutes.")
    until = timezone.now() + timedelta(minutes=minutes)
    with transaction.atomic():
        value, _ = TuningValue.objects.select_for_update().get_or_create(
            key=key, environment=environment
        )
        before = value.effective
        value.override_value, value.override_until, value.override_by = new, until, actor
        value.save(update_fields=["override_value", "override_until", "override_by", "updated_at"])
        after = {"value": new, "until": until.isoformat(), "minutes": minutes}
        tuning_audit(actor, value, "tuning.override", before, after, reason, context)
        _push_on_commit(key.component_id, environment.pk)
    return value


def tuning_revert(*, actor, value: TuningValue, until=None, reason: str = "", context=None) -> bool:
    """End `value`'s override now. `until` is the expiry the caller saw: when the override has
    changed or ended since, nothing happens (conditional update). actor None: beat's expiry."""
    if actor is not None:
        _require(actor, value, "tuning.revert", context)
    with transaction.atomic():
        moved = tuning_override_end(
            actor=actor, value=value, until=until, reason=reason, context=context
        )
        if moved:
            _push_on_commit(value.key.component_id, value.environment_id)
    return moved


def _push_on_commit(component_id: int, environment_id: int) -> None:
    transaction.on_commit(lambda: tasks.tuning_push.delay(component_id, environment_id))


# -- per-service tokens --------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def runtime_token_issue(*, actor, component: Component, context=None) -> str:
    """A new read-only token for `component` (replacing the old one); shown once, stored hashed."""
    permission_require(
        actor=actor,
        perm="deployments.issue_runtimetoken",
        obj=component,
        action="tuning.token_issue",
        component=component,
        context=context,
        message=f"Only {component.owner or 'the owning team'} and SREs may issue its token.",
    )
    token = "syrt_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        row, created = RuntimeToken.objects.update_or_create(
            component=component,
            defaults={
                "token_sha256": token_hash(token),
                "created_at": timezone.now(),
                "created_by": actor,
                "last_used_at": None,
            },
        )
        audit_record(
            actor=actor,
            action="tuning.token_issue",
            target=row,
            component=component,
            after={"replaced": not created},
            context=context,
        )
    return token


def runtime_token_check(token: str, component_name: str) -> Component | None:
    """The component `token` belongs to, when that is `component_name`; None otherwise."""
    if not token:
        return None
    row = (
        RuntimeToken.objects.filter(token_sha256=token_hash(token))
        .select_related("component")
        .first()
    )
    if row is None or row.component.name != component_name:
        return None
    RuntimeToken.objects.filter(pk=row.pk).update(last_used_at=timezone.now())
    return row.component
