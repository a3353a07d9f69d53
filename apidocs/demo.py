"""The demo's published APIs and try-it policy, for `seed_demo` and the sandbox's demo servers.

The sources live next to this module (`apidocs/demo/`), written for the demo: a gRPC API of the
tour's service and an OpenAPI document of a checkout service. The sandbox serves both on
loopback; `seed_demo` points their staging addresses there and approves staging for try-it, so
a PM's first call gets an answer.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import transaction

from catalog.models import Component, ComponentEnvironment, Environment
from integrations.endpoints import sandbox_endpoints
from portal.audit import audit_record

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


def demo_apis_seed(*, grpc_address: str | None, http_address: str | None) -> list[ApiDefinition]:
    """Publish the demo APIs (v1, once), point their staging addresses at the sandbox's demo
    servers (`host:port`, when known: the sandbox points them itself when it starts) and approve
    staging for try-it by everyone, PMs included."""
    staging = Environment.objects.get(name="staging")
    TryItPolicy.objects.get_or_create(
        environment=staging,
        defaults={"enabled": True, "allow_viewers": True, "calls_per_minute": 30},
    )
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
        published.append(definition)
    demo_api_addresses_point(
        grpc_address=grpc_address, http_address=http_address, actor_label=SEED_LABEL
    )
    return published


def demo_api_addresses_point(
    *, grpc_address: str | None, http_address: str | None, actor_label: str
) -> int:
    """Point the demo APIs' staging addresses at `host:port` (None: leave that kind alone).

    The sandbox's demo servers listen on free ports, like every sandbox server, so the sandbox
    calls this each time it starts; only an address that changes is written, with an audit row
    (a machine identity: `actor_label`). Returns how many addresses changed."""
    # Plaintext gRPC is written http:// (the field is a URL; try-it reads the scheme as "no TLS").
    wanted = {"grpc": grpc_address, "http": http_address}
    changed = 0
    with transaction.atomic():
        for api in DEMO_APIS:
            if not wanted[api.scheme]:
                continue
            row = (
                ComponentEnvironment.objects.select_for_update()
                .filter(component__name=api.component, environment__name="staging")
                .select_related("component")
                .first()
            )
            url = f"http://{wanted[api.scheme]}"
            if row is None or row.api_base_url == url:
                continue
            before, row.api_base_url = row.api_base_url, url
            row.save(update_fields=["api_base_url"])
            audit_record(
                actor=None, actor_label=actor_label, action="catalog.api_address_point",
                target=row, component=row.component, environment="staging",
                before={"api_base_url": before}, after={"api_base_url": url},
                reason="the sandbox's demo API server listens there",
            )  # fmt: skip
            changed += 1
    return changed


def demo_api_addresses_configured() -> dict[str, str | None]:
    """Where the demo API servers are, as `host:port`: the settings when given, else what the
    running sandbox wrote to .sandbox/endpoints.json, else None (the sandbox says so on start)."""
    running = sandbox_endpoints()
    found = {}
    for kind, setting, name in (
        ("grpc", settings.SANDBOX_DEMO_GRPC_ADDRESS, "demo-grpc"),
        ("http", settings.SANDBOX_DEMO_HTTP_ADDRESS, "demo-http"),
    ):
        address = setting or running.get(name, "").removeprefix("http://")
        found[kind] = address if address and not address.endswith(":0") else None
    return found
