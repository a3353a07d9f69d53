"""What every knob declares. A knob is one class: its one name, form fields, range check against
the guardrail (ControlPolicy), how it is applied through the Kubernetes adapter and how its live
state is read. Everything else (permission check, reason, production confirmation, audit,
Celery, the live card) is shared and never asks which knob it is."""

from __future__ import annotations

from typing import TYPE_CHECKING

from portal.errors import ValidationFailed

if TYPE_CHECKING:  # the registry stays importable from models: no adapter at import time
    from integrations.kubernetes import DeploymentInfo, KubernetesPort


class Knob:
    #: The one name: ControlAction.kind, URL (`controls/<id>/<env>/<name>/`), template
    #: `deployments/controls/knobs/<name>.html`, audit action `control.<name>`.
    name: str = ""
    label: str = ""  # "Scale": titles and the action list
    verb: str = ""  # "scale": "You may not scale ..."
    fields: tuple[str, ...] = ()  # the form fields posted to the knob
    #: ControlPolicy columns `<policy_prefix>_enabled` and `<policy_prefix>_roles`.
    policy_prefix: str = ""
    permission: str = ""  # django-rules permission, declared by controls/rules.py from this
    #: Safe to send again after a worker was lost (sets absolute values). False: the action is
    #: marked failed with `lost_message` instead.
    repeatable: bool = True
    lost_message: str = ""
    #: Argo CD self-heal reverts this change (it is part of the GitOps source).
    reverted_by_self_heal: bool = True
    #: The guardrail in the admin: the fieldset's title, its ControlPolicy columns besides
    #: `<policy_prefix>_enabled` / `_roles` (a tuple shows a (low, high) pair side by side, and
    #: the form refuses low > high), and the columns that may be left empty (model default).
    guardrail_title: str = ""
    guardrail_fields: tuple = ()
    guardrail_optional: tuple[str, ...] = ()

    def __init__(self):
        self.policy_prefix = self.policy_prefix or self.name
        self.permission = self.permission or f"deployments.change_{self.name}"

    @property
    def guardrail_layout(self) -> list:
        """The admin fieldset's fields: enabled, the bounds, who may turn it."""
        return [f"{self.policy_prefix}_enabled", *self.guardrail_fields,
                f"{self.policy_prefix}_roles"]  # fmt: skip

    @property
    def guardrail_pairs(self) -> list[tuple[str, str]]:
        return [entry for entry in self.guardrail_fields if isinstance(entry, tuple)]

    @property
    def template(self) -> str:
        return f"deployments/controls/knobs/{self.name}.html"

    def limits(self, policy) -> dict[str, tuple[int, int]]:
        """The allowed range per field, from the guardrail (for the form and the check)."""
        return {}

    def validate(self, policy, params: dict) -> dict:
        """The params checked against the guardrail; raises ValidationFailed saying why."""
        bounds = self.limits(policy)
        return {name: in_range(self.field_label(name), params.get(name), bounds[name])
                for name in self.fields}  # fmt: skip

    def field_label(self, name: str) -> str:
        return name.replace("_", " ").capitalize()

    def available(self, info: DeploymentInfo | None) -> bool:
        """False when the live deployment has nothing for this knob to turn (no autoscaler)."""
        return True

    def unavailable_message(self, target) -> str:
        return f"{target.component} has nothing to {self.verb} in {target.environment}."

    def before(self, info: DeploymentInfo) -> dict:
        """The live state this knob changes, recorded with the action and in the audit row."""
        raise NotImplementedError

    def apply(self, kube: KubernetesPort, env: str, namespace: str, name: str, params) -> str:
        """Send the change through the adapter (no transaction open); returns what happened."""
        raise NotImplementedError

    def guardrail_errors(self, data: dict) -> list[tuple[str, str]]:
        """(field, message) for guardrail values the admin form must refuse, beyond low > high."""
        return []

    def warnings(self, policy, info: DeploymentInfo | None) -> list[str]:
        """What would undo this change, said before the person acts (besides self-heal)."""
        return []


def in_range(label: str, value, bounds: tuple[int, int]) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{label} must be a whole number between {bounds[0]} and {bounds[1]}."
        )
    if not bounds[0] <= number <= bounds[1]:
        raise ValidationFailed(
            f"{label} {number} is outside the allowed range {bounds[0]}–{bounds[1]} set by the "
            "platform team. Nothing was changed."
        )
    return number
