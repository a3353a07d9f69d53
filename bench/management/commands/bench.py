import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from bench import releases as bench_releases
from bench.figures import Figure, combine, format_table, measure, page_getter
from bench.trains import trains_bench
from catalog.demo import build_demo_catalog
from catalog.models import Component, Namespace
from catalog.selectors import blast_radius

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
PARTS = ("catalog", "import", "release", "load", "poll", "train")
BACKSTAGE_INGEST = "121–143 s"


class Command(BaseCommand):
    help = (
        "Benchmark the catalog at 2,000 and 20,000 components on PostgreSQL, the Backstage "
        "import, the release status fragment, status polling under load and one poll sweep "
        "(wipes the catalog of the configured database: point DATABASE_URL at a scratch "
        "database, as `make bench` does)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scales", default="2000,20000", help="component counts to seed")
        parser.add_argument("--repeat", type=int, default=40, help="requests per figure")
        parser.add_argument("--runs", type=int, default=3, help="measurement passes (median)")
        parser.add_argument("--only", default=",".join(PARTS), help=f"some of {PARTS}")
        parser.add_argument("--load-rate", type=int, default=250, help="requests/s offered")
        parser.add_argument("--load-seconds", type=int, default=20)
        parser.add_argument(
            "--load-workers", type=int, default=3, help="gunicorn sync workers (wrk shares the box)"
        )
        parser.add_argument("--allow-sqlite", action="store_true")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                "make bench measures PostgreSQL: set DATABASE_URL=postgres://... "
                "(or pass --allow-sqlite for a rough local run)"
            )
        parts = {p.strip() for p in options["only"].split(",") if p.strip()}
        if unknown := parts - set(PARTS):
            raise CommandError(f"unknown --only parts: {', '.join(sorted(unknown))}")
        # Production-like: no query log on every cursor, no template debug information.
        settings.DEBUG = False
        self.repeat, self.runs = options["repeat"], max(1, options["runs"])
        figures: list[Figure] = []
        if "catalog" in parts:
            for scale in [int(s) for s in options["scales"].split(",")]:
                figures += self._bench_catalog(scale)
            self.stdout.write(format_table(figures))
        if "import" in parts:
            self._bench_import()
        label = ""
        if parts & {"release", "load", "poll", "train"} and (
            "import" in parts or "catalog" not in parts
        ):
            # Releases are measured on the demo organisation (the sandbox knows its services).
            label = self._seed(int(options["scales"].split(",")[-1]))
        if "release" in parts:
            self.stdout.write(format_table(self._bench_fragment()))
        if "load" in parts:
            self._bench_load(options)
        if "poll" in parts:
            self._bench_poll()
        if "train" in parts:
            # On the largest catalog: the one seeded last by the catalog part, or just above.
            figures = trains_bench(
                label=label or "largest scale", repeat=self.repeat, runs=self.runs
            )
            self.stdout.write(format_table(figures))

    # --- catalog pages ---------------------------------------------------------------------

    def _wipe(self) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # CASCADE also empties what points at components (releases, approvals, ...).
                cursor.execute(f"TRUNCATE {', '.join(CATALOG_TABLES)} RESTART IDENTITY CASCADE")
            else:
                for table in CATALOG_TABLES:
                    cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def _analyze(self) -> None:
        if connection.vendor == "postgresql":
            # As autovacuum leaves a settled table: statistics and the visibility map (which
            # index-only scans need).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")

    def _seed(self, scale: int) -> str:
        self._wipe()
        cache.clear()
        started = time.perf_counter()
        # About three components per service (the service and its subcomponents).
        summary = build_demo_catalog(services=max(10, scale // 3))
        self._analyze()
        label = f"{summary.components:,} components, {summary.edges:,} edges"
        self.stdout.write(f"seeded {label} in {time.perf_counter() - started:.1f} s")
        return label

    def _bench_catalog(self, scale: int) -> list[Figure]:
        label = self._seed(scale)
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
        hub_total = blast_radius(hubs[0], limit=None).total

        def cold(call):
            def run(index):
                cache.clear()
                return call(index)

            return run

        def typical_blast(index):
            return blast_radius(sample[index % len(sample)], limit=50)

        def hub_blast(index):
            return blast_radius(hubs[index % len(hubs)], limit=50)

        list_url = reverse("catalog:component_list")
        service_urls = [c.get_absolute_url() for c in sample]
        hub_urls = [c.get_absolute_url() for c in hubs]
        plan = [
            ("catalog list, first page", page_getter(client, [list_url]), "", "p50 ≤ 25"),
            (
                "catalog list, search + filter",
                page_getter(
                    client,
                    [
                        f"{list_url}?q={c.name.split('-')[1]}&owner={o}"
                        for c, o in zip(sample, owners * 50, strict=False)
                    ],
                ),
                "",
                "",
            ),
            (
                "catalog list, search only",
                page_getter(client, [f"{list_url}?q={c.name.split('-')[1]}" for c in sample]),
                "",
                "",
            ),
            (
                "namespace page",
                page_getter(client, [ns.get_absolute_url() for ns in namespaces]),
                "first 25 components per system",
                "",
            ),
            (
                "service page",
                cold(page_getter(client, service_urls)),
                "typical service, blast radius not cached",
                "p50 ≤ 40",
            ),
            (
                "service page, hub",
                cold(page_getter(client, hub_urls)),
                f"{hub_total:,} affected, blast radius not cached",
                "p50 ≤ 40",
            ),
            (
                "service page, hub (cached)",
                page_getter(client, hub_urls),
                "blast radius cached for this catalog version",
                "p50 ≤ 40",
            ),
            (
                "graph fragment (JSON, depth 2)",
                page_getter(
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
                "",
                "",
            ),
            (
                "blast radius, typical",
                cold(typical_blast),
                "version + one walk, not cached",
                "p50 ≤ 20",
            ),
            (
                "blast radius, hub",
                cold(hub_blast),
                f"worst case: {hub_total:,} affected; version + one walk, not cached",
                "p50 ≤ 20",
            ),
            ("blast radius, hub (cached)", hub_blast, "version + cache hit", "p50 ≤ 20"),
        ]
        figures = []
        for name, call, note, target in plan:
            runs = [
                measure(
                    scale=label,
                    name=name,
                    call=call,
                    repeat=self.repeat,
                    note=note,
                    target=target,
                )
                for _ in range(self.runs)
            ]
            figures.append(combine(runs))
        return figures

    def _client(self) -> Client:
        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(user)
        return client

    # --- Backstage import -------------------------------------------------------------------

    def _bench_import(self) -> None:
        from catalog.backstage.importer import catalog_import

        generator = Path(settings.BASE_DIR).parent / "shared" / "bench" / "gen_backstage_catalog.py"
        if not generator.is_file():
            self.stdout.write(
                f"Backstage import: skipped ({generator} is absent: the comparison needs the "
                "shared benchmark data)"
            )
            return
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [sys.executable, str(generator), "--n", "10000", "--out", tmp],
                check=True,
                capture_output=True,
            )
            root = Path(tmp) / "all.yaml"
            self._wipe()
            cache.clear()
            rows = []
            for run in ("first run, empty catalog", "re-run, nothing changed"):
                started = time.perf_counter()
                report = catalog_import(paths=[str(root)], actor_label="make bench")
                seconds = time.perf_counter() - started
                if report.errors:
                    raise CommandError(f"import failed: {report.errors[:3]}")
                target = 15 if run.startswith("first") else 5
                counts = report.counts()
                rows.append(
                    f"| {run} | {seconds:.1f} | {target} | "
                    f"{'met' if seconds <= target else 'NOT met'} ({seconds / target:.2f}×) "
                    f"| {counts['created']:,} / {counts['updated']:,} / {counts['unchanged']:,} "
                    f"| {BACKSTAGE_INGEST} |"
                )
                self._analyze()
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "| Backstage import, 14,203 entities (N = 10,000) | seconds | target s "
                    "| verdict | created / updated / unchanged | Backstage ingest |",
                    "|---|---:|---:|---|---|---|",
                    *rows,
                ]
            )
        )

    # --- Releases ---------------------------------------------------------------------------

    def _releases(self, count_components: int = 40):
        from deployments.models import Release

        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        Release.objects.all().delete()
        components = list(
            Component.objects.filter(parent__isnull=True).order_by("pk")[:count_components]
        )
        return bench_releases.releases_seed(components=components, user=user), user

    def _bench_fragment(self) -> list[Figure]:
        releases, _ = self._releases()
        client = self._client()
        urls = [r.get_absolute_url() for r in releases[:50]]
        label = f"{Component.objects.count():,} components, {len(releases)} active releases"
        figure = combine(
            [
                measure(
                    scale=label,
                    name="release status fragment (htmx)",
                    call=page_getter(client, urls, HTTP_HX_REQUEST="true"),
                    repeat=self.repeat * 2,
                    note="≤ 2 queries wanted",
                    target="p50 ≤ 5",
                )
                for _ in range(self.runs)
            ]
        )
        queries = bench_releases.fragment_queries(client, releases[0])
        self.stdout.write("\nrelease status fragment, queries of one request:")
        for sql in queries:
            self.stdout.write(f"  - {sql[:160]}")
        return [figure]

    def _bench_load(self, options) -> None:
        releases, user = self._releases()
        client = self._client()
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        result = bench_releases.load_test(
            paths=[r.get_absolute_url() for r in releases[:50]],
            session_key=session_key,
            rate=options["load_rate"],
            seconds=options["load_seconds"],
            workers=options["load_workers"],
        )
        if isinstance(result, str):
            self.stdout.write(f"\nstatus polling load test: {result}")
            return
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "| status polling load test | offered | achieved req/s | requests | p50 ms "
                    "| p95 ms | p99 ms | errors | non-2xx | verdict (p95 < 100 ms, 0 errors) |",
                    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
                    f"| gunicorn {result.workers} sync workers, {result.tool} "
                    f"| {result.rate}/s × {result.seconds} s | {result.achieved_rps:.0f} "
                    f"| {result.requests:,} | {result.p50_ms:.1f} | {result.p95_ms:.1f} "
                    f"| {result.p99_ms:.1f} | {result.errors} | {result.non_2xx} "
                    f"| {'met' if result.met else 'NOT met'} |",
                ]
            )
        )

    def _bench_poll(self) -> None:
        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        result = bench_releases.poll_sweep(user=user, count=500)
        if isinstance(result, str):
            self.stdout.write(f"\npoll sweep: {result}")
            return
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "| one worker, one poll sweep | releases | claim ms | sweep s | ms/release "
                    "| Argo CD GETs alone s | queries/release | verdict (every 5 s) |",
                    "|---|---:|---:|---:|---:|---:|---:|---|",
                    "| releases_due + releases_sweep (beat tick), sandbox Argo CD process "
                    f"| {result.claimed} "
                    f"| {result.claim_ms:.0f} | {result.sweep_s:.2f} "
                    f"| {result.per_release_ms:.1f} | {result.http_only_s:.2f} "
                    f"| {result.queries_per_release:.1f} "
                    f"| {'met' if result.sweep_s <= 5 else 'NOT met'} "
                    f"({result.sweep_s / 5:.2f}× of 5 s) |",
                    f"states after the sweep: {result.states}",
                ]
            )
        )
