"""The shipped example client (examples/github/switchyard_client.py) against a live Switchyard:
it asks for an approval, waits by polling, and its exit status tells the workflow the decision."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from approvals.models import ApprovalRequest
from approvals.services import approval_decide, approval_expire_due
from integrations.tests.conftest import wait_until
from portal.models import TeamMembership

CLIENT = Path(settings.BASE_DIR) / "examples/github/switchyard_client.py"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def colleague(make_user, payments):
    user = make_user("camila")
    TeamMembership.objects.create(user=user, team=payments)
    return user


def client_start(live_server, *extra) -> subprocess.Popen:
    env = {
        **os.environ,
        "SWITCHYARD_URL": live_server.url,
        "SWITCHYARD_TOKEN": "tok-123",
        "SWITCHYARD_SIGNING_SECRET": "s3cret",
    }
    command = [
        sys.executable,
        str(CLIENT),
        "approval",
        "--service",
        "ledger",
        "--environment",
        "prod",
        "--phase",
        "canary 5% verified",
        "--actor",
        "olivia",
        "--weight",
        "5",
        "--poll-seconds",
        "0.1",
        *extra,
    ]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def decided(process: subprocess.Popen) -> tuple[int, dict, str]:
    out, err = process.communicate(timeout=60)
    return process.returncode, json.loads(out) if out.strip() else {}, err.decode()


@pytest.mark.parametrize(
    "decision, state, status",
    [("approve", "approved", 0), ("promote-full", "approved", 0), ("abort", "aborted", 2)],
)
def test_client_waits_for_a_colleagues_decision(
    live_server,
    machine,
    ledger,
    owner,
    colleague,
    decision,
    state,
    status,
    django_capture_on_commit_callbacks,
):
    process = client_start(live_server)
    try:
        approval = wait_until(lambda: ApprovalRequest.objects.first(), timeout=30)
        assert (approval.requested_by, approval.weight, approval.client) == (owner, 5, machine)
        assert process.poll() is None  # still waiting for the decision
        with django_capture_on_commit_callbacks(execute=True):
            approval_decide(
                actor=colleague, approval=approval, decision=decision, comment="looked at it"
            )
        code, answer, err = decided(process)
    finally:
        process.kill()
    assert code == status, err
    assert (answer["id"], answer["state"], answer["decision"]) == (approval.pk, state, decision)
    assert answer["decided_by"] == "camila" and answer["comment"] == "looked at it"
    assert f"waiting for a decision: {live_server.url}/approvals/{approval.pk}/" in err


def test_client_exits_3_when_the_request_expires(live_server, machine, ledger, owner):
    process = client_start(live_server, "--expires-in-minutes", "5")
    try:
        wait_until(lambda: ApprovalRequest.objects.first(), timeout=30)
        assert approval_expire_due(now=timezone.now() + timedelta(minutes=6)) == 1
        code, answer, err = decided(process)
    finally:
        process.kill()
    assert code == 3, err
    assert answer["state"] == "expired" and answer["decision"] is None


def test_client_reports_a_refusal_and_exits_1(live_server, machine, ledger, owner):
    process = client_start(live_server, "--expires-in-minutes", "5000")
    code, answer, err = decided(process)
    assert code == 1 and answer == {}
    assert "answered 400" in err and "expires_in_minutes" in err and "1440" in err
    assert not ApprovalRequest.objects.exists()
