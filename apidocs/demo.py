"""The demo's published APIs and try-it policy, for `seed_demo` and the sandbox's demo servers.

The sources live next to this module (`apidocs/demo/`), written for the demo: a gRPC API of the
tour's service and an OpenAPI document of a checkout service. The sandbox serves both on
loopback; `seed_demo` points their staging addresses there and approves staging for try-it, so
a PM's first call gets an answer.
"""

from dataclasses import dataclass
from pathlib import Path

from catalog.models import Component, ComponentEnvironment, Environment

from .models import ApiDefinition, TryItPolicy
from .services import api_definition_get_or_create, api_version_create

DEMO_DIR = Path(__file__).resolve().parent / "demo"
SEED_LABEL = "seed_demo"


@dataclass(frozen=True)
class DemoApi:
    component: str
    name: str
    kind: str
    files: tuple[str, ...]  # paths below DEMO_DIR, kept as the version's import paths
    scheme: str  # of the staging address: grpc or http

    def read(self) -> dict[str, str]:
        return {path: (DEMO_DIR / path).read_text() for path in self.files}


DEMO_APIS = [
    DemoApi(
        "payments-fulfilment-121", "fulfilment", ApiDefinition.Kind.PROTOBUF,
        ("fulfilment/v1/fulfilment.proto",), "grpc",
    ),
    DemoApi(
        "checkout-cart-3", "cart", ApiDefinition.Kind.OPENAPI, ("cart-openapi.yaml",), "http",
    ),
]  # fmt: skip


def demo_proto_files() -> dict[str, str]:
    """Every demo .proto (import path -> text): what the sandbox's gRPC server implements."""
    return {p: t for api in DEMO_APIS if api.scheme == "grpc" for p, t in api.read().items()}


def demo_openapi_text() -> str:
    return next(iter(next(a for a in DEMO_APIS if a.scheme == "http").read().values()))


def demo_apis_seed(*, grpc_address: str, http_address: str) -> list[ApiDefinition]:
    """Publish the demo APIs (v1, once), point their staging addresses at the sandbox's demo
    servers (`host:port`) and approve staging for try-it by everyone, PMs included."""
    staging = Environment.objects.get(name="staging")
    TryItPolicy.objects.get_or_create(
        environment=staging,
        defaults={"enabled": True, "allow_viewers": True, "calls_per_minute": 30},
    )
    # Plaintext gRPC is written http:// (the field is a URL; try-it reads the scheme as "no TLS").
    addresses = {"grpc": f"http://{grpc_address}", "http": f"http://{http_address}"}
    published = []
    for api in DEMO_APIS:
        component = Component.objects.filter(name=api.component).first()
        if component is None:
            continue  # a smaller demo (--services) has no such service
        definition = api_definition_get_or_create(
            actor=None, component=component, name=api.name, kind=api.kind, actor_label=SEED_LABEL
        )
        if not definition.versions.exists():
            api_version_create(
                actor=None, api=definition, files=api.read(), source="command",
                comment="Published by seed_demo", actor_label=SEED_LABEL,
            )  # fmt: skip
        ComponentEnvironment.objects.filter(component=component, environment=staging).update(
            api_base_url=addresses[api.scheme]
        )
        published.append(definition)
    return published
