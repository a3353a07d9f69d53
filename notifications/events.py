"""What each event says, and to whom."""

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
        )


def release_finished_notify(release_id: int, state: str) -> int:
    """A release failed or was aborted: its requester and the owning team hear of it. Called in
    the transaction of the transition."""
    from django.contrib.auth import get_user_model

    from deployments.models import Release

    if state not in ("failed", "aborted"):
        return 0
    release = Release.objects.select_related("component", "environment", "requested_by").get(
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
            body=release.status_message,
            url=release.get_absolute_url(),
        )
