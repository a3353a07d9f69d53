"""The knob registry: one class per knob, listed once here. Adding a knob: its class (a module
here), its template `deployments/controls/knobs/<name>.html`, its guardrail columns on
ControlPolicy and its tests; see docs/architecture.md, "Recipe: add a knob"."""

from .base import Knob
from .cpu_request import CpuRequest
from .hpa import Hpa
from .restart import Restart
from .scale import Scale

KNOBS: dict[str, Knob] = {knob.name: knob for knob in (Scale(), Hpa(), Restart(), CpuRequest())}


def knob_get(name: str) -> Knob:
    """The knob called `name`; KeyError when there is none."""
    return KNOBS[name]


__all__ = ["KNOBS", "Knob", "knob_get"]
