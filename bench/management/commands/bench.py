import os
import random
import statistics
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

from bench import peer as bench_peer
from bench import releases as bench_releases
from bench import shared
from bench.figures import Figure, combine, format_table, measure, page_getter
from bench.tour import tour_bench
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
PARTS = ("catalog", "shared", "release", "load", "poll", "analysis", "restore", "train", "dora",
         "panels", "tour")  # fmt: skip
ALIASES = {"import": "shared"}  # the import is measured on the shared catalog


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
        parser.add_argument(
            "--shared-sizes", default="10000,20000", help="N of the shared Backstage catalog"
        )
        parser.add_argument(
            "--peer",
            choices=["", "backstage"],
            default="",
            help="also run the real Backstage catalog backend (sandbox/backstage, `make "
            "backstage`) on the shared catalog and the same PostgreSQL, and print the "
            "side-by-side table",
        )
        parser.add_argument(
            "--dora-releases", type=int, default=10_000, help="ledger size of the dora part"
        )
        parser.add_argument("--allow-sqlite", action="store_true")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql" and not options["allow_sqlite"]:
            raise CommandError(
                "make bench measures PostgreSQL: set DATABASE_URL=postgres://... "
                "(or pass --allow-sqlite for a rough local run)"
            )
        parts = {ALIASES.get(p.strip(), p.strip()) for p in options["only"].split(",") if p.strip()}
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
        if "shared" in parts:
            for n in [int(s) for s in options["shared_sizes"].split(",")]:
                self._bench_shared(n, options["peer"])
        label = ""
        if parts & {"release", "load", "poll", "analysis", "train"} and (
            "shared" in parts or "catalog" not in parts
        ):
            # Releases are measured on the demo organisation (the sandbox knows its services).
            label = self._seed(int(options["scales"].split(",")[-1]))
        if "release" in parts:
            self.stdout.write(format_table(self._bench_fragment()))
        if "load" in parts:
            self._bench_load(options)
        if "poll" in parts:
            self._bench_poll()
        if "analysis" in parts:
            self._bench_analysis()
        if "restore" in parts:
            self._bench_restore()
        if "dora" in parts:
            self._bench_dora(options)
        if "panels" in parts:
            from bench.panels import panels_bench

            self.stdout.write(
                "\nEvidence cards of the approval and release pages (htmx fragments):"
            )
            self.stdout.write(format_table(panels_bench(repeat=self.repeat, runs=self.runs)))
        if "train" in parts:
            # On the largest catalog: the one seeded last by the catalog part, or just above.
            figures = trains_bench(
                label=label or "largest scale", repeat=self.repeat, runs=self.runs
            )
            self.stdout.write(format_table(figures))
        if "tour" in parts:
            # The demo as `make run` seeds it (its own catalog: after the other parts' wipes;
            # on SQLite, a fresh database: its foreign keys refuse the wipe).
            if connection.vendor == "postgresql":
                self._wipe()
            cache.clear()
            figures = tour_bench(repeat=self.repeat, runs=self.runs)
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

    # --- the shared Backstage catalog, beside the peer --------------------------------------

    def _bench_shared(self, n: int, peer: str) -> None:
        if shared.generator() is None:
            self.stdout.write("shared catalog: skipped (../shared/bench is absent; set SHARED_DIR)")
            return
        with shared.temporary_folder() as tmp:
            manifest = shared.generate(n, Path(tmp) / "catalog")
            root = Path(tmp) / "catalog" / "all.yaml"
            self.stdout.write(
                f"\nshared catalog N = {n:,}: {manifest['expected_total']:,} entities"
            )
            load_before = shared.load_average()
            say = self.stdout.write
            first, again, counts = shared.import_passes(root, self.runs, self._wipe, say, n=n)
            self._analyze()
            samples = shared.samples(manifest)
            client = self._client()
            rows, _ = shared.page_rows(client, samples, self.runs, self.repeat)
            exact = shared.exact_name_first(samples.names)
            session = client.cookies[settings.SESSION_COOKIE_NAME].value
            hub = samples.hub.get_absolute_url()
            # The hub's blast radius inline too: the worker then holds the graph in memory.
            paths = [reverse("catalog:component_list"), hub, f"{hub}?blast=1"]
            web, db = shared.web_memory_mb(session, paths), shared.database_mb()
            peer_web = peer_db = None
            if peer:
                peer_web, peer_db = self._peer(root, manifest, first, rows, samples, Path(tmp))
        rows = [first, again, *rows, *shared.memory_rows(web, db, peer_web, peer_db)]
        self.stdout.write(
            shared.format_rows(
                f"Shared catalog, N = {n:,} ({manifest['expected_total']:,} entities; "
                f"load average {load_before} before, {shared.load_average()} after)",
                rows,
            )
        )
        self.stdout.write(f"import: {counts}; exact name ranked first: {exact}")

    def _peer(self, root, manifest, first, rows, samples, tmp: Path):
        """Backstage ingests the same files `runs` times; the last run answers the pages."""
        bench_peer.peer_install()
        peer = bench_peer.BackstagePeer(
            catalog=root,
            database_url=shared.server_url(),
            workdir=tmp,
            expected_total=manifest["expected_total"],
            components=manifest["expected_counts"]["component"],
        )
        for run in range(self.runs):
            try:
                first.peer.append(peer.ingest())
                self.stdout.write(f"Backstage ingest {run + 1}: {first.peer[-1]:.1f} s")
                if run == self.runs - 1:
                    shared.peer_rows(peer, rows, samples, self.runs, self.repeat)
                    return peer.memory_mb(), shared.database_mb(peer.database)
            finally:
                peer.stop()
        return None, None

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
        results = []
        for _ in range(self.runs):
            result = bench_releases.poll_sweep(user=user, count=500)
            if isinstance(result, str):
                self.stdout.write(f"\npoll sweep: {result}")
                return
            results.append(result)
        lines = [
            "",
            "| one worker, one poll sweep (releases_due + releases_sweep, sandbox Argo CD "
            "process) | releases | claim ms | sweep s | ms/release | Argo CD 2 GETs each, alone s "
            "| queries/release |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for number, r in enumerate(results, 1):
            lines.append(
                f"| pass {number} | {r.claimed} | {r.claim_ms:.0f} | {r.sweep_s:.2f} "
                f"| {r.per_release_ms:.1f} | {r.http_only_s:.2f} | {r.queries_per_release:.1f} |"
            )
        sweep = statistics.median(r.sweep_s for r in results)
        lines += [
            f"sweep median {sweep:.2f} s over {len(results)} passes: "
            f"{'met' if sweep <= 5 else 'NOT met'} ({sweep / 5:.2f}× of 5 s); "
            f"load average {shared.load_average()}",
            f"states after the last sweep: {results[-1].states}",
        ]
        self.stdout.write("\n".join(lines))

    def _bench_dora(self, options) -> None:
        from bench.dora import cpu_ms_per_request, dora_bench

        if Component.objects.filter(parent__isnull=True, kind="service").count() < 100:
            self._seed(660)  # the demo organisation: 220 services
        load = os.getloadavg()[0]
        figures = dora_bench(
            client=self._client(), repeat=self.repeat, runs=self.runs,
            releases=options["dora_releases"],
        )  # fmt: skip
        self.stdout.write(
            f"\nDORA (load average {load:.2f} before, {os.getloadavg()[0]:.2f} after)"
        )
        self.stdout.write(format_table(figures))
        cpu = cpu_ms_per_request(self._client(), reverse("deployments:dora_organisation"))
        self.stdout.write(f"organisation page not cached, web process CPU (p50): {cpu:.1f} ms")

    def _bench_analysis(self) -> None:
        from bench.analysis import analysis_sweep_bench

        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        rows = []
        for loki in (False, True):
            result = analysis_sweep_bench(user=user, count=500, loki=loki)
            if isinstance(result, str):
                self.stdout.write(f"\nanalysis sweep: {result}")
                return
            met = "met" if result.sweep_s <= 5 else "NOT met"
            rows.append(
                f"| analysis_tick, sandbox process{' + Loki error lines' if loki else ''} "
                f"| {result.claimed} | {result.sweep_s:.2f} | {result.per_canary_ms:.1f} "
                f"| {result.db_queries} | {result.http_queries} "
                f"| {met} ({result.sweep_s / 5:.2f}× of 5 s) |"
            )
            rows.append(f"verdicts: {result.verdicts}")
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "| one worker, one analysis tick | canaries | tick s | ms/canary "
                    "| DB queries | Prometheus queries | target (5 s) |",
                    "|---|---:|---:|---:|---:|---:|---|",
                    *[row for row in rows if row.startswith("|")],
                    f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
                    *[row for row in rows if not row.startswith("|")],
                ]
            )
        )

    def _bench_restore(self) -> None:
        from bench.restore import restore_bench

        user, _ = get_user_model().objects.get_or_create(username="bench-user")
        result = restore_bench(user=user)
        if isinstance(result, str):
            self.stdout.write(f"\nrestore: {result}")
            return
        met = "met" if result["p95_s"] <= 90 else "NOT met"
        self.stdout.write(
            "\n| Restore, click to healthy (sandbox world, demo pace) | runs | p50 s | p95 s "
            "| target (p95 <= 90 s) |\n|---|---:|---:|---:|---|\n"
            f"| release_restore -> workflow -> GitOps -> Argo CD -> healthy | {result['runs']} "
            f"| {result['p50_s']} | {result['p95_s']} | {met} |\nall runs (s): {result['all']}"
        )
