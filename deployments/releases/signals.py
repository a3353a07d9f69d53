"""What the release machine tells other apps, without knowing them (they connect receivers)."""

from django.dispatch import Signal

# Sent after the commit of a release's move to "paused", with `release_id`.
release_paused = Signal()
