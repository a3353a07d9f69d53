"""The console handler writes to the process's own standard error: a swapped and closed
sys.stderr (pytest's capture) or a logging proxy in its place (Celery's redirect) neither loses
later lines nor prints logging errors."""

import io
import logging
import sys

from portal.logfilters import StderrHandler


def test_lines_go_to_the_process_stderr_whatever_sys_stderr_is_now(monkeypatch):
    process = io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", process)
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    handler = StderrHandler()  # configured while sys.stderr is a capture
    logger = logging.getLogger("switchyard.console-test")
    logger.addHandler(handler)
    logger.propagate = False
    errors = []
    monkeypatch.setattr(handler, "handleError", lambda record: errors.append(record))
    try:
        swapped.close()  # what pytest does with a finished capture
        logger.warning("one")
        proxy = io.StringIO()
        monkeypatch.setattr(sys, "stderr", proxy)  # Celery's redirect
        logger.warning("two")
        assert process.getvalue() == "one\ntwo\n" and proxy.getvalue() == "" and not errors
    finally:
        logger.removeHandler(handler)


def test_the_settings_use_it_for_the_console():
    from django.conf import settings

    assert settings.LOGGING["handlers"]["console"]["class"] == "portal.logfilters.StderrHandler"
    console = [h for h in logging.getLogger().handlers if isinstance(h, StderrHandler)]
    assert console, logging.getLogger().handlers
