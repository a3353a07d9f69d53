from portal.errors import ValidationFailed

from .base import Knob

LABELS = {
    "min_replicas": "Minimum replicas",
    "max_replicas": "Maximum replicas",
    "target_cpu_utilization": "Target CPU %",
}


class Hpa(Knob):
    """The HorizontalPodAutoscaler's min/max replicas and CPU target."""

    name = "hpa"
    guardrail_title = "Autoscaler (HPA)"
    guardrail_fields = (
        ("hpa_min_from", "hpa_min_to"),
        ("hpa_max_from", "hpa_max_to"),
        ("cpu_from", "cpu_to"),
    )
    label = "Autoscaler change"
    verb = "change the autoscaler of"
    fields = ("min_replicas", "max_replicas", "target_cpu_utilization")
    permission = "deployments.change_hpa"

    def guardrail_errors(self, data):
        errors = []
        if data.get("hpa_min_from") == 0:
            errors.append(("hpa_min_from", "an autoscaler keeps at least 1 replica"))
        if (data.get("cpu_to") or 0) > 100:
            errors.append(("cpu_to", "CPU utilisation is a percentage (at most 100)"))
        return errors

    def limits(self, policy):
        return {
            "min_replicas": (policy.hpa_min_from, policy.hpa_min_to),
            "max_replicas": (policy.hpa_max_from, policy.hpa_max_to),
            "target_cpu_utilization": (policy.cpu_from, policy.cpu_to),
        }

    def field_label(self, name):
        return LABELS[name]

    def validate(self, policy, params):
        checked = super().validate(policy, params)
        if checked["min_replicas"] > checked["max_replicas"]:
            raise ValidationFailed("Minimum replicas must not exceed maximum replicas.")
        return checked

    def available(self, info):
        return info is None or info.hpa is not None

    def unavailable_message(self, target):
        return f"{target.component} has no autoscaler in {target.environment}."

    def before(self, info):
        return {
            "min_replicas": info.hpa.min_replicas,
            "max_replicas": info.hpa.max_replicas,
            "target_cpu_utilization": info.hpa.target_cpu_utilization,
        }

    def apply(self, kube, env, namespace, name, params):
        hpa = kube.hpa_patch(env, namespace, name, **params)
        return (
            f"Autoscaler {hpa.name}: {hpa.min_replicas}–{hpa.max_replicas} replicas at "
            f"{hpa.target_cpu_utilization}% CPU."
        )
