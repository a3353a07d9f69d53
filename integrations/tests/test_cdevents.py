"""The CloudEvents HTTP binding against the sandbox sink: both modes, and its faults."""

import uuid

import pytest

from integrations.cdevents import HttpCDEventSender, cdevent_sender, sink_target
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


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/events", "loopback"),
        ("http://[::1]:9/events", "loopback"),
        ("http://[::ffff:127.0.0.1]:9/events", "loopback"),
        ("http://10.1.2.3/events", "private"),
        ("http://192.168.0.7/events", "private"),
        ("http://169.254.169.254/latest", "metadata"),
        ("http://[fe80::1]/events", "link-local"),
        ("http://[2002:7f00:1::1]/events", "6to4"),
        ("ftp://events.example.com/", "http or https"),
        ("http://user:pw@events.example.com/", "credentials"),
    ],
)
def test_inside_addresses_are_refused_unless_allowed(url, why):
    with pytest.raises(IntegrationError) as raised:
        sink_target(url, allowed_networks=())
    assert why in raised.value.message and not raised.value.transient


def test_a_name_is_checked_by_every_address_it_resolves_to():
    resolver = {"sink.example.test": ["93.184.215.14", "10.0.0.8"]}.get
    with pytest.raises(IntegrationError, match="10.0.0.8, a private address"):
        sink_target(
            "http://sink.example.test/", allowed_networks=(), resolver=lambda h, p: resolver(h)
        )
    allowed = sink_target("http://sink.example.test/e", allowed_networks=["10.0.0.0/8"],
                          resolver=lambda h, p: resolver(h))  # fmt: skip
    assert (allowed.address, allowed.base_path) == ("93.184.215.14", "/e")


def test_a_name_rebound_to_loopback_at_send_time_is_refused_and_nothing_is_sent(cdevents_world):
    """The sink was saved while its name pointed outside; now it resolves to loopback."""
    port = cdevents_world.url.rsplit(":", 1)[1]
    sender = HttpCDEventSender(timeout=5, resolver=lambda host, p: ["127.0.0.1"])
    with pytest.raises(IntegrationError, match="loopback") as raised:
        sender.send(f"http://sink.example.test:{port}/events", _event())
    assert not raised.value.transient and cdevents_world.events() == []


def test_the_send_connects_to_the_checked_address_with_the_sink_name_as_host(cdevents_world):
    port = cdevents_world.url.rsplit(":", 1)[1]
    sender = HttpCDEventSender(
        timeout=5, allowed_networks=["127.0.0.0/8"], resolver=lambda host, p: ["127.0.0.1"]
    )
    assert sender.send(f"http://sink.example.test:{port}/events", _event()).status == 202
    assert len(cdevents_world.events()) == 1


def test_the_sandbox_sink_on_loopback_is_allowed_by_the_development_setting(settings):
    assert "127.0.0.0/8" in settings.CDEVENTS_ALLOWED_NETWORKS
    allowed = settings.CDEVENTS_ALLOWED_NETWORKS
    assert sink_target("http://127.0.0.1:9/events", allowed_networks=allowed).address == "127.0.0.1"
