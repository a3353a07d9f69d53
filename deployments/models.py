"""The app's models, declared in its two wings; the app label stays `deployments`."""

from .analysis.models import AnalysisPolicy, AnalysisStep, AnalysisVerdict
from .cdevents.models import CDEvent, CDEventDelivery, EventSink
from .controls.models import ControlAction, ControlPolicy, RuntimeToken, TuningKey, TuningValue
from .releases.models import DeployFreeze, Release, ReleaseEvent
from .trains.models import Train, TrainApproval, TrainEvent, TrainService

__all__ = [
    "AnalysisPolicy",
    "AnalysisStep",
    "AnalysisVerdict",
    "CDEvent",
    "CDEventDelivery",
    "EventSink",
    "ControlAction",
    "ControlPolicy",
    "DeployFreeze",
    "Release",
    "ReleaseEvent",
    "RuntimeToken",
    "TuningKey",
    "TrainApproval",
    "TrainEvent",
    "TrainService",
    "Train",
    "TuningValue",
]
