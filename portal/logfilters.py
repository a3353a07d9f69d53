"""Keep the processes' logs for what matters: routine beat ticks are DEBUG, not INFO; and
the console handler writes to the standard error of the moment.

Beat sends a few tasks every few seconds (the release poll every 2 s); Celery logs each sending,
receipt and success at INFO, some 400 lines a minute on an idle demo. This filter, put on the
worker's and beat's handlers, lowers those three lines to DEBUG for the beat schedule's own
tasks; a task's failure, retry or its own messages are untouched.
"""

import logging
import sys

ROUTINE_LOGGERS = ("celery.beat", "celery.worker.strategy", "celery.app.trace")


class RoutineTicksFilter(logging.Filter):
    def __init__(self, task_names, level_of=lambda: logging.getLogger().getEffectiveLevel()):
        super().__init__()
        self.task_names = tuple(task_names)
        self.level_of = level_of

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not record.name.startswith(ROUTINE_LOGGERS):
            return True
        message = record.getMessage()
        if not any(name in message for name in self.task_names):
            return True
        if "succeeded" not in message and "received" not in message and "due task" not in message:
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return self.level_of() <= logging.DEBUG


def routine_filter_install(logger: logging.Logger, schedule: dict) -> None:
    """Put the filter on every handler of `logger` (Celery's after_setup_logger signal)."""
    names = [entry["task"] for entry in schedule.values()]
    for handler in logger.handlers:
        if not any(isinstance(f, RoutineTicksFilter) for f in handler.filters):
            handler.addFilter(RoutineTicksFilter(names))


class StderrHandler(logging.StreamHandler):
    """The console handler: writes to the process's own standard error (`sys.__stderr__`), not
    to whatever object was `sys.stderr` when logging was configured. pytest swaps `sys.stderr`
    for a capture it later closes (a plain StreamHandler then printed "--- Logging error ---" for
    each line a sandbox thread logged afterwards, and lost it); Celery swaps it for a proxy that
    logs what is written to it (following that proxy would loop, and Celery drops such lines)."""

    def __init__(self):
        super().__init__(sys.__stderr__ or sys.stderr)

    @property
    def stream(self):
        return sys.__stderr__ or sys.stderr

    @stream.setter
    def stream(self, value):  # logging.StreamHandler.__init__ and setStream assign it
        pass
