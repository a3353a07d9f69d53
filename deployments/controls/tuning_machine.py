"""Runtime tuning's machine side: what is delivered to the `<deployment>-runtime` ConfigMap and the
JSON endpoint, the push itself (no transaction open) and beat's expiry of overrides. Nothing here
schedules tasks: the callers (services, tasks) do."""

import json

from django.db import transaction
from django.utils import timezone

from catalog.models import Component, ComponentEnvironment, Environment
from catalog.selectors import environment_kube_contexts
from integrations.errors import IntegrationError
from integrations.kubernetes import kubernetes_adapter
from portal.audit import AuditContext, audit_record

from .models import TuningKey, TuningValue


def configmap_text(key: TuningKey, value) -> str:
    """How a value is written into the ConfigMap (ConfigMap values are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if key.kind == TuningKey.Kind.STRING:
        return str(value)
    if key.kind == TuningKey.Kind.JSON:
        return json.dumps(value, separators=(",", ":"), sort_keys=True)
    return str(value)


def runtime_values(component: Component, environment: Environment) -> list[TuningValue]:
    """Every key of `component` with its value in `environment` (unsaved rows for defaults)."""
    keys = list(component.tuning_keys.all())
    rows = {
        v.key_id: v
        for v in TuningValue.objects.filter(key__in=keys, environment=environment).select_related(
            "override_by"
        )
    }
    values = []
    for key in keys:
        value = rows.get(key.pk) or TuningValue(key=key, environment=environment)
        value.key = key
        values.append(value)
    return values


def configmap_name(target: ComponentEnvironment) -> str:
    return f"{target.kube_deployment or target.component.name}-runtime"


def tuning_push(*, component_id: int, environment_id: int) -> dict[str, str]:
    """Merge the component's effective values into its runtime ConfigMap (no transaction open).
    Raises IntegrationError; records the outcome on the rows either way."""
    target = ComponentEnvironment.objects.select_related("component", "environment").get(
        component_id=component_id, environment_id=environment_id
    )
    env = target.environment
    data = {
        value.key.key: configmap_text(value.key, value.effective)
        for value in runtime_values(target.component, env)
    }
    rows = TuningValue.objects.filter(key__component_id=component_id, environment_id=environment_id)
    try:
        if data:
            kubernetes_adapter(contexts=environment_kube_contexts()).configmap_merge(
                env.name, env.kube_namespace or "default", configmap_name(target), data
            )
    except IntegrationError as exc:
        rows.update(push_error=exc.message[:500])
        raise
    rows.update(push_error="", pushed_at=timezone.now())
    return data


def runtime_snapshot(component: Component, environment: Environment) -> dict:
    """What the JSON endpoint answers: typed effective values and the overrides' expiries."""
    values = runtime_values(component, environment)
    return {
        "component": component.name,
        "environment": environment.name,
        "generated_at": timezone.now().isoformat(),
        "values": {v.key.key: v.effective for v in values},
        "kinds": {v.key.key: v.key.kind for v in values},
        "overrides": {
            v.key.key: {"value": v.override_value, "until": v.override_until.isoformat()}
            for v in values
            if v.has_override
        },
    }


def tuning_audit(actor, value, action, before, after, reason, context) -> None:
    audit_record(
        actor=actor,
        actor_label="" if actor else "switchyard:beat",
        action=action,
        target=value,
        component=value.key.component,
        environment=value.environment.name,
        before={"key": value.key.key, "value": before},
        after={"key": value.key.key, "value": after},
        reason=reason,
        context=context or AuditContext(),
    )


def tuning_override_end(
    *, actor, value: TuningValue, until=None, reason: str = "", context=None
) -> bool:
    """End `value`'s override if it still ends at `until` (conditional update) and audit it;
    the caller pushes the values afterwards. actor None: beat's expiry."""
    until = until or value.override_until
    if until is None:
        return False
    with transaction.atomic():
        moved = TuningValue.objects.filter(pk=value.pk, override_until=until).update(
            override_value=None, override_until=None, override_by=None, updated_at=timezone.now()
        )
        if moved:
            value.refresh_from_db()
            action = "tuning.revert" if actor else "tuning.override_expire"
            tuning_audit(
                actor, value, action, {"until": until.isoformat()}, value.base, reason, context
            )
    return bool(moved)


def tuning_expire_due(*, now=None) -> list[tuple[int, int]]:
    """Beat: revert every override whose time has come; a second run finds nothing to do.
    Returns (component id, environment id) per revert, for the caller to push."""
    now = now or timezone.now()
    due = TuningValue.objects.filter(override_until__lte=now).select_related(
        "key__component", "environment"
    )
    return [
        (value.key.component_id, value.environment_id)
        for value in due
        if tuning_override_end(
            actor=None, value=value, until=value.override_until, reason="expired"
        )
    ]
