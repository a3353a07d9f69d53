from sandbox.tests.fixtures import kube_sandbox  # noqa: F401
