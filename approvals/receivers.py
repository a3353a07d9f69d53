"""Approvals' receivers of other apps' signals."""


def release_paused_send_held(sender, *, release_id: int, **kwargs) -> None:
    """A release paused: decisions held until it paused at their step are sent (by Celery)."""
    from .tasks import approval_signals_release

    approval_signals_release.delay(release_id)
