"""approvals rows of the RBAC matrix (format: portal/tests/rbac_world.py).

The rules (docs/access.md): eligible people decide, never the requester; abort is open to the
requester, the owning team and SREs; break-glass to SREs; superuser and platform admin grant
nothing here.
"""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from approvals.models import ApprovalPolicy, ApprovalRequest
from approvals.tests.slack_helpers import TEAM_ID, block_actions, slack_post
from deployments.models import Release

DECIDERS = {"owner_member", "owner_lead", "sre"}
ABORTERS = DECIDERS | {"requester"}


def _approval(approvers="team", with_release=False):
    def setup(w):
        ApprovalPolicy.objects.create(environment=w.production, approvers=approvers)
        release = None
        if with_release:
            release = Release.objects.create(
                component=w.component,
                environment=w.production,
                version="v2.0.0",
                strategy="canary",
                canary_steps=[5, 25, 50, 100],
                state="paused",
                current_step=0,
                set_weight=5,
                requested_by=w.users["requester"],
            )
        w.extra["release"] = release
        w.extra["approval"] = ApprovalRequest.objects.create(
            component=w.component,
            environment=w.production,
            release=release,
            rollout_phase="canary 5% verified",
            weight=5,
            approvers=approvers,
            requested_by=w.users["requester"],
            requester_label="requester",
            expires_at=timezone.now() + timedelta(minutes=30),
        )

    return setup


def _decide_url(w):
    return reverse("approvals:approval_decide", args=[w.extra["approval"].pk])


RBAC_CASES = [
    {
        "url_name": "approvals:approval_decide",
        "url": _decide_url,
        "data": lambda w: {"decision": "approve", "comment": "error rates flat"},
        "setup": _approval(),
        "request_scoped": True,
        "allowed": DECIDERS,
    },
    {
        "url_name": "approvals:approval_decide",
        "url": _decide_url,
        "data": lambda w: {"decision": "promote-full"},
        "setup": _approval(approvers="leads"),
        "request_scoped": True,
        "allowed": {"owner_lead", "sre"},
    },
    {
        "url_name": "approvals:approval_decide",
        "url": _decide_url,
        "data": lambda w: {"decision": "abort", "comment": "errors"},
        "setup": _approval(with_release=True),
        "request_scoped": True,
        "allowed": ABORTERS,
    },
    {
        "url_name": "approvals:approval_break_glass",
        "url": lambda w: reverse("approvals:approval_break_glass", args=[w.extra["approval"].pk]),
        "data": lambda w: {"reason": "payments down, the fix must ship now, nobody else awake"},
        "setup": _approval(),
        "request_scoped": True,
        "allowed": {"sre"},
    },
    {
        "url_name": "approvals:release_promote",
        "url": lambda w: reverse("approvals:release_promote", args=[w.extra["release"].pk]),
        "data": lambda w: {"full": "1"},
        "setup": _approval(with_release=True),
        "request_scoped": True,
        "allowed": DECIDERS,
    },
]


def _slack_accounts(setup):
    """The approval, and every persona linked to a Slack account (anonymous: a Slack user no
    one is linked to, and Slack itself not configured, so nobody can be found)."""

    def build(w):
        from notifications.models import SlackAccount

        setup(w)
        for user in w.users.values():
            if user is not None:
                SlackAccount.objects.create(user=user, team_id=TEAM_ID, slack_id=f"U{user.pk:09d}")

    return build


def _slack_click(action_id):
    def post(client, w, persona):
        from django.test import override_settings

        from sandbox.slack import SIGNING_SECRET

        user = w.users[persona]
        payload = block_actions(slack_id=f"U{user.pk:09d}" if user else "U000UNKNOWN",
                                action_id=action_id, value=str(w.extra["approval"].pk))  # fmt: skip
        with override_settings(SLACK_SIGNING_SECRET=SIGNING_SECRET):
            return slack_post(client.__class__(), payload, secret=SIGNING_SECRET)

    return post


RBAC_CASES += [
    {
        "url_name": "approvals_api:slack_interactions",
        "url": lambda w: reverse("approvals_api:slack_interactions"),
        "setup": _slack_accounts(_approval()),
        "post": _slack_click("approval_approve"),
        "refused_status": 200,  # the refusal is the person's ephemeral answer
        "request_scoped": True,
        "allowed": DECIDERS,
    },
    {
        "url_name": "approvals_api:slack_interactions",
        "url": lambda w: reverse("approvals_api:slack_interactions"),
        "setup": _slack_accounts(_approval(with_release=True)),
        "post": _slack_click("approval_abort"),
        "refused_status": 200,
        "request_scoped": True,
        "allowed": ABORTERS,
    },
]
