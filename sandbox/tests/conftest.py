from sandbox.tests.fixtures import kube_sandbox, log_world  # noqa: F401
