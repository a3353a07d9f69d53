"""Small helpers shared by the sandbox servers: JSON answers, the clock, and fault knobs.

Every server built on these helpers exposes the same control endpoints under `/sandbox/`:

- `POST /sandbox/faults` `{"path": "/repos/example/x/", "method": "GET", "kind": "error",
  "status": 503, "count": 2, "seconds": 2}` arms a fault for requests whose path starts with
  `path` (and whose method is `method`, when given). `kind` is `error` (answer `status`),
  `timeout` (hold the request `seconds` before answering normally) or `rate_limit` (the
  system's own rate-limit answer). `count` limits how many requests it hits (default: all).
- `DELETE /sandbox/faults` clears them; `GET /sandbox/faults` lists them.

The clock: durations in the simulations are multiplied by `state.shared["time_scale"]`
(default 1.0), so tests can run a release in a fraction of the demo's pace.
"""

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

from .registry import SandboxState


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(data), status=status, headers=headers or {}, content_type="application/json"
    )


def time_scale(state: SandboxState) -> float:
    return float(state.shared.get("time_scale", 1.0))


def rfc3339(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def request_json(request: Request) -> dict:
    """The JSON object in a request body; `{}` when empty. Raises ValueError when it isn't one."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    data = json.loads(raw)
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def bearer_token(request: Request) -> str:
    """The token of `Authorization: Bearer X` or `Authorization: token X`, or ''."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in {"bearer", "token"}:
        return value.strip()
    return ""


@dataclass
class Fault:
    path: str
    kind: str
    method: str = ""
    status: int = 503
    count: int | None = None
    seconds: float = 5.0

    def matches(self, request: Request) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.method and self.method.upper() != request.method:
            return False
        return request.path.startswith(self.path)


class FaultKnobs:
    """Armed faults of one server; thread-safe."""

    KINDS = ("error", "timeout", "rate_limit")

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def arm(self, data: dict) -> Fault:
        kind = data.get("kind", "error")
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {', '.join(self.KINDS)}")
        fault = Fault(
            path=str(data.get("path", "/")),
            kind=kind,
            method=str(data.get("method", "")),
            status=int(data.get("status", 503)),
            count=None if data.get("count") is None else int(data["count"]),
            seconds=float(data.get("seconds", 5.0)),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def listing(self) -> list[dict]:
        with self._lock:
            return [vars(f).copy() for f in self._faults]

    def take(self, request: Request) -> Fault | None:
        """The first armed fault matching `request`, counted as used."""
        if request.path.startswith("/sandbox/"):
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(request):
                    if fault.count is not None:
                        fault.count -= 1
                    return fault
        return None

    def control(self, request: Request) -> Response | None:
        """Answer the /sandbox/faults control endpoint, or None for other paths."""
        if request.path != "/sandbox/faults":
            return None
        if request.method == "GET":
            return json_response({"faults": self.listing()})
        if request.method == "DELETE":
            self.clear()
            return json_response({"faults": []})
        if request.method == "POST":
            try:
                fault = self.arm(request_json(request))
            except (ValueError, TypeError) as exc:
                return json_response({"error": str(exc)}, status=400)
            return json_response({"fault": vars(fault)}, status=201)
        return json_response({"error": "method not allowed"}, status=405)


def wsgi_app(
    handler: Callable[[Request], Response],
    faults: FaultKnobs,
    rate_limited: Callable[[Request], Response],
    failed: Callable[[Request, int], Response],
) -> Callable:
    """Wrap `handler` with the fault knobs and turn HTTP exceptions into responses."""

    def app(environ, start_response):
        request = Request(environ)
        response = faults.control(request)
        if response is None:
            fault = faults.take(request)
            if fault is not None and fault.kind == "timeout":
                time.sleep(fault.seconds)
            if fault is not None and fault.kind == "rate_limit":
                response = rate_limited(request)
            elif fault is not None and fault.kind == "error":
                response = failed(request, fault.status)
        if response is None:
            try:
                response = handler(request)
            except HTTPException as exc:
                response = failed(request, exc.code or 500)
        return response(environ, start_response)

    return app
