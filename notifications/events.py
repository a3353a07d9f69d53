"""What each event says, and to whom."""

from datetime import timedelta

from django.db import transaction

from .services import eligible_approvers, notify


def approval_requested_notify(approval) -> int:
    """Called once `approval` is committed, with the object itself: nothing here reads or
    writes the approvals tables (a decision may be under way on them)."""
    with transaction.atomic():
        return notify(
            event="approval.requested",
            key=f"approval:{approval.pk}",
            users=eligible_approvers(approval),
            title=f"Approve {approval.component.name} in {approval.environment.name}? "
            f"({approval.rollout_phase})",
            body=f"{approval.requester_label or 'A release'} asks to promote "
            f"{approval.component.name} {approval.to_version or ''} in "
            f"{approval.environment.name}. The request expires at {approval.expires_at:%H:%M} UTC.",
            url=approval.get_absolute_url(),
            chat=_chat(approval.component),
        )


def _chat(component) -> str:
    """The owning team's chat channel (the catalog's chat field), or ""."""
    return (component.owner.chat_channel or "") if component.owner_id else ""


def train_parts_requested_notify(parts, *, due: bool = False) -> int:
    """A started train waits for each owning team's approval of its part: the people who may
    decide each part (by the rule itself: the team, or its leads, and SREs; never the starter)
    hear of it once when the train starts, and a later wave's part once more, `due`, when the
    train reaches that wave and the part's clock starts. Called once each is committed."""
    import rules
    from django.contrib.auth import get_user_model

    from portal.rules import SRE_GROUP

    User = get_user_model()
    sent = 0
    for part in parts:
        candidates = User.objects.filter(
            is_active=True, team_memberships__team_id=part.team_id
        ) | User.objects.filter(is_active=True, groups__name=SRE_GROUP)
        users = [
            u
            for u in candidates.distinct()
            if rules.has_perm("deployments.decide_trainapproval", u, part)
        ]
        train = part.train
        if part.expires_at is not None:
            clock = f" Decide by {part.expires_at:%H:%M} UTC."
        else:
            clock = f" The {part.ttl_minutes} minutes to decide start when the train reaches it."
        what = f"{part.team}'s part of the train “{train.title}” to {train.environment.name}"
        if due:
            title = f"The train now waits for {what} ({part.scope})"
            body = f"Its services owned by {part.team} are next and wait for your team's approval."
        else:
            title = f"Approve {what}? ({part.scope})"
            body = f"{train.started_by} started the train; its services owned by {part.team} "
            body += f"wait for your team's approval ({part.get_why_display().lower()})."
        with transaction.atomic():
            sent += notify(
                event="train.part_requested",
                # Once per clock: the first when its wave starts, again if it is asked again.
                key=f"train-part:{part.pk}"
                + (f":due@{part.expires_at:%Y%m%dT%H%M%S}" if due and part.expires_at else ""),
                users=users,
                title=title,
                body=body + clock,
                url=train.get_absolute_url(),
            )
    return sent


def release_finished_notify(
    release_id: int, state: str, *, why: str = "", data: dict | None = None
) -> int:
    """A release failed or was aborted: its requester and the owning team hear of it, with
    `why` (the timeline's message: who aborted and the reason) and, for a machine's decision,
    the values behind it (`data["evidence"]`, e.g. the analysis' error rates). Called in the
    transaction of the transition."""
    from django.contrib.auth import get_user_model

    from deployments.models import Release

    if state not in ("failed", "aborted"):
        return 0
    release = Release.objects.select_related("component__owner", "environment", "requested_by").get(
        pk=release_id
    )
    team = get_user_model().objects.filter(
        is_active=True, team_memberships__team_id=release.component.owner_id
    )
    users = list(team) + ([release.requested_by] if release.requested_by else [])
    with transaction.atomic():
        return notify(
            event=f"release.{state}",
            key=f"release:{release.pk}",
            users=users,
            title=f"Release of {release.component.name} {release.version} to "
            f"{release.environment.name} {state}",
            body="\n".join(
                part
                for part in (
                    why,
                    _evidence_text((data or {}).get("evidence")),
                    release.status_message,
                )
                if part
            ),
            url=release.get_absolute_url(),
            chat=_chat(release.component),
        )


def _evidence_text(evidence: dict | None) -> str:
    """The values a machine decided on, one line: "canary_error_rate 0.231, requests 950"."""
    if not evidence:
        return ""
    shown = (f"{name} {value:.4g}" if isinstance(value, float) else f"{name} {value}"
             for name, value in evidence.items() if value is not None)  # fmt: skip
    return "Values: " + ", ".join(shown)


def reminders_send(*, now=None, approval_minutes: int = 10, override_minutes: int = 5) -> int:
    """Beat: approvals expiring within `approval_minutes` remind their eligible approvers; a
    temporary runtime override reverting within `override_minutes` tells who set it and the
    owning team. Each is said once (the outbox's unique key), however often beat runs."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    now = now or timezone.now()
    # By name: the release machine reaches this module, and deployments must not depend on
    # approvals, even through notifications (import-linter).
    ApprovalRequest = apps.get_model("approvals", "ApprovalRequest")
    TuningValue = apps.get_model("deployments", "TuningValue")
    count = 0
    soon = ApprovalRequest.objects.filter(
        state="pending",
        expires_at__gt=now,
        expires_at__lte=now + timedelta(minutes=approval_minutes),
    ).select_related("component__owner", "environment", "requested_by")
    for approval in soon:
        with transaction.atomic():
            count += notify(
                event="approval.expiring", key=f"approval:{approval.pk}",
                users=eligible_approvers(approval),
                title=f"{approval.component.name} in {approval.environment.name} waits for a "
                f"decision: it expires at {approval.expires_at:%H:%M} UTC",
                url=approval.get_absolute_url(), chat=_chat(approval.component),
            )  # fmt: skip
    reverting = TuningValue.objects.filter(
        override_until__gt=now, override_until__lte=now + timedelta(minutes=override_minutes)
    ).select_related("key__component__owner", "environment", "override_by")
    User = get_user_model()
    for value in reverting:
        component = value.key.component
        users = list(
            User.objects.filter(is_active=True, team_memberships__team_id=component.owner_id)
        )
        users += [value.override_by] if value.override_by else []
        with transaction.atomic():
            count += notify(
                event="override.reverting",
                key=f"tuning:{value.pk}:{value.override_until:%Y%m%d%H%M%S}",
                users=users,
                title=f"{value.key.key} of {component.name} in {value.environment.name} reverts "
                f"at {value.override_until:%H:%M} UTC",
                url=component.get_absolute_url(), chat=_chat(component),
            )  # fmt: skip
    return count
