import random
import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from catalog.demo import build_demo_catalog
from catalog.models import Component, Namespace
from catalog.selectors import blast_radius
from portal.bench import Figure, format_table, measure, page_getter

CATALOG_TABLES = [
    "catalog_apirelation",
    "catalog_dependency",
    "catalog_componentenvironment",
    "catalog_component",
    "catalog_system",
    "catalog_namespace",
    "catalog_person_teams",
    "catalog_person",
    "catalog_team",
]


class Command(BaseCommand):
    help = (
        "Benchmark the catalog at 2,000 and 20,000 components on PostgreSQL (wipes the catalog of "
        "the configured database: point DATABASE_URL at a scratch database, as `make bench` does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scales", default="2000,20000", help="component counts to seed")
        parser.add_argument("--repeat", type=int, default=40)
        parser.add_argument("--allow-sqlite", action="store_true")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                "make bench measures PostgreSQL: set DATABASE_URL=postgres://... "
                "(or pass --allow-sqlite for a rough local run)"
            )
        figures: list[Figure] = []
        for scale in [int(s) for s in options["scales"].split(",")]:
            figures += self._bench_catalog(scale, options["repeat"])
        self.stdout.write(format_table(figures))

    def _wipe(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"TRUNCATE {', '.join(CATALOG_TABLES)} RESTART IDENTITY CASCADE")
            else:
                for table in CATALOG_TABLES:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def _analyze(self) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    def _bench_catalog(self, scale: int, repeat: int) -> list[Figure]:
        self._wipe()
        started = time.perf_counter()
        # About three components per service (the service and its subcomponents).
        summary = build_demo_catalog(services=max(10, scale // 3))
        self._analyze()
        label = f"{summary.components:,} components, {summary.edges:,} edges"
        self.stdout.write(f"seeded {label} in {time.perf_counter() - started:.1f} s")
        client = self._client()
        rng = random.Random(1)
        top = list(Component.objects.filter(parent__isnull=True).order_by("?")[:200])
        sample = rng.sample(top, k=min(50, len(top)))
        namespaces = list(Namespace.objects.all())
        owners = list({c.owner_id for c in sample if c.owner_id})
        # The most depended-on services: everybody calls them, so their blast radius is largest.
        hubs = list(
            Component.objects.filter(parent__isnull=True)
            .annotate(n=Count("dependents"))
            .order_by("-n")[:5]
        )
        figures = [
            measure(
                scale=label,
                name="catalog list, first page",
                call=page_getter(client, [reverse("catalog:component_list")]),
                repeat=repeat,
            ),
            measure(
                scale=label,
                name="catalog list, search + filter",
                call=page_getter(
                    client,
                    [
                        f"{reverse('catalog:component_list')}?q={c.name.split('-')[1]}&owner={o}"
                        for c, o in zip(sample, owners * 50, strict=False)
                    ],
                ),
                repeat=repeat,
            ),
            measure(
                scale=label,
                name="namespace page",
                call=page_getter(client, [ns.get_absolute_url() for ns in namespaces]),
                repeat=repeat,
            ),
            measure(
                scale=label,
                name="service page",
                call=page_getter(client, [c.get_absolute_url() for c in sample]),
                repeat=repeat,
            ),
            measure(
                scale=label,
                name="graph fragment (JSON, depth 2)",
                call=page_getter(
                    client,
                    [
                        reverse(
                            "catalog:component_graph",
                            args=[c.metadata_namespace, "component", c.name],
                        )
                        + "?depth=2"
                        for c in sample
                    ],
                ),
                repeat=repeat,
            ),
            measure(
                scale=label,
                name="transitive blast radius",
                call=lambda i: blast_radius(sample[i % len(sample)]),
                repeat=repeat,
                note="one query, typical service",
            ),
            measure(
                scale=label,
                name="transitive blast radius, hub",
                call=lambda i: blast_radius(hubs[i % len(hubs)]),
                repeat=repeat,
                note=f"worst case: {blast_radius(hubs[0]).total:,} affected",
            ),
        ]
        return figures

    def _client(self) -> Client:
        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        return client
