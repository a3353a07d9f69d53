from .base import Knob, in_range


class Scale(Knob):
    """spec.replicas through the scale subresource (what `kubectl scale` does)."""

    name = "scale"
    label = "Scale"
    verb = "scale"
    fields = ("replicas",)
    policy_prefix = "replicas"  # the guardrail columns predate the registry
    guardrail_title = "Replicas"
    guardrail_fields = (("replicas_min", "replicas_max"),)
    permission = "deployments.scale_deployment"

    def limits(self, policy):
        return {"replicas": (policy.replicas_min, policy.replicas_max)}

    def validate(self, policy, params):
        return {
            "replicas": in_range(
                "Replicas", params.get("replicas"), self.limits(policy)["replicas"]
            )
        }

    def before(self, info):
        return {"replicas": info.replicas_desired}

    def apply(self, kube, env, namespace, name, params):
        scale = kube.deployment_scale(env, namespace, name, params["replicas"])
        return f"Replicas set to {scale.replicas}."

    def warnings(self, policy, info):
        hpa = info.hpa if info else None
        if not hpa:
            return []
        return [
            f"The autoscaler {hpa.name} controls replicas ({hpa.min_replicas}–{hpa.max_replicas}): "
            "it will move a manual number back as load changes. Change the autoscaler instead."
        ]
