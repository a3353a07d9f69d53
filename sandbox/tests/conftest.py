from integrations.tests.conftest import release_sandbox  # noqa: F401
from sandbox.tests.fixtures import (  # noqa: F401
    kube_sandbox,
    log_world,
    pagerduty_world,
    slack_world,
)
