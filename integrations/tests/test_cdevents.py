"""The CloudEvents HTTP binding against the sandbox sink: both modes, and its faults."""

import uuid

import pytest

from integrations.cdevents import cdevent_sender
from integrations.errors import IntegrationError


def _event(kind="dev.cdevents.pipelinerun.queued.0.3.0"):
    return {
        "context": {
            "specversion": "0.5.1",
            "id": str(uuid.uuid4()),
            "source": "http://127.0.0.1:8000/releases/1/",
            "type": kind,
            "timestamp": "2026-11-30T10:00:00.123456Z",
        },
        "subject": {"id": "release-1", "content": {"pipelineName": "deploy cart"}},
    }


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_an_event_arrives_as_a_cloudevent_carrying_the_cdevent(cdevents_world, mode):
    event = _event()
    assert cdevent_sender().send("", event, mode=mode).status == 202
    (received,) = cdevents_world.events()
    assert received["mode"] == mode
    assert received["id"] == event["context"]["id"]
    assert received["type"] == event["context"]["type"]
    assert received["source"] == event["context"]["source"]
    assert received["data"] == event


def test_a_sink_that_is_down_is_a_transient_failure(cdevents_world):
    cdevents_world.down(503)
    with pytest.raises(IntegrationError) as caught:
        cdevent_sender().send("", _event())
    assert caught.value.transient and caught.value.status == 503
    assert cdevents_world.events() == []


def test_a_refusal_is_not_transient(cdevents_world):
    cdevents_world.down(400)
    with pytest.raises(IntegrationError) as caught:
        cdevent_sender().send("", _event())
    assert not caught.value.transient


def test_nobody_listening_is_transient(cdevents_world):
    with pytest.raises(IntegrationError) as caught:
        cdevent_sender().send("http://127.0.0.1:9/events", _event())
    assert caught.value.transient


def test_the_same_event_twice_is_recorded_once(cdevents_world):
    event = _event()
    sender = cdevent_sender()
    sender.send("", event)
    sender.send("", event)
    assert len(cdevents_world.events()) == 1 and cdevents_world.duplicates() == 1


def test_no_address_for_the_default_sink_yet_is_transient(settings):
    settings.INTEGRATION_URLS = {}
    with pytest.raises(IntegrationError) as caught:
        cdevent_sender().send("", _event())
    assert caught.value.transient and "CDEVENTS_URL" in caught.value.message


def test_both_modes_follow_the_cloudevents_http_binding(shared_dir):
    """Structured mode is a CloudEvents JSON document (checked against the v1.0.2 schema);
    binary mode carries the attributes as ce-* headers and the CDEvent as a JSON body."""
    import json

    from cloudevents.core.bindings import http as ce_http
    from jsonschema import Draft7Validator

    from integrations.cdevents import cloudevent_of

    event = _event()
    schema = json.loads((shared_dir / "specs/cloudevents/cloudevents.json").read_text())
    structured = ce_http.to_structured_event(cloudevent_of(event))
    document = json.loads(structured.body)
    assert list(Draft7Validator(schema).iter_errors(document)) == []
    assert structured.headers["content-type"].startswith("application/cloudevents+json")
    assert document["data"] == event and document["specversion"] == "1.0"
    binary = ce_http.to_binary_event(cloudevent_of(event))
    headers = {k.lower(): v for k, v in binary.headers.items()}
    assert headers["ce-type"] == event["context"]["type"]
    assert headers["ce-id"] == event["context"]["id"] and headers["ce-specversion"] == "1.0"
    assert headers["content-type"] == "application/json"
    assert json.loads(binary.body) == event
