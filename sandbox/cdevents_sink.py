"""A CDEvents sink on loopback: receives CloudEvents over HTTP (binary or structured mode, the
v1.0.2 HTTP protocol binding), keeps what it received in arrival order, and answers with the
fault knobs (`POST /sandbox/faults {"kind": "error", "status": 503}` = the sink is down).

- `POST /events`: one CloudEvent; 202. A CloudEvent `id` received before is acknowledged and
  not recorded again (a sink that de-duplicates, as CloudEvents consumers should).
- `GET /sandbox/events`: `{"events": [{"id", "type", "source", "mode", "data"}, ...]}`;
  `DELETE /sandbox/events` forgets them.
"""

import json
import threading

from cloudevents.core.bindings import http as ce_http
from cloudevents.core.exceptions import BaseCloudEventException
from werkzeug.wrappers import Request, Response

from .registry import SandboxState, register
from .web import FaultKnobs, json_response, wsgi_app


class CDEventsSink:
    def __init__(self, state: SandboxState):
        self.state = state
        self.faults = FaultKnobs()
        self.lock = threading.Lock()
        self.events: list[dict] = []
        self.seen: set[str] = set()
        self.duplicates = 0

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request):
        return json_response({"error": "slow down"}, status=429)

    def failed(self, request, status):
        return json_response({"error": "the sink is unavailable"}, status=status)

    def handle(self, request: Request) -> Response:
        if request.path == "/sandbox/events":
            return self.control(request)
        if request.path != "/events":
            return json_response({"error": "not found"}, status=404)
        if request.method != "POST":
            return json_response({"error": "method not allowed"}, status=405)
        return self.receive(request)

    def control(self, request: Request) -> Response:
        with self.lock:
            if request.method == "DELETE":
                self.events.clear()
                self.seen.clear()
                self.duplicates = 0
            return json_response({"events": list(self.events), "duplicates": self.duplicates})

    def receive(self, request: Request) -> Response:
        message = ce_http.HTTPMessage(headers=dict(request.headers), body=request.get_data())
        structured = request.mimetype == "application/cloudevents+json"
        try:
            event = ce_http.from_http_event(message)
        except (BaseCloudEventException, ValueError, KeyError) as exc:
            return json_response({"error": f"not a CloudEvent: {exc}"}, status=400)
        data = event.get_data()
        if isinstance(data, (bytes, str)):
            try:
                data = json.loads(data)
            except ValueError:
                return json_response({"error": "the data is not JSON"}, status=400)
        with self.lock:
            if event.get_id() in self.seen:
                self.duplicates += 1
                return Response(status=202)
            self.seen.add(event.get_id())
            self.events.append(
                {
                    "id": event.get_id(),
                    "type": event.get_type(),
                    "source": event.get_source(),
                    "mode": "structured" if structured else "binary",
                    "data": data,
                }
            )
        return Response(status=202)


def create_app(state: SandboxState):
    sink = CDEventsSink(state)
    state.shared["cdevents"] = sink
    return sink.wsgi()


register("cdevents", create_app, "A CDEvents sink (CloudEvents over HTTP) that records events")
