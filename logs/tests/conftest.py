import pytest

from sandbox.tests.fixtures import log_world  # noqa: F401


@pytest.fixture
def canary(ledger, environments):
    """ledger's prod row reads the canary's pods too (the sandbox runs it as ledger-canary)."""
    from deployments.models import Release

    row = ledger.deployments.get(environment=environments["prod"])
    row.log_selector = 'cluster="$environment", namespace="$namespace", app=~"$workload(-canary)?"'
    row.save()
    return Release.objects.create(
        component=ledger, environment=environments["prod"], version="1.5.0",
        previous_version="1.4.0", strategy="canary", state="paused", requested_by=None,
    )  # fmt: skip
