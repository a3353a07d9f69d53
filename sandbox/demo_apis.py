"""The demo's own APIs, served for real on loopback: the staging side of API try-it.

`demo-grpc` implements `fulfilment.v1.FulfilmentService` (apidocs/demo/fulfilment) with a gRPC
server built from the same .proto the demo publishes; `demo-http` implements the Cart API of
apidocs/demo/cart-openapi.yaml. Both keep a little in-memory state, so a call that adds something
is seen by the next read. `seed_demo` writes their addresses as the demo APIs' staging addresses.
"""

import itertools
import threading
import time
from concurrent import futures

import grpc
from google.protobuf import json_format, message_factory, timestamp_pb2
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request

from apidocs.demo import demo_proto_files
from apidocs.protos import compile_protos
from apidocs.samples import build_pool

from .registry import SandboxState, register, register_grpc
from .web import json_response

SERVICE = "fulfilment.v1.FulfilmentService"
CARRIERS = {"dhl": "https://www.dhl.com/track?id=", "ups": "https://www.ups.com/track?id=",
            "postnl": "https://postnl.nl/track?id="}  # fmt: skip


class Fulfilment:
    """The service's behaviour on plain dicts (the JSON form of its messages)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._ids = itertools.count(1004)
        booked = "2026-01-05T09:30:00Z"
        seeded = [("shp_1001", "ord_42", "dhl", "DELIVERED"), ("shp_1002", "ord_42", "ups",
                  "IN_TRANSIT"), ("shp_1003", "ord_77", "postnl", "BOOKED")]  # fmt: skip
        self.shipments = {
            sid: self._shipment(sid, order, carrier, f"SHIPMENT_STATE_{state}", booked)
            for sid, order, carrier, state in seeded
        }

    @staticmethod
    def _shipment(sid, order_id, carrier, state, booked_at):
        return {"id": sid, "orderId": order_id, "carrier": carrier, "state": state,
                "trackingUrl": CARRIERS[carrier] + sid, "bookedAt": booked_at}  # fmt: skip

    def get(self, request: dict, context):
        shipment = self.shipments.get(request.get("id", ""))
        if shipment is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no shipment {request.get('id', '')!r}")
        return shipment

    def list(self, request: dict, _context):
        size = int(request.get("pageSize") or 10)
        found = [s for s in self.shipments.values() if s["orderId"] == request.get("orderId")]
        return {"shipments": list(reversed(found))[:size]}

    def create(self, request: dict, context):
        carrier = request.get("carrier", "")
        if carrier not in CARRIERS or not request.get("orderId"):
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                "order_id is required and carrier must be dhl, ups or postnl",
            )
        now = timestamp_pb2.Timestamp(seconds=int(time.time())).ToJsonString()
        with self._lock:
            sid = f"shp_{next(self._ids)}"
            shipment = self._shipment(
                sid, request["orderId"], carrier, "SHIPMENT_STATE_BOOKED", now
            )
            self.shipments[sid] = shipment
        return shipment


def _fulfilment_handler(service: Fulfilment) -> grpc.GenericRpcHandler:
    pool = build_pool(compile_protos(demo_proto_files()))
    descriptor = pool.FindServiceByName(SERVICE)
    behaviour = {"GetShipment": service.get, "ListShipments": service.list,
                 "CreateShipment": service.create}  # fmt: skip
    handlers = {}
    for method in descriptor.methods:
        request_cls = message_factory.GetMessageClass(method.input_type)
        response_cls = message_factory.GetMessageClass(method.output_type)

        def handle(request, context, fn=behaviour[method.name], response_cls=response_cls):
            answer = fn(json_format.MessageToDict(request), context)
            return json_format.ParseDict(answer, response_cls())

        handlers[method.name] = grpc.unary_unary_rpc_method_handler(
            handle,
            request_deserializer=request_cls.FromString,
            response_serializer=lambda message: message.SerializeToString(),
        )
    return grpc.method_handlers_generic_handler(SERVICE, handlers)


def start_grpc(state: SandboxState, host: str, port: int):
    """Serve the demo gRPC API on `host:port` (0: a free port). Returns (port, stop)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((_fulfilment_handler(Fulfilment()),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if not bound:
        raise OSError(f"demo-grpc could not listen on {host}:{port} (is the port in use?)")
    server.start()
    return bound, lambda: server.stop(grace=1).wait(5)


def cart_app(state: SandboxState):
    """The Cart API (apidocs/demo/cart-openapi.yaml) as a WSGI application."""
    lock = threading.Lock()
    carts = {
        "cart-1": [{"sku": "SKU-123", "quantity": 2, "unit_price_cents": 1299}],
        "cart-2": [],
    }
    prices = {"SKU-123": 1299, "SKU-456": 499, "SKU-789": 8900}
    routes = Map([
        Rule("/carts/<cart_id>", endpoint="get", methods=["GET"]),
        Rule("/carts/<cart_id>/items", endpoint="add", methods=["POST"]),
    ])  # fmt: skip

    def cart_json(cart_id):
        items = carts[cart_id]
        total = sum(i["quantity"] * i["unit_price_cents"] for i in items)
        return {"id": cart_id, "currency": "EUR", "items": items, "total_cents": total}

    def app(environ, start_response):
        request = Request(environ)
        try:
            endpoint, args = routes.bind_to_environ(environ).match()
        except HTTPException as error:  # NotFound, MethodNotAllowed: they are responses
            return error(environ, start_response)
        cart_id = args["cart_id"]
        if cart_id not in carts:
            return json_response({"error": f"no cart {cart_id!r}"}, 404)(environ, start_response)
        if endpoint == "get":
            return json_response(cart_json(cart_id))(environ, start_response)
        body = request.get_json(silent=True) or {}
        quantity = body.get("quantity")
        if body.get("sku") not in prices or not isinstance(quantity, int) or quantity < 1:
            problem = {"error": f"sku must be one of {', '.join(prices)}; quantity at least 1"}
            return json_response(problem, 400)(environ, start_response)
        with lock:
            carts[cart_id].append(
                {"sku": body["sku"], "quantity": quantity, "unit_price_cents": prices[body["sku"]]}
            )
            answer = cart_json(cart_id)
        return json_response(answer, 201)(environ, start_response)

    return app


register_grpc(
    "demo-grpc", start_grpc, "the demo's gRPC API (fulfilment.v1), staging side of try-it"
)
register("demo-http", cart_app, "the demo's HTTP API (Cart API, OpenAPI), staging side of try-it")
