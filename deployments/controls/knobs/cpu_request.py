from .base import Knob


def millicores(quantity: str | None) -> int | None:
    """A Kubernetes CPU quantity ("250m", "0.5", "2") in millicores."""
    if not quantity:
        return None
    quantity = str(quantity)
    if quantity.endswith("m"):
        return int(float(quantity[:-1]))
    return int(float(quantity) * 1000)


class CpuRequest(Knob):
    """resources.requests.cpu of the deployment's first (application) container, in millicores.
    Changing the pod template rolls the pods, as `kubectl set resources` does."""

    name = "cpu_request"
    guardrail_title = "CPU request (millicores)"
    guardrail_fields = (("cpu_request_min", "cpu_request_max"),)
    guardrail_optional = ("cpu_request_min", "cpu_request_max")
    label = "CPU request"
    verb = "change the CPU request of"
    fields = ("millicores",)

    def limits(self, policy):
        return {"millicores": (policy.cpu_request_min, policy.cpu_request_max)}

    def field_label(self, name):
        return "CPU request (millicores)"

    def available(self, info):
        return info is None or bool(info.containers)

    def before(self, info):
        return {"millicores": millicores(info.containers[0].resources.cpu_request)}

    def apply(self, kube, env, namespace, name, params):
        request = kube.deployment_cpu_request_set(env, namespace, name, params["millicores"])
        return f"CPU request set to {request}: pods are replaced one by one."
