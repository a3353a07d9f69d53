"""A realistic demo organisation for `make run`, screenshots and benchmarks.

Deterministic for a given seed: a few hub services everyone calls, layered callers, event fan-out
through topics, and data edges to shared stores and contracts.
"""

import random
from dataclasses import dataclass

from django.db import transaction

from .models import (
    Component,
    ComponentEnvironment,
    Dependency,
    Environment,
    Namespace,
    System,
    Team,
)

NAMESPACES = [
    "payments",
    "checkout",
    "catalog",
    "identity",
    "logistics",
    "search",
    "messaging",
    "analytics",
    "platform",
    "growth",
]
ENVIRONMENTS = [
    # name, order, is_production
    ("dev", 10, False),
    ("staging", 20, False),
    ("prod", 30, True),
]
WORDS = [
    "ledger",
    "invoice",
    "refund",
    "cart",
    "pricing",
    "tax",
    "orders",
    "fulfilment",
    "stock",
    "profile",
    "session",
    "token",
    "notify",
    "email",
    "sms",
    "push",
    "ranking",
    "index",
    "query",
    "events",
    "report",
    "billing",
    "fraud",
    "wallet",
    "coupon",
    "shipping",
    "tracking",
    "returns",
    "review",
    "media",
    "image",
    "feed",
    "recommend",
    "audit",
    "quota",
    "rates",
    "payout",
    "kyc",
]


@dataclass
class DemoSummary:
    namespaces: int
    teams: int
    components: int
    edges: int


def environments_ensure() -> list[Environment]:
    envs = []
    for name, order, is_production in ENVIRONMENTS:
        env, _ = Environment.objects.get_or_create(
            name=name,
            defaults={
                "title": name.capitalize(),
                "order": order,
                "is_production": is_production,
                "kube_context": name,
                "kube_namespace": "default",
                "api_base_url": f"http://{{component}}.{name}.svc.local",
            },
        )
        envs.append(env)
    return envs


def demo_service_names(count: int) -> list[str]:
    """The names `build_demo_catalog` gives its first `count` services, without a database."""
    names = []
    for index in range(count):
        namespace = NAMESPACES[(index % (len(NAMESPACES) * 2)) // 2]
        names.append(f"{namespace}-{WORDS[index % len(WORDS)]}-{index}")
    return names


@transaction.atomic
def build_demo_catalog(*, services: int = 220, seed: int = 7) -> DemoSummary:
    """Create the demo organisation in an empty catalog."""
    rng = random.Random(seed)
    envs = environments_ensure()
    teams = Team.objects.bulk_create(
        [
            Team(
                name=f"team-{ns}-{i}",
                title=f"{ns.capitalize()} {i}",
                email=f"{ns}{i}@example.com",
                chat_channel=f"#{ns}-{i}",
            )
            for ns in NAMESPACES
            for i in (1, 2, 3)
        ][:25]
    )
    namespaces = Namespace.objects.bulk_create(
        [
            Namespace(
                name=ns,
                title=ns.capitalize(),
                description=f"The {ns} domain.",
                owner=teams[i % len(teams)],
            )
            for i, ns in enumerate(NAMESPACES)
        ]
    )
    systems = System.objects.bulk_create(
        [
            System(
                name=f"{ns.name}-{suffix}",
                namespace=ns,
                owner=ns.owner,
                description=f"{suffix.capitalize()} capabilities of {ns.name}.",
            )
            for ns in namespaces
            for suffix in ("core", "edge")
        ]
    )
    services_rows = []
    for index in range(services):
        system = systems[index % len(systems)]
        word = WORDS[index % len(WORDS)]
        name = f"{system.namespace.name}-{word}-{index}"
        team_choices = [t for t in teams if system.namespace.name in t.name] or teams
        services_rows.append(
            Component(
                name=name,
                kind=Component.Kind.SERVICE,
                spec_type="service",
                description=f"Handles {word} for {system.namespace.name}.",
                tier=1 if index < services // 10 else rng.choice([2, 3, 3, 4]),
                lifecycle=rng.choice(["production"] * 8 + ["experimental", "deprecated"]),
                owner=rng.choice(team_choices),
                system=system,
                namespace=system.namespace,
                repository=f"https://github.com/example/{name}",
                tags=[word, system.namespace.name],
                links=[
                    {
                        "title": "Dashboard",
                        "url": f"https://grafana.example.com/d/{name}",
                        "type": "dashboard",
                    },
                    {
                        "title": "Logs",
                        "url": f"https://logs.example.com/?service={name}",
                        "type": "logs",
                    },
                    {
                        "title": "Runbook",
                        "url": f"https://runbooks.example.com/{name}",
                        "type": "runbook",
                    },
                ],
            )
        )
    parents = Component.objects.bulk_create(services_rows)
    subs = []
    for parent in parents:
        for suffix, kind in rng.sample(
            [
                ("api", "api"),
                ("worker", "worker"),
                ("nightly-cron", "cron-job"),
                ("orders-consumer", "kafka-consumer"),
                ("contract", "data-contract"),
            ],
            k=rng.randint(1, 3),
        ):
            subs.append(
                Component(
                    name=f"{parent.name}-{suffix}",
                    kind=kind,
                    parent=parent,
                    owner=parent.owner,
                    system=parent.system,
                    namespace=parent.namespace,
                    tier=parent.tier,
                    lifecycle=parent.lifecycle,
                    description=f"{kind.replace('-', ' ').capitalize()} of {parent.name}.",
                )
            )
    Component.objects.bulk_create(subs)
    ComponentEnvironment.objects.bulk_create(
        [
            ComponentEnvironment(
                component=c,
                environment=e,
                kube_deployment=c.name,
                argocd_application=f"{c.name}-{e.name}",
            )
            for c in parents
            for e in envs
        ]
    )
    edges = _demo_edges(rng, parents)
    edges += _subcomponent_edges(rng, Component.objects.filter(parent__isnull=False), parents)
    Dependency.objects.bulk_create(edges, ignore_conflicts=True)
    return DemoSummary(len(namespaces), len(teams), len(parents) + len(subs), len(edges))


LAYERS = 5  # 0: edge and BFFs, 1-2: domain services, 3: core services, 4: platform hubs


def _demo_edges(rng: random.Random, services: list[Component]) -> list[Dependency]:
    """Layered callers over a few platform hubs, mostly within their own namespace.

    A service calls only deeper layers (so there are no cycles), usually in its own namespace,
    sometimes a core service of another namespace, and one or two platform hubs. Producers'
    topics fan out to consumers anywhere. About five edges per service.
    """
    count = len(services)
    hubs = services[-max(3, count // 60) :]
    layer_of = {
        s.pk: min(LAYERS - 2, (index * (LAYERS - 1)) // max(1, count - len(hubs)))
        for index, s in enumerate(services[: count - len(hubs)])
    }
    by_namespace_layer: dict[tuple[int | None, int], list[Component]] = {}
    core = []
    for service in services[: count - len(hubs)]:
        layer = layer_of[service.pk]
        by_namespace_layer.setdefault((service.namespace_id, layer), []).append(service)
        if layer == LAYERS - 2:
            core.append(service)
    edges: dict[tuple[int, int, str], Dependency] = {}

    def add(source, target, kind, topic=""):
        if source.pk != target.pk:
            edges.setdefault(
                (source.pk, target.pk, kind),
                Dependency(
                    source=source,
                    target=target,
                    kind=kind,
                    topic=topic,
                    criticality=rng.choice(["high", "medium", "medium", "low"]),
                ),
            )

    for service in services[: count - len(hubs)]:
        layer = layer_of[service.pk]
        deeper = [
            s
            for d in range(layer + 1, LAYERS - 1)
            for s in by_namespace_layer.get((service.namespace_id, d), [])
        ]
        for target in rng.sample(deeper, k=min(len(deeper), rng.randint(4, 9))):
            add(service, target, "sync")
        for target in rng.sample(core, k=min(len(core), rng.randint(1, 3))):
            add(service, target, "sync")
        for hub in rng.sample(hubs, k=min(len(hubs), rng.randint(1, 3))):
            add(service, hub, "sync")
        if deeper and rng.random() < 0.3:
            add(service, rng.choice(deeper), "data")
    for producer in services[::5]:
        # A producer's topic is read by consumers anywhere: they depend on the producer.
        topic = f"{producer.name}.events"
        for consumer in rng.sample(services, k=min(count, rng.randint(3, 10))):
            if layer_of.get(consumer.pk, LAYERS) < layer_of.get(producer.pk, LAYERS):
                add(consumer, producer, "event", topic)
    return list(edges.values())


def _subcomponent_edges(rng: random.Random, subs, services: list[Component]) -> list[Dependency]:
    """Workers and jobs call platform services; consumers read a topic; parents own contracts."""
    hubs = services[-max(3, len(services) // 60) :]
    producers = services[::5]
    edges = []
    for sub in subs.only("id", "kind", "parent_id"):
        if sub.kind in ("worker", "cron-job"):
            for hub in rng.sample(hubs, k=min(len(hubs), rng.randint(1, 2))):
                edges.append(Dependency(source=sub, target=hub, kind="sync"))
        elif sub.kind == "kafka-consumer":
            producer = rng.choice(producers)
            if producer.pk != sub.parent_id:
                edges.append(
                    Dependency(
                        source=sub, target=producer, kind="event", topic=f"{producer.name}.events"
                    )
                )
        elif sub.kind == "data-contract":
            edges.append(Dependency(source_id=sub.parent_id, target=sub, kind="data"))
    return edges
