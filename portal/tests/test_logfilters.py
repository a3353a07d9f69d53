"""Routine beat ticks are DEBUG lines; everything else a worker or beat says stays."""

import logging
import subprocess
import sys
from pathlib import Path

from portal.logfilters import RoutineTicksFilter

ROOT = Path(__file__).resolve().parents[2]


def _record(name, message, level=logging.INFO):
    return logging.LogRecord(name, level, __file__, 1, message, (), None)


def _passes(record, level=logging.INFO):
    return RoutineTicksFilter(["deployments.releases_tick"], level_of=lambda: level).filter(record)


def test_sending_receiving_and_success_of_a_tick_are_hidden_at_info():
    assert not _passes(_record("celery.beat", "Scheduler: Sending due task releases-tick "
                                              "(deployments.releases_tick)"))  # fmt: skip
    assert not _passes(
        _record("celery.worker.strategy", "Task deployments.releases_tick[1] received")
    )
    assert not _passes(
        _record("celery.app.trace", "Task deployments.releases_tick[1] succeeded in 0.01s")
    )


def test_ticks_show_at_debug():
    record = _record("celery.app.trace", "Task deployments.releases_tick[1] succeeded in 0.01s")
    assert _passes(record, level=logging.DEBUG) and record.levelname == "DEBUG"


def test_failures_and_other_tasks_still_show():
    assert _passes(_record("celery.app.trace", "Task deployments.releases_tick[1] raised: boom",
                           logging.ERROR))  # fmt: skip
    assert _passes(_record("celery.app.trace", "Task deployments.release_dispatch[2] succeeded"))
    assert _passes(_record("deployments", "release 5 deployments.releases_tick took 3 s"))


def test_the_worker_logger_gets_the_filter_when_celery_sets_up_logging():
    code = (
        "import logging, django; django.setup();"
        "from portal.celery import app; app.log.setup(loglevel='INFO');"
        "from portal.logfilters import RoutineTicksFilter;"
        "print(any(isinstance(f, RoutineTicksFilter) for h in logging.getLogger().handlers"
        " for f in h.filters))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
        env={"DJANGO_SETTINGS_MODULE": "portal.settings", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert out.stdout.strip().endswith("True"), out.stderr
