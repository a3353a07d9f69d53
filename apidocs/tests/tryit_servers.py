"""Real servers for try-it tests: gRPC servicers built from the shared protos, and HTTP apps.

The Python modules of the protos are generated at test time with grpc_tools into a temporary
directory; the servers bind 127.0.0.1 on free ports.
"""

import importlib
import json
import sys
import threading
from concurrent import futures
from pathlib import Path

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_tools import protoc
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from apidocs.protos import WELL_KNOWN_TYPES_ROOT

PROTOS = {
    "helloworld": "grpc/examples",
    "route_guide": "examples/route_guide/routeguide",
    "keyvaluestore": "examples/protos",
}
SHARED_FILES = [f"{folder}/{name}.proto" for name, folder in PROTOS.items()]


def generate_modules(protos_dir: Path, out: Path) -> dict:
    """Compile the three example protos to Python (messages and grpc stubs) and import them."""
    out.mkdir(parents=True, exist_ok=True)
    for name, folder in PROTOS.items():
        # Each proto's own folder is its include root, so the modules are top-level
        # (grpc/examples/... would shadow the grpc package).
        code = protoc.main([
            "protoc", f"-I{protos_dir / folder}", f"-I{WELL_KNOWN_TYPES_ROOT}",
            f"--python_out={out}", f"--grpc_python_out={out}", f"{name}.proto",
        ])  # fmt: skip
        assert code == 0, f"protoc failed for {name}"
    sys.path.insert(0, str(out))
    modules = {}
    for name in PROTOS:
        modules[name] = importlib.import_module(f"{name}_pb2")
        modules[f"{name}_grpc"] = importlib.import_module(f"{name}_pb2_grpc")
    return modules


class GrpcRecorder:
    """What the servicers received, so tests can assert on it."""

    def __init__(self):
        self.calls = []  # (method, request as dict-ish, metadata dict)


def start_grpc_server(modules, recorder: GrpcRecorder):
    hello, hello_grpc = modules["helloworld"], modules["helloworld_grpc"]
    route, route_grpc = modules["route_guide"], modules["route_guide_grpc"]
    kv, kv_grpc = modules["keyvaluestore"], modules["keyvaluestore_grpc"]

    class Greeter(hello_grpc.GreeterServicer):
        def SayHello(self, request, context):
            recorder.calls.append(("SayHello", request.name, dict(context.invocation_metadata())))
            if request.name == "nobody":
                detail = any_pb2.Any()
                detail.Pack(error_details_pb2.ErrorInfo(reason="NO_SUCH_PERSON", domain="test"))
                status = status_pb2.Status(code=5, message="nobody is not here", details=[detail])
                context.set_trailing_metadata(
                    (("grpc-status-details-bin", status.SerializeToString()),)
                )
                context.abort(grpc.StatusCode.NOT_FOUND, "nobody is not here")
            context.set_trailing_metadata((("x-served-by", "greeter-test"),))
            return hello.HelloReply(message=f"Hello, {request.name}!")

    class RouteGuide(route_grpc.RouteGuideServicer):
        def GetFeature(self, request, context):
            recorder.calls.append(("GetFeature", request.latitude, {}))
            return route.Feature(name="Somewhere", location=request)

        def ListFeatures(self, request, context):
            recorder.calls.append(("ListFeatures", request.lo.latitude, {}))
            count = 500 if request.lo.latitude < 0 else 3
            for i in range(count):
                point = route.Point(latitude=request.lo.latitude + i, longitude=i)
                yield route.Feature(name=f"feature-{i}", location=point)

    class KeyValueStore(kv_grpc.KeyValueStoreServicer):
        def GetValues(self, request_iterator, context):
            recorder.calls.append(("GetValues", None, {}))
            for request in request_iterator:
                yield kv.Response(value=request.key)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    hello_grpc.add_GreeterServicer_to_server(Greeter(), server)
    route_grpc.add_RouteGuideServicer_to_server(RouteGuide(), server)
    kv_grpc.add_KeyValueStoreServicer_to_server(KeyValueStore(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, port


class HttpRecorder:
    def __init__(self):
        self.requests = []  # (method, path, query, headers, body)


def pets_app(recorder: HttpRecorder, *, other_base: str = ""):
    """A small pet-store HTTP API, plus a redirect to `other_base` and an oversized answer."""

    @Request.application
    def app(request):
        body = request.get_data()
        raw_path = request.environ.get("RAW_URI", request.path).split("?")[0]
        recorder.requests.append(
            (request.method, raw_path, dict(request.args), dict(request.headers), body)
        )
        if request.path.startswith("/v1/pets/") and request.method == "GET":
            pet_id = raw_path.removeprefix("/v1/pets/")
            payload = {"id": pet_id, "name": "Rex", "verbose": request.args.get("verbose")}
            return Response(json.dumps(payload), content_type="application/json",
                            headers={"X-Request-Id": "pet-1"})  # fmt: skip
        if request.path == "/v1/pets" and request.method == "POST":
            return Response(body, status=201, content_type="application/json")
        if request.path == "/v1/redirect":
            return Response("", status=302, headers={"Location": f"{other_base}/steal"})
        if request.path == "/v1/big":
            return Response(b"x" * (3 * 1024 * 1024), content_type="text/plain")
        return Response("not found", status=404)

    return app


def start_http_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server
