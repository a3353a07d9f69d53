"""django-rules autodiscovery loads this module; each wing declares its own permissions
(`deployments.<verb>_<model>`, names unchanged)."""

from .analysis import rules as analysis_rules  # noqa: F401
from .cdevents import rules as cdevents_rules  # noqa: F401
from .controls import rules as controls_rules  # noqa: F401
from .releases import rules as releases_rules  # noqa: F401
from .trains import rules as trains_rules  # noqa: F401
