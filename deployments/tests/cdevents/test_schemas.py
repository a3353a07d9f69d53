"""Every kind of CDEvent we emit conforms to the official 0.5.1 schema of its type."""

import json
from dataclasses import replace

import pytest

from deployments.cdevents.events import TYPES, ReleaseFacts, incident_cdevent, release_cdevents

from .schemas import cdevent_problems

FACTS = ReleaseFacts(
    id=42,
    component="cart",
    environment="prod",
    version="1.4.2",
    previous_version="1.4.1",
    rollback=False,
    reached_cluster=True,
    error="the workflow failed",
    url="http://127.0.0.1:8000/releases/42/",
)


def test_the_validator_accepts_the_official_examples_and_refuses_a_broken_one(shared_dir):
    for name in ("service_deployed", "pipelinerun_finished", "incident_detected"):
        example = json.loads((shared_dir / f"specs/cdevents/conformance/{name}.json").read_text())
        assert cdevent_problems(shared_dir, example) == []
    conformance = shared_dir / "specs/cdevents/conformance"
    broken = json.loads((conformance / "service_deployed.json").read_text())
    del broken["subject"]["content"]["artifactId"]
    assert cdevent_problems(shared_dir, broken)


@pytest.mark.parametrize(
    "facts, state, kinds",
    [
        (FACTS, "queued", ["pipelinerun.queued"]),
        (FACTS, "workflow", ["pipelinerun.started"]),
        (FACTS, "succeeded", ["pipelinerun.finished", "service.upgraded"]),
        (replace(FACTS, previous_version=""), "succeeded",
         ["pipelinerun.finished", "service.deployed"]),
        (replace(FACTS, rollback=True), "succeeded",
         ["pipelinerun.finished", "service.rolledback"]),
        (FACTS, "failed", ["pipelinerun.finished"]),
        (FACTS, "aborted", ["pipelinerun.finished", "service.rolledback"]),
        (replace(FACTS, previous_version=""), "aborted",
         ["pipelinerun.finished", "service.removed"]),
        (replace(FACTS, reached_cluster=False), "aborted",
         ["pipelinerun.finished"]),
        (FACTS, "syncing", []),
    ],
)  # fmt: skip
def test_release_transitions_emit_valid_cdevents(shared_dir, facts, state, kinds):
    events = release_cdevents(facts, state)
    assert [e["context"]["type"] for e in events] == [TYPES[k] for k in kinds]
    for event in events:
        assert cdevent_problems(shared_dir, event) == [], event
    assert len({e["context"]["chainId"] for e in events}) <= 1


def test_incident_detected_is_valid(shared_dir):
    event = incident_cdevent(
        pagerduty_id="PABC123", title="Checkout errors", component="cart", environment="prod",
        url="https://example.pagerduty.com/incidents/PABC123",
    )  # fmt: skip
    assert cdevent_problems(shared_dir, event) == []
    assert event["subject"]["content"]["service"] == {"id": "cart"}
