from .base import Knob


class Restart(Knob):
    """Roll every pod, as `kubectl rollout restart` does."""

    name = "restart"
    guardrail_title = "Restart"
    label = "Restart"
    verb = "restart"
    permission = "deployments.restart_deployment"
    repeatable = False  # a blind second restart is not harmless
    lost_message = (
        "The worker stopped while restarting: check the pods' ages, and restart again if they "
        "were not replaced."
    )
    reverted_by_self_heal = False

    def validate(self, policy, params):
        return {}

    def before(self, info):
        return {"restarted_at": info.restarted_at}

    def apply(self, kube, env, namespace, name, params):
        stamp = kube.deployment_restart(env, namespace, name)
        return f"Restart started at {stamp}: pods are replaced one by one."
