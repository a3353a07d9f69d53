import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test import RequestFactory

from catalog.models import Component
from portal import audit_chain
from portal.audit import (
    GENESIS_HASH,
    AuditContext,
    audit_checkpoint,
    audit_record,
    audit_verify,
    client_ip,
    export_row,
)
from portal.errors import PermissionDenied
from portal.models import AuditCheckpoint, AuditEvent
from portal.permissions import permission_require

VERIFIER = Path(audit_chain.__file__)


@pytest.fixture
def three_events(user, db):
    component = Component.objects.create(name="ledger")
    return [
        audit_record(
            actor=user,
            action="component.scale",
            target=component,
            component=component,
            environment="prod",
            before={"replicas": 2},
            after={"replicas": 4},
            reason="traffic spike",
            context=AuditContext(request_id="r1", ip_address="10.0.0.1"),
        ),
        audit_record(actor=None, actor_label="workflow:github/ledger", action="approval.create"),
        audit_record(actor=user, action="component.restart", target=component),
    ]


def test_events_chain_from_genesis(three_events):
    first, second, third = three_events
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.entry_hash
    assert third.previous_hash == second.entry_hash
    assert first.actor_label == "engineer" and second.actor_label == "workflow:github/ledger"
    assert audit_verify() == []


def test_changed_row_is_named(three_events):
    AuditEvent.objects.filter(pk=three_events[1].pk).update(reason="nothing to see")
    [problem] = audit_verify()
    assert problem.event_id == three_events[1].pk
    assert "changed" in problem.message


def test_changed_values_in_json_are_detected(three_events):
    AuditEvent.objects.filter(pk=three_events[0].pk).update(after={"replicas": 40})
    assert [p.event_id for p in audit_verify()] == [three_events[0].pk]


def test_every_broken_event_is_reported_not_only_the_first(three_events):
    AuditEvent.objects.filter(pk=three_events[0].pk).update(reason="edited")
    AuditEvent.objects.filter(pk=three_events[2].pk).update(actor_label="somebody-else")
    assert [p.event_id for p in audit_verify()] == [three_events[0].pk, three_events[2].pk]


def test_deleted_row_breaks_the_next_link(three_events):
    AuditEvent.objects.filter(pk=three_events[1].pk).delete()
    [problem] = audit_verify()
    assert problem.event_id == three_events[2].pk
    assert "removed" in problem.message


def test_rechaining_without_the_key_is_detected(three_events, settings):
    """Someone with database access rewrites an event and re-hashes the chain after it, but
    with a key of their own: every event they re-hashed is reported."""
    AuditEvent.objects.filter(pk=three_events[0].pk).update(reason="nothing happened")
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("id"):
        fields = {**export_row(event), "previous_hash": previous}
        forged = audit_chain.entry_hash(b"a guessed key", fields)
        AuditEvent.objects.filter(pk=event.pk).update(previous_hash=previous, entry_hash=forged)
        previous = forged
    assert {p.event_id for p in audit_verify()} == {e.pk for e in three_events}


@pytest.mark.parametrize(
    "after", [{"rate": -0.0}, {"rate": -0}, {"big": 1e16}, {"tiny": 1.5e-7, "nan": float("nan")}]
)
def test_numbers_in_any_form_do_not_break_the_chain(user, db, after):
    audit_record(actor=user, action="tuning.set", after=after)
    assert audit_verify() == []


def test_a_number_read_back_in_another_form_is_the_same_event(user, db):
    event = audit_record(actor=user, action="tuning.set", after={"big": 10**16, "rate": 0})
    # What PostgreSQL (or a dump and restore) may hand back: the same numbers, written otherwise.
    AuditEvent.objects.filter(pk=event.pk).update(after={"big": 1e16, "rate": -0.0})
    assert audit_verify() == []
    AuditEvent.objects.filter(pk=event.pk).update(after={"big": 1e16 + 2, "rate": 0})
    assert [p.event_id for p in audit_verify()] == [event.pk]


@pytest.mark.services
def test_postgresql_rewrites_of_numbers_do_not_break_the_chain(user, db):
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL pointing at PostgreSQL")
    event = audit_record(
        actor=None, actor_label="machine:ci", action="approval.refused",
        outcome="denied", after={"body": {"weight": 1e16, "rate": -0.0, "x": 1e-7}},
    )  # fmt: skip
    with connection.cursor() as cursor:
        # Write the JSON as a machine sent it; PostgreSQL keeps numbers in its own form.
        cursor.execute(
            "UPDATE portal_auditevent SET after = %s::jsonb WHERE id = %s",
            ['{"body": {"weight": 1e16, "rate": -0, "x": 1e-7}}', event.pk],
        )
        cursor.execute("SELECT after::text FROM portal_auditevent WHERE id = %s", [event.pk])
        stored = cursor.fetchone()[0]
    assert "10000000000000000" in stored and "1e16" not in stored
    assert audit_verify() == []


def test_text_postgresql_refuses_is_still_recorded(user, db):
    event = audit_record(actor=user, action="search", reason="a\x00b", after={"q\x00": "\x00"})
    event.refresh_from_db()
    assert event.reason == "a\ufffdb" and event.after == {"q\ufffd": "\ufffd"}
    assert audit_verify() == []


def test_removing_the_newest_events_is_caught_by_the_checkpoint(three_events):
    checkpoint = audit_checkpoint()
    assert (checkpoint.count, checkpoint.head_id) == (3, three_events[2].pk)
    assert audit_verify() == []
    AuditEvent.objects.filter(pk=three_events[2].pk).delete()
    [problem] = audit_verify()
    assert "removed" in problem.message and problem.event_id is None


def test_a_forged_checkpoint_is_caught(three_events):
    checkpoint = audit_checkpoint()
    AuditCheckpoint.objects.filter(pk=checkpoint.pk).update(count=2)
    [problem] = audit_verify()
    assert "wrong signature" in problem.message


def test_refusal_is_audited_and_raises(user, db):
    component = Component.objects.create(name="ledger")
    with pytest.raises(PermissionDenied):
        permission_require(
            actor=user,
            perm="portal.export_auditevent",
            obj=None,
            action="audit.export",
            component=component,
        )
    event = AuditEvent.objects.get()
    assert (event.outcome, event.action, event.actor) == ("denied", "audit.export", user)


def _request(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_forwarded_for_from_an_untrusted_client_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    assert client_ip(_request("203.0.113.9", "6.6.6.6")) == "203.0.113.9"


def test_forwarded_for_is_believed_only_behind_a_trusted_proxy(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    # The client sent "6.6.6.6" itself; the proxy appended the address it saw.
    request = _request("10.1.2.3", "6.6.6.6, 198.51.100.7, 10.4.4.4")
    assert client_ip(request) == "198.51.100.7"
    assert client_ip(_request("10.1.2.3", "not-an-ip")) == "10.1.2.3"
    assert client_ip(_request("192.0.2.1", "6.6.6.6")) == "192.0.2.1"


def _export(client, path, **params):
    response = client.get("/audit/export.jsonl", params)
    assert response.status_code == 200
    path.write_bytes(b"".join(response.streaming_content))
    return path


def _offline(export, key_file, *earlier):
    extra = [arg for path in earlier for arg in ("--earlier", str(path))]
    command = [sys.executable, "-I", str(VERIFIER), str(export), "--key-file", str(key_file)]
    return subprocess.run([*command, *extra], capture_output=True, text=True, timeout=60)


@pytest.fixture
def key_file(tmp_path, settings):
    settings.AUDIT_HMAC_KEY = "auditors-key-0123456789"
    path = tmp_path / "audit.key"
    path.write_text(settings.AUDIT_HMAC_KEY + "\n")
    return path


def test_export_verifies_offline_and_shows_truncation(client, sre, key_file, tmp_path, user):
    audit_record(actor=user, action="tuning.set", after={"big": 1e16, "rate": -0.0})
    client.force_login(sre)
    first = _export(client, tmp_path / "first.jsonl")
    rows = [json.loads(line) for line in first.read_text().splitlines()]
    assert "export" in rows[0] and "checkpoint" in rows[-1]
    assert rows[-1]["checkpoint"]["count"] == len(rows) - 2
    result = _offline(first, key_file)
    assert result.returncode == 0, result.stdout
    assert "intact" in result.stdout

    # The newest events removed (the export's own checkpoint line kept): caught.
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("\n".join([*first.read_text().splitlines()[:-2], json.dumps(rows[-1])]))
    result = _offline(truncated, key_file)
    assert result.returncode == 1 and "removed" in result.stdout

    # Removed in the database, then exported again: the earlier export's checkpoint catches it.
    AuditEvent.objects.filter(pk=rows[-2]["id"]).delete()
    AuditCheckpoint.objects.all().delete()
    second = _export(client, tmp_path / "second.jsonl")
    assert _offline(second, key_file).returncode == 0
    result = _offline(second, key_file, first)
    assert result.returncode == 1 and "events were removed" in result.stdout


def test_offline_verifier_names_every_changed_event(client, sre, key_file, tmp_path, user):
    for n in range(3):
        audit_record(actor=user, action="tuning.set", after={"n": n})
    client.force_login(sre)
    lines = _export(client, tmp_path / "a.jsonl").read_text().splitlines()
    for index in (1, 3):
        row = json.loads(lines[index])
        row["after"] = {"n": 99}
        lines[index] = json.dumps(row)
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join(lines))
    result = _offline(changed, key_file)
    assert result.returncode == 1
    assert result.stdout.count("was changed after it was written") == 2
    assert _offline(tmp_path / "a.jsonl", tmp_path / "a.jsonl").returncode == 1  # wrong key
