"""The Celery application shared by web (to send), worker and beat."""

import os
from pathlib import Path

from celery import Celery
from celery.signals import import_modules

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@import_modules.connect
def folders_ensure(**_) -> None:
    """Every folder worker and beat write to, created as they start (a fresh checkout has none:
    with REDIS_URL nothing else makes .celery/, and beat's schedule file lives there)."""
    from django.conf import settings

    for folder in {settings.CELERY_DATA_DIR, Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent}:
        Path(folder).mkdir(parents=True, exist_ok=True)
