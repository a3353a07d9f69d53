from sandbox.tests.fixtures import kube_sandbox, log_world, pagerduty_world  # noqa: F401
