"""`make bench`, shared part: the shared Backstage catalog, imported and browsed, beside the peer.

The catalog is `../shared/bench/gen_backstage_catalog.py --n N`, generated into a temporary
folder at bench time (never committed). For each N: the import (first, then unchanged), then the
pages people use most on what was imported, every figure in `runs` passes. With a peer, the real
Backstage catalog backend ingests the same files into the same PostgreSQL server and answers the
same questions over its REST API (see `bench.peer`).
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from bench.figures import measure, page_getter
from catalog.models import Component, Team
from catalog.selectors import blast_radius


def generator() -> Path | None:
    shared = Path(os.environ.get("SHARED_DIR") or Path(settings.BASE_DIR).parent / "shared")
    path = shared / "bench" / "gen_backstage_catalog.py"
    return path if path.is_file() else None


def generate(n: int, out: Path) -> dict:
    """Write the shared catalog of `n` components into `out`; its manifest."""
    subprocess.run(
        [sys.executable, str(generator()), "--n", str(n), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return json.loads((out / "manifest.json").read_text())


@dataclass
class Row:
    """One figure: every pass of ours and of the peer, the target and how the ratio reads."""

    name: str
    unit: str  # "ms", "s" or "MB"
    ours: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    target: str = ""
    # "x" targets compare the ratio peer ÷ ours (3 means "3× faster"); "<=" an absolute limit.
    ratio_at_least: float | None = None
    limit: float | None = None
    note: str = ""

    @staticmethod
    def med(values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    @property
    def ratio(self) -> float | None:
        ours, peer = self.med(self.ours), self.med(self.peer)
        return peer / ours if ours and peer else None

    def verdict(self) -> str:
        ours = self.med(self.ours)
        if ours is None:
            return ""
        checks = []
        if self.limit is not None:
            checks.append(ours <= self.limit)
        if self.ratio_at_least is not None:
            if self.ratio is None:
                return "peer not measured" if not checks else ("met" if all(checks) else "NOT met")
            checks.append(self.ratio >= self.ratio_at_least)
        if not checks:
            return ""
        return "met" if all(checks) else "NOT met"


def _fmt(values: list[float], unit: str) -> str:
    digits = 2 if unit == "s" else 1
    return ", ".join(f"{v:.{digits}f}" for v in values) if values else "—"


def format_rows(title: str, rows: list[Row]) -> str:
    lines = [
        "",
        f"### {title}",
        "",
        "| figure | unit | Switchyard passes | median | Backstage passes | median "
        "| ratio (Backstage ÷ ours) | target | verdict | note |",
        "|---|---|---|---:|---|---:|---:|---|---|---|",
    ]
    for r in rows:
        ours, peer, ratio = r.med(r.ours), r.med(r.peer), r.ratio
        digits = 2 if r.unit == "s" else 1
        lines.append(
            f"| {r.name} | {r.unit} | {_fmt(r.ours, r.unit)} "
            f"| {'—' if ours is None else f'{ours:.{digits}f}'} | {_fmt(r.peer, r.unit)} "
            f"| {'—' if peer is None else f'{peer:.{digits}f}'} "
            f"| {'—' if ratio is None else f'{ratio:.2f}×'} | {r.target} | {r.verdict()} "
            f"| {r.note} |"
        )
    return "\n".join(lines)


# --- ours ------------------------------------------------------------------------------------


# The import targets are for N = 10,000 "and no worse than linear to 20,000": at another
# N the absolute limits scale with it (10 s for a first import of N = 20,000).
TARGET_N = 10_000


def import_rows(n: int = TARGET_N) -> tuple[Row, Row]:
    """The first import's and the unchanged re-import's rows, with their targets at `n`."""
    scale = n / TARGET_N
    linear = "" if n == TARGET_N else f" (linear: × {scale:g} of N = {TARGET_N:,}'s)"
    first = Row("first import (empty catalog)", "s", target=f"≥ 25× and ≤ {5 * scale:g} s{linear}")
    first.ratio_at_least, first.limit = 25, 5 * scale
    again = Row("unchanged re-import", "s", target=f"≤ {1 * scale:g} s{linear}", limit=1 * scale)
    return first, again


def import_passes(
    root: Path, runs: int, wipe, say=print, *, n: int = TARGET_N
) -> tuple[Row, Row, str]:
    """`runs` × (wipe, first import, unchanged re-import); `say` reports each pass."""
    from catalog.backstage.importer import catalog_import

    first, again = import_rows(n)
    counts = ""
    for _ in range(runs):
        wipe()
        cache.clear()
        for row in (first, again):
            started = time.perf_counter()
            report = catalog_import(paths=[str(root)], actor_label="make bench")
            row.ours.append(time.perf_counter() - started)
            if report.errors:
                raise RuntimeError(f"import failed: {report.errors[:3]}")
            counts = counts or ", ".join(f"{k} {v:,}" for k, v in report.counts().items())
        say(f"import pass {len(first.ours)}: {first.ours[-1]:.2f} s, again {again.ours[-1]:.2f} s")
    return first, again, counts


@dataclass
class Samples:
    owners: list[str]
    words: list[str]
    names: list[str]
    hub: Component
    typical: list[Component]


def samples(manifest: dict) -> Samples:
    rng = random.Random(7)
    owners = list(
        Team.objects.annotate(n=Count("components")).filter(n__gt=0).values_list("name", flat=True)
    )
    names = rng.sample(manifest["components"], k=min(20, len(manifest["components"])))
    words = sorted({name.split("-")[0] for name in manifest["components"][:200]})[:20]
    hub = (
        Component.objects.filter(entity_kind="Component")
        .annotate(n=Count("dependents"))
        .order_by("-n")
        .first()
    )
    typical = list(Component.objects.filter(name__in=names))
    return Samples(rng.sample(owners, k=min(20, len(owners))), words, names, hub, typical)


def page_rows(client, s: Samples, runs: int, repeat: int) -> tuple[list[Row], dict]:
    """List, owner filter, full text, service page and blast radius, `runs` passes each."""
    url = reverse("catalog:component_list")

    def cold(call):
        def run(index):
            cache.clear()
            return call(index)

        return run

    def hub_blast(_index):
        return blast_radius(s.hub, limit=50)

    def all_dependents(_index):
        return blast_radius(s.hub, limit=None)

    plan = [
        (Row("list first page + facet counts (HTML)", "ms", target="≥ 3×", ratio_at_least=3),
         page_getter(client, [url])),
        (Row("owner filter", "ms", target="≤ peer", ratio_at_least=1),
         page_getter(client, [f"{url}?owner={o}" for o in s.owners])),
        (Row("full text, a word (e.g. “ledger”)", "ms", target="≥ 3×", ratio_at_least=3),
         page_getter(client, [f"{url}?q={w}" for w in s.words])),
        (Row("full text, an exact name", "ms", target="≥ 3×, exact name first",
             ratio_at_least=3), page_getter(client, [f"{url}?q={n}" for n in s.names])),
        (Row("service page, typical, not cached", "ms", target="≤ 40 ms", limit=40),
         cold(page_getter(client, [c.get_absolute_url() for c in s.typical]))),
        (Row("service page, the biggest hub, not cached", "ms", target="≤ 40 ms", limit=40),
         cold(page_getter(client, [s.hub.get_absolute_url()]))),
        (Row("hub blast radius (first 50 + totals), not cached", "ms", target="≤ 20 ms",
             limit=20), cold(hub_blast)),
        (Row("all transitive dependents of the hub", "ms", target="one request",
             ratio_at_least=1), all_dependents),
    ]  # fmt: skip
    queries = {}
    for row, call in plan:
        for _ in range(runs):
            figure = measure(scale="", name=row.name, call=call, repeat=repeat)
            row.ours.append(figure.p50_ms)
            queries[row.name] = figure.queries
        row.note = f"{queries[row.name]} queries"
    return [row for row, _ in plan], queries


def exact_name_first(names: list[str]) -> bool:
    """The list's first row for a search of an exact name is that component (as the page
    orders it)."""
    from catalog.facets import ComponentFilters, component_facets

    for name in names[:5]:
        rows = component_facets(ComponentFilters(q=name)).page(1).object_list
        if not rows or rows[0].name != name:
            return False
    return True


def web_memory_mb(session_key: str, paths: list[str]) -> float:
    """RSS of gunicorn (master + 1 sync worker) after serving `paths` a few times each (with the
    hub's blast radius among them, the worker holds the dependency graph of this version)."""
    from bench.peer import rss_mb
    from bench.releases import _free_port, _wait_for

    port = _free_port()
    log = tempfile.TemporaryFile()
    env = {**os.environ, "DEBUG": "0", "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    env["SECURE_SSL_REDIRECT"] = "0"
    env["SECRET_KEY"] = settings.SECRET_KEY
    # As in production: DEBUG off serves hashed static file names from the collected manifest.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=settings.BASE_DIR, env=env, check=True,
    )  # fmt: skip
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "portal.wsgi:application",
         f"--bind=127.0.0.1:{port}", "--workers=1", "--log-level=warning"],
        cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        _wait_for(port)
        with requests.Session() as http:
            http.cookies.set(settings.SESSION_COOKIE_NAME, session_key)
            for _ in range(5):
                for path in paths:
                    response = http.get(f"http://127.0.0.1:{port}{path}", timeout=60)
                    if response.status_code != 200:
                        log.seek(0)
                        raise RuntimeError(
                            f"gunicorn answered {path} with {response.status_code}:\n"
                            + log.read().decode(errors="replace")[-3000:]
                        )
        return rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)


def database_mb(name: str | None = None) -> float:
    with connection.cursor() as cursor:
        if name:
            cursor.execute("SELECT pg_database_size(%s)", [name])
        else:
            cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0] / 2**20


def queries_of(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        client.get(path)
    return len(ctx.captured_queries)


def server_url() -> str:
    """The bench database's PostgreSQL server as a URL (the peer gets a database of its own)."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def load_average() -> str:
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def temporary_folder():
    return tempfile.TemporaryDirectory(prefix="switchyard-bench-")


# --- the peer ----------------------------------------------------------------------------------


def peer_rows(peer, rows: list[Row], s: Samples, runs: int, repeat: int) -> None:
    """The same questions to a running, fully ingested Backstage peer."""
    by_name = {row.name: row for row in rows}
    calls = {
        "list first page + facet counts (HTML)": peer.list_and_facets,
        "owner filter": peer.owner_filter(s.owners),
        "full text, a word (e.g. “ledger”)": peer.full_text(s.words),
        "full text, an exact name": peer.full_text(s.names),
        "all transitive dependents of the hub": lambda _i: peer.dependents(s.hub.name),
    }
    for name, call in calls.items():
        for _ in range(runs):
            figure = measure(scale="", name=name, call=call, repeat=repeat)
            by_name[name].peer.append(figure.p50_ms)
    found, hops = peer.dependents(s.hub.name)
    row = by_name["all transitive dependents of the hub"]
    row.note += f"; Backstage: {found:,} found in {hops} requests (one per hop and 500 refs)"
    lists = by_name["list first page + facet counts (HTML)"]
    lists.note += "; Backstage: list + facets, two JSON calls"


def memory_rows(web: float, db: float, peer_web: float | None, peer_db: float | None) -> list[Row]:
    both = Row(
        "web tier + database", "MB", [web + db], [peer_web + peer_db] if peer_web else [],
        target="≤ peer", ratio_at_least=1,
        note="RSS of gunicorn (1 worker, graph in memory) / node after the pages "
        "+ pg_database_size",
    )  # fmt: skip
    return [
        Row("web tier RSS", "MB", [web], [peer_web] if peer_web else []),
        Row("database size", "MB", [db], [peer_db] if peer_db else []),
        both,
    ]
