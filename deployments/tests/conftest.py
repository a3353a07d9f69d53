"""Release tests also use the sandbox fixtures of the integration tests."""

from integrations.tests.conftest import arm_fault, cdevents_world, release_sandbox  # noqa: F401
