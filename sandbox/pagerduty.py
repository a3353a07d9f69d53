"""PagerDuty REST API v2 (users, escalation policies, services, on-calls, incidents, change events)
and the Events API v2 change-event endpoint, following PagerDuty's published reference.

Requests need `Authorization: Token token=<PAGERDUTY_SANDBOX_TOKEN>` (401 otherwise, as PagerDuty
answers) and are answered in PagerDuty's shapes: wrapped entities (`{"service": {...}}`),
classic pagination (`limit`, `offset`, `more`, `total`), errors as `{"error": {"message",
"code", "errors"}}`. Creating an incident needs a `From` header naming a user's email.

On-call shifts are set by the sandbox control `POST /sandbox/oncalls` `{"escalation_policy_id",
"user_id", "start", "end", "escalation_level"}` (PagerDuty derives them from schedules, which the
sandbox does not model). `POST /v2/change/enqueue` takes a change event for the service whose
integration key is its `routing_key`; `GET /change_events` lists what arrived.
"""

import itertools
import threading
from datetime import UTC, datetime

from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .registry import SandboxState, register
from .web import FaultKnobs, json_response, request_json, wsgi_app

TOKEN = "switchyard-sandbox"
KINDS = {
    "users": "user",
    "escalation_policies": "escalation_policy",
    "services": "service",
    "incidents": "incident",
}
PLURAL = {"user": "users", "escalation_policy": "escalation_policies", "service": "services"}
STATUSES = ("triggered", "acknowledged", "resolved")


class PagerDutySandbox:
    def __init__(self, state: SandboxState):
        self.state = state
        self.faults = FaultKnobs()
        self.lock = threading.Lock()
        self.objects: dict[str, dict[str, dict]] = {plural: {} for plural in KINDS}
        self.oncalls: list[dict] = []
        self.change_events: list[dict] = []
        self.ids = itertools.count(1)
        self.numbers = itertools.count(1)
        self.url_map = Map(
            [
                Rule("/<kind>", endpoint="collection", methods=["GET", "POST"]),
                Rule("/<kind>/<id>", endpoint="item", methods=["GET", "PUT"]),
                Rule("/oncalls", endpoint="oncalls", methods=["GET"]),
                Rule("/change_events", endpoint="change_events", methods=["GET"]),
                Rule("/v2/change/enqueue", endpoint="enqueue", methods=["POST"]),
                Rule("/sandbox/oncalls", endpoint="set_oncall", methods=["POST", "DELETE"]),
            ]
        )

    def wsgi(self):
        return wsgi_app(self.handle, self.faults, self.rate_limited, self.failed)

    def rate_limited(self, request):
        return error(429, "Rate Limit Exceeded", 2020)

    def failed(self, request, status):
        return error(status, "Internal Server Error" if status >= 500 else "Bad Request", 2001)

    def handle(self, request: Request) -> Response:
        endpoint, values = self.url_map.bind_to_environ(request.environ).match()
        if endpoint == "enqueue":
            return self.enqueue(request)
        if endpoint == "set_oncall":
            return self.set_oncall(request)
        if request.headers.get("Authorization", "") != f"Token token={TOKEN}":
            return error(401, "Unauthorized", 2006)
        if endpoint == "oncalls":
            return self.page(request, "oncalls", self.oncalls_matching(request.args))
        if endpoint == "change_events":
            with self.lock:
                return self.page(request, "change_events", list(reversed(self.change_events)))
        kind = values["kind"]
        if kind not in KINDS:
            return error(404, "Not Found", 2100)
        if endpoint == "collection":
            if request.method == "POST":
                return self.create(request, kind)
            return self.page(request, kind, self.listing(kind, request.args))
        with self.lock:
            found = self.objects[kind].get(values["id"])
        if found is None:
            return error(404, "Not Found", 2100)
        if request.method == "PUT":
            return self.update(request, kind, found)
        return json_response({KINDS[kind]: found})

    # ---- reads ----------------------------------------------------------------------------

    def page(self, request: Request, key: str, rows: list[dict]) -> Response:
        try:
            limit = min(int(request.args.get("limit", 25)), 100)
            offset = int(request.args.get("offset", 0))
        except ValueError:
            return error(400, "Invalid Input Provided", 2001, ["limit and offset are numbers"])
        chunk = rows[offset : offset + limit]
        body = {key: chunk, "limit": limit, "offset": offset, "more": offset + limit < len(rows)}
        body["total"] = len(rows) if request.args.get("total") == "true" else None
        return json_response(body)

    def listing(self, kind: str, args) -> list[dict]:
        with self.lock:
            rows = list(self.objects[kind].values())
        if kind != "incidents":
            return rows
        services = set(args.getlist("service_ids[]"))
        statuses = set(args.getlist("statuses[]")) or {"triggered", "acknowledged"}
        urgencies = set(args.getlist("urgencies[]"))
        since = _time(args.get("since"))
        return [
            row
            for row in reversed(rows)
            if (not services or row["service"]["id"] in services)
            and row["status"] in statuses
            and (not urgencies or row["urgency"] in urgencies)
            and (since is None or (_time(row.get("created_at")) or since) >= since)
        ]

    def oncalls_matching(self, args) -> list[dict]:
        policies = set(args.getlist("escalation_policy_ids[]"))
        now = datetime.now(UTC)
        since, until = _time(args.get("since")) or now, _time(args.get("until")) or now
        with self.lock:
            rows = [
                shift
                for shift in self.oncalls
                if (not policies or shift["escalation_policy"]["id"] in policies)
                and _time(shift["start"]) <= until
                and _time(shift["end"]) > since
            ]
        rows.sort(key=lambda s: (s["escalation_level"], s["start"]))
        if args.get("earliest") == "true":
            first: dict[tuple, dict] = {}
            for shift in rows:
                first.setdefault(
                    (shift["escalation_policy"]["id"], shift["escalation_level"]), shift
                )
            rows = list(first.values())
        return rows

    # ---- writes ---------------------------------------------------------------------------

    def create(self, request: Request, kind: str) -> Response:
        try:
            body = request_json(request).get(KINDS[kind])
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return error(400, "Invalid Input Provided", 2001, [f"{KINDS[kind]} is required"])
        if kind == "incidents":
            return self.create_incident(request, body)
        name_field = "name" if kind != "users" else "email"
        if not body.get(name_field):
            return error(400, "Invalid Input Provided", 2001, [f"{name_field} is required"])
        row = self.new(kind, body)
        if kind == "services":
            row.setdefault("status", "active")
            row["escalation_policy"] = self.reference(body.get("escalation_policy"))
            row["integration_key"] = body.get("integration_key") or f"key{row['id']}"
        if kind == "users":
            row["summary"] = row.get("name") or row["email"]
        return json_response({KINDS[kind]: row}, 201)

    def create_incident(self, request: Request, body: dict) -> Response:
        sender = request.headers.get("From", "")
        with self.lock:
            known = any(u.get("email") == sender for u in self.objects["users"].values())
        if not known:
            return error(400, "Invalid Input Provided", 2001, ["A valid From header is required"])
        service = self.reference(body.get("service"))
        if service is None or service["id"] not in self.objects["services"]:
            return error(400, "Invalid Input Provided", 2001, ["Service not found"])
        if not body.get("title"):
            return error(400, "Invalid Input Provided", 2001, ["title is required"])
        row = self.new("incidents", body)
        row.update(
            incident_number=next(self.numbers),
            status="triggered",
            urgency=body.get("urgency", "high"),
            service=service,
            summary=f"[#{row['id']}] {body['title']}",
            created_at=_now(),
        )
        return json_response({"incident": row}, 201)

    def update(self, request: Request, kind: str, found: dict) -> Response:
        try:
            body = request_json(request).get(KINDS[kind]) or {}
        except ValueError:
            body = {}
        if kind == "incidents" and body.get("status") not in (None, *STATUSES):
            return error(400, "Invalid Input Provided", 2001, ["status is not valid"])
        with self.lock:
            found.update({k: v for k, v in body.items() if k in ("status", "urgency", "title")})
        return json_response({KINDS[kind]: found})

    def new(self, kind: str, body: dict) -> dict:
        with self.lock:
            pid = f"P{next(self.ids):06d}"
            row = {
                **body,
                "id": pid,
                "type": KINDS[kind],
                "self": f"{self.state.endpoints.get('pagerduty', '')}/{kind}/{pid}",
                "html_url": f"https://sandbox.pagerduty.com/{kind}/{pid}",
            }
            row.setdefault("summary", body.get("name") or body.get("title") or pid)
            self.objects[kind][pid] = row
            return row

    def reference(self, value) -> dict | None:
        if not isinstance(value, dict) or not value.get("id"):
            return None
        kind = PLURAL.get(str(value.get("type", "")).removesuffix("_reference"), "services")
        with self.lock:
            target = self.objects.get(kind, {}).get(value["id"], {})
        return {
            "id": value["id"],
            "type": f"{KINDS.get(kind, 'service')}_reference",
            "summary": target.get("summary", value["id"]),
            "html_url": target.get("html_url", ""),
        }

    def set_oncall(self, request: Request) -> Response:
        if request.method == "DELETE":
            with self.lock:
                self.oncalls.clear()
            return json_response({"oncalls": []})
        body = request_json(request)
        with self.lock:
            user = self.objects["users"].get(body.get("user_id", ""))
            policy = self.objects["escalation_policies"].get(body.get("escalation_policy_id", ""))
        if user is None or policy is None or not body.get("start") or not body.get("end"):
            return json_response({"error": "user_id, escalation_policy_id, start, end"}, 400)
        shift = {
            "user": {
                "id": user["id"], "type": "user_reference", "summary": user["summary"],
                "html_url": user["html_url"], "email": user.get("email", ""),
            },
            "escalation_policy": {
                "id": policy["id"], "type": "escalation_policy_reference",
                "summary": policy["summary"], "html_url": policy["html_url"],
            },
            "schedule": None,
            "escalation_level": int(body.get("escalation_level", 1)),
            "start": body["start"],
            "end": body["end"],
        }  # fmt: skip
        with self.lock:
            self.oncalls.append(shift)
        return json_response({"oncall": shift}, 201)

    def enqueue(self, request: Request) -> Response:
        """Events API v2: `POST /v2/change/enqueue` with the service's integration key."""
        try:
            body = request_json(request)
        except ValueError:
            return json_response({"status": "invalid event", "message": "bad JSON"}, 400)
        payload = body.get("payload") or {}
        with self.lock:
            service = next(
                (
                    s
                    for s in self.objects["services"].values()
                    if s["integration_key"] == body.get("routing_key")
                ),
                None,
            )
        if service is None or not payload.get("summary") or not payload.get("source"):
            return json_response(
                {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": ["a known routing_key, payload.summary and payload.source"],
                },
                400,
            )
        event = {
            "id": f"C{len(self.change_events) + 1:06d}",
            "type": "change_event",
            "summary": payload["summary"],
            "source": payload["source"],
            "timestamp": payload.get("timestamp") or _now(),
            "custom_details": payload.get("custom_details") or {},
            "links": body.get("links") or [],
            "services": [{"id": service["id"], "type": "service_reference"}],
        }
        with self.lock:
            self.change_events.append(event)
        return json_response({"status": "success", "message": "Change event processed"}, 202)


def error(status: int, message: str, code: int, errors: list[str] | None = None) -> Response:
    return json_response(
        {"error": {"message": message, "code": code, "errors": errors or []}}, status
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def create_app(state: SandboxState):
    sandbox = PagerDutySandbox(state)
    state.shared["pagerduty"] = sandbox
    return sandbox.wsgi()


register(
    "pagerduty", create_app, "PagerDuty REST API v2 and change events (Events API v2)", tls=True
)
