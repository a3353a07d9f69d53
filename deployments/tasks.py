"""Celery's autodiscovery loads this module; each wing keeps its own tasks (names unchanged)."""

from .analysis import tasks as analysis_tasks  # noqa: F401
from .cdevents import tasks as cdevents_tasks  # noqa: F401
from .controls import tasks as controls_tasks  # noqa: F401
from .releases import tasks as releases_tasks  # noqa: F401
from .trains import tasks as trains_tasks  # noqa: F401
