"""Django's admin autodiscovery loads this module; each wing registers its own models."""

from .analysis import admin as analysis_admin  # noqa: F401
from .cdevents import admin as cdevents_admin  # noqa: F401
from .controls import admin as controls_admin  # noqa: F401
from .releases import admin as releases_admin  # noqa: F401
