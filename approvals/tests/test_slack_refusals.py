"""Refused (unsigned, stale, forged) Slack requests are audited, at most once per source address
and reason per minute: the rest are counted, so a flood cannot fill the audit log."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from approvals.models import SlackRefusalWindow
from approvals.tests.slack_helpers import block_actions, slack_post
from portal.models import AuditEvent
from sandbox.slack import SIGNING_SECRET


def forged(client, *, ip="203.0.113.7", **kw):
    payload = block_actions(slack_id="U0ATTACKER", action_id="approval_approve", value="1")
    return slack_post(client, payload, secret=kw.pop("secret", "guessed"), REMOTE_ADDR=ip, **kw)


def refusals():
    return AuditEvent.objects.filter(action="slack.interaction", outcome="denied")


def test_a_flood_of_forged_requests_leaves_one_audit_row_and_a_count(client, db, settings):
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    statuses = {forged(client).status_code for _ in range(25)}
    assert statuses == {401}  # every one is refused
    windows = list(SlackRefusalWindow.objects.all())
    assert len(windows) <= 2  # one minute (two, if the flood crossed into the next)
    assert sum(w.count for w in windows) == 25 and {w.reason for w in windows} == {"forged"}
    assert refusals().count() == len(windows)  # one audit row per minute, not 25
    row = refusals().first()
    assert row.reason.startswith("forged") and row.ip_address == "203.0.113.7"


def test_each_address_and_reason_gets_its_own_row_and_a_new_minute_another(client, db, settings):
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    forged(client)
    forged(client)
    forged(client, age=600, secret=SIGNING_SECRET)  # stale, from the same address
    forged(client, ip="198.51.100.9")  # forged, from elsewhere
    assert {(r.ip_address, r.reason.split()[0]) for r in refusals()} == {
        ("198.51.100.9", "forged"), ("203.0.113.7", "forged"), ("203.0.113.7", "stale"),
    }  # fmt: skip
    assert refusals().count() == SlackRefusalWindow.objects.count()
    SlackRefusalWindow.objects.update(minute=F("minute") - timedelta(minutes=1))  # a minute on
    forged(client)
    ours = {"ip_address": "203.0.113.7", "reason": "forged"}
    assert SlackRefusalWindow.objects.filter(**ours).count() >= 2
    assert refusals().filter(ip_address="203.0.113.7", reason__startswith="forged").count() == (
        SlackRefusalWindow.objects.filter(**ours).count()
    )


def test_windows_older_than_a_day_are_deleted_as_new_ones_open(client, db, settings):
    settings.SLACK_SIGNING_SECRET = SIGNING_SECRET
    forged(client)
    SlackRefusalWindow.objects.update(minute=F("minute") - timedelta(days=2))
    forged(client)
    (window,) = SlackRefusalWindow.objects.all()
    assert window.minute > timezone.now() - timedelta(minutes=2)  # the old one is gone
