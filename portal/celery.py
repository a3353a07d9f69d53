"""The Celery application shared by web (to send), worker and beat."""

import os
from pathlib import Path

from celery import Celery, signals
from celery.signals import import_modules

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def _quiet_routine_ticks(logger=None, **_kwargs):
    from django.conf import settings

    from .logfilters import routine_filter_install

    routine_filter_install(logger, settings.CELERY_BEAT_SCHEDULE)


@import_modules.connect
def folders_ensure(**_) -> None:
    """Every folder worker and beat write to, created as they start (a fresh checkout has none:
    with REDIS_URL nothing else makes .celery/, and beat's schedule file lives there)."""
    from django.conf import settings

    for folder in {settings.CELERY_DATA_DIR, Path(settings.CELERY_BEAT_SCHEDULE_FILENAME).parent}:
        Path(folder).mkdir(parents=True, exist_ok=True)
