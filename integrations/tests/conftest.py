"""A running release sandbox (GitHub, Argo CD, Prometheus) with the adapters pointed at it."""

import time

import pytest
import requests

from sandbox.runner import start_sandbox
from sandbox.tests.fixtures import (  # noqa: F401
    cdevents_world,
    kube_sandbox,
    log_world,
    pagerduty_world,
    slack_world,
)

TIME_SCALE = 0.05  # the demo's seconds become 50 ms


@pytest.fixture
def release_sandbox(tmp_path, settings):
    running = start_sandbox(
        directory=tmp_path,
        names=["github", "argocd", "prometheus"],
        shared={"time_scale": TIME_SCALE, "demo_services": 8},
    )
    settings.INTEGRATION_URLS = dict(running.endpoints)
    settings.GITHUB_TOKEN = "switchyard-sandbox"
    settings.ARGOCD_TOKEN = "switchyard-sandbox"
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    yield running
    running.stop()


@pytest.fixture
def arm_fault(release_sandbox):
    def arm(system: str, **fault):
        url = f"{release_sandbox.endpoints[system]}/sandbox/faults"
        requests.post(url, json=fault, timeout=5).raise_for_status()

    return arm


def wait_until(check, *, timeout: float = 15.0, interval: float = 0.02):
    """Poll `check` until it returns something truthy; fail with its last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s; last value: {value!r}")
        time.sleep(interval)
