"""The app's URLs (namespace `deployments`): release pages and the knobs/tuning wing."""

from .analysis.urls import urlpatterns as analysis_urlpatterns
from .controls.urls import urlpatterns as controls_urlpatterns
from .dora.urls import urlpatterns as dora_urlpatterns
from .releases.urls import urlpatterns as releases_urlpatterns
from .trains.urls import urlpatterns as trains_urlpatterns

app_name = "deployments"

urlpatterns = (
    trains_urlpatterns
    + dora_urlpatterns
    + releases_urlpatterns
    + analysis_urlpatterns
    + controls_urlpatterns
)
