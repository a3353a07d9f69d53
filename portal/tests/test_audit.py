import pytest

from catalog.models import Component
from portal.audit import GENESIS_HASH, AuditContext, audit_record, audit_verify
from portal.errors import PermissionDenied
from portal.models import AuditEvent
from portal.permissions import permission_require


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
    assert audit_verify() is None


def test_changed_row_is_named(three_events):
    AuditEvent.objects.filter(pk=three_events[1].pk).update(reason="nothing to see")
    problem = audit_verify()
    assert problem.event_id == three_events[1].pk
    assert "changed" in problem.message


def test_changed_values_in_json_are_detected(three_events):
    AuditEvent.objects.filter(pk=three_events[0].pk).update(after={"replicas": 40})
    assert audit_verify().event_id == three_events[0].pk


def test_deleted_row_breaks_the_next_link(three_events):
    AuditEvent.objects.filter(pk=three_events[1].pk).delete()
    problem = audit_verify()
    assert problem.event_id == three_events[2].pk
    assert "removed" in problem.message


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
