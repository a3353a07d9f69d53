"""The console handler writes to the standard error of the moment: a swapped and closed stderr
(pytest's capture, a daemon's redirect) neither loses later lines nor prints logging errors."""

import io
import logging
import sys

from portal.logfilters import StderrHandler


def test_lines_follow_sys_stderr_and_a_closed_old_one_is_no_error(monkeypatch):
    handler = StderrHandler()
    logger = logging.getLogger("switchyard.console-test")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        first, second = io.StringIO(), io.StringIO()
        monkeypatch.setattr(sys, "stderr", first)
        logger.warning("one")
        first.close()  # what pytest does with a finished capture
        monkeypatch.setattr(sys, "stderr", second)
        errors = []
        monkeypatch.setattr(handler, "handleError", lambda record: errors.append(record))
        logger.warning("two")
        assert second.getvalue() == "two\n" and not errors
    finally:
        logger.removeHandler(handler)


def test_the_settings_use_it_for_the_console():
    from django.conf import settings

    assert settings.LOGGING["handlers"]["console"]["class"] == "portal.logfilters.StderrHandler"
    console = [h for h in logging.getLogger().handlers if isinstance(h, StderrHandler)]
    assert console, logging.getLogger().handlers
