"""How old what Switchyard shows about a release is, and a decision checked against fresh state.

The worker records `observed_at` each time it reads GitHub or Argo CD for a release. When that is
older than RELEASE_STALE_SECONDS (the worker, beat or the external system is not answering), the
release page says so and disables the buttons that act on the shown state. Before a person's
decision is sent, `release_fresh` reads Argo CD again unless the release was read just now, so a
promotion of a rollout that has meanwhile finished is refused instead of sent. Approval decisions
call `release_fresh` too (approvals/), through the same rule.
"""

from django.conf import settings
from django.utils import timezone

from integrations.errors import IntegrationError

from .errors import ReleaseRefused
from .models import Release

IN_CLUSTER = (Release.State.SYNCING, Release.State.PROGRESSING, Release.State.PAUSED)


def stale_after() -> float:
    return settings.RELEASE_STALE_SECONDS


def release_observed_age(release: Release, now=None) -> float | None:
    """Seconds since the outside world was last read for this release (None: never)."""
    if release.observed_at is None:
        return None
    return ((now or timezone.now()) - release.observed_at).total_seconds()


def release_stale_reason(release: Release, now=None) -> str:
    """Why the state shown for an active release cannot be trusted now, or "" when it can."""
    if not release.is_active:
        return ""
    age = release_observed_age(release, now)
    if age is None:
        since = ((now or timezone.now()) - release.created_at).total_seconds()
        if since <= stale_after():
            return ""
        return (
            f"No worker has picked this release up in {since:.0f} s: check that the worker and "
            "beat run (make worker, make beat). Actions wait until it is read."
        )
    if age <= stale_after():
        return ""
    return (
        f"Switchyard last read this release's state {age:.0f} s ago (the worker or "
        f"{'Argo CD' if release.state in IN_CLUSTER else 'GitHub'} is not answering): what is "
        "shown may have changed. Actions on it are off until it is read again."
    )


def release_fresh(*, release: Release, force: bool = False) -> Release:
    """The release as the cluster has it now, for a decision about to be sent.

    A release in the cluster that was not read within the last few seconds is read from Argo CD
    now (and recorded); raises ReleaseRefused when Argo CD cannot be read, since deciding on an
    old picture is the mistake this prevents. Call it outside any transaction. `force` reads
    it however recent the last read (a decision that the last read would refuse).
    """
    from . import machine

    age = release_observed_age(release)
    if release.state not in IN_CLUSTER or (not force and age is not None and age <= fresh_enough()):
        return release
    try:
        machine.release_observe(release_id=release.pk)
    except IntegrationError as exc:
        raise ReleaseRefused(
            f"Argo CD cannot be read now ({exc.message}), and the rollout may have moved since "
            "this page was drawn: nothing was sent. Try again in a minute."
        ) from exc
    release.refresh_from_db()
    return release


def fresh_enough() -> float:
    """A state read this recently counts as fresh for a decision (one poll interval)."""
    return settings.RELEASE_FRESH_SECONDS
