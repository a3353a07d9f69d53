from integrations.tests.conftest import release_sandbox  # noqa: F401
from sandbox.tests.fixtures import kube_sandbox  # noqa: F401
