"""Switchyard dispatches the shipped workflow (examples/github/deploy.yml) with only the inputs it
declares, in the values it allows, and names its release the way the workflow's run-name does."""

import pytest

from approvals.models import ApprovalPolicy
from deployments.releases.machine import _workflow_inputs
from deployments.releases.models import Release
from sandbox.github_workflow import (
    condition_holds,
    dispatch_problem,
    interpolate,
    run_inputs,
    workflow_load,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("strategy", [s.value for s in Release.Strategy])
@pytest.mark.parametrize("policy", [False, True])
def test_every_release_dispatches_only_declared_inputs(
    ledger, environments, owner, strategy, policy
):
    if policy:
        ApprovalPolicy.objects.create(environment=environments["prod"])
    release = Release.objects.create(
        component=ledger, environment=environments["prod"], version="1.4.0", strategy=strategy,
        canary_steps=[5, 25, 100] if strategy == "canary" else [], requested_by=owner,
    )  # fmt: skip
    workflow = workflow_load()
    inputs = _workflow_inputs(release)
    assert set(inputs) <= set(workflow.inputs)
    assert dispatch_problem(workflow, inputs) == ""
    seen = run_inputs(workflow, inputs)
    assert interpolate(workflow.run_name, {"inputs": seen}) == release.run_name
    assert seen["actor"] == "olivia"
    approval_job = next(job for job in workflow.jobs if job.id == "approval")

    waits = condition_holds(approval_job.condition, {"inputs": seen})
    assert waits is (policy and strategy == "canary")
