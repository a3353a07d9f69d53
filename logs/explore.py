"""Links to Grafana Explore running the query a card shows (settings.GRAFANA_URL)."""

import json
from urllib.parse import urlencode

from django.conf import settings


def explore_url(query: str, minutes: int) -> str:
    """The Explore page of `query` over the last `minutes`, or "" when Grafana is not set up."""
    base = (getattr(settings, "GRAFANA_URL", "") or "").rstrip("/")
    if not base:
        return ""
    uid = settings.GRAFANA_LOKI_DATASOURCE
    pane = {
        "datasource": uid,
        "queries": [
            {
                "refId": "A",
                "expr": query,
                "queryType": "range",
                "datasource": {"type": "loki", "uid": uid},
            }
        ],
        "range": {"from": f"now-{minutes}m", "to": "now"},
    }
    panes = json.dumps({"a": pane}, separators=(",", ":"))
    return f"{base}/explore?" + urlencode({"schemaVersion": 1, "panes": panes, "orgId": 1})
