"""The Celery application shared by web (to send), worker and beat."""

import os

from celery import Celery, signals

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
