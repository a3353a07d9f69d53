"""`make bench`, dora part: the DORA pages over 10,000 production releases.

Seeds the release ledger (`deployments.dora.history`, 12 weeks, aborts, rollbacks, incidents)
over the demo catalog's services, then measures the organisation page (target p50 <= 100 ms),
its CSV, a team's and a namespace's page and the service card, in-process like the other page
figures.
"""

import statistics
import time

from django.core.cache import cache
from django.db import connection
from django.urls import reverse

from catalog.models import Component, Environment, Namespace, Team
from deployments.dora.history import HistoryPlan, release_history_seed
from deployments.models import Release

from .figures import Figure, combine, measure, page_getter

WEEKS = 12


def _ledger_wipe() -> None:
    tables = "deployments_cdeventdelivery, deployments_cdevent, deployments_releaseevent, "
    tables += "deployments_release, oncall_incident"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        else:
            for table in tables.split(", "):
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names


def dora_seed(releases: int) -> str:
    services = list(Component.objects.filter(parent__isnull=True, kind="service"))
    prod = Environment.objects.get(name="prod")
    _ledger_wipe()
    plan = HistoryPlan(weeks=WEEKS, per_week=releases / (len(services) * WEEKS))
    seeded = release_history_seed(components=services, environment=prod, plan=plan)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE deployments_release")
            cursor.execute("VACUUM ANALYZE oncall_incident")
    total = Release.objects.filter(environment=prod).count()
    return (
        f"{total:,} production releases, {len(services)} services, {seeded['incidents']} incidents"
    )


def dora_bench(*, client, repeat: int, runs: int, releases: int = 10_000) -> list[Figure]:
    label = dora_seed(releases)
    teams = list(Team.objects.all()[:20])
    namespaces = list(Namespace.objects.all())
    services = list(Component.objects.filter(parent__isnull=True, kind="service")[:50])
    org = reverse("deployments:dora_organisation")
    plan = [
        ("DORA, organisation page, not cached", [org], "12 weeks, four SVG charts", "p50 ≤ 100"),
        ("DORA, organisation page, cached", [org], "ledger unchanged since", "p50 ≤ 100"),
        ("DORA, organisation CSV, not cached", [reverse("deployments:dora_organisation_csv")],
         "", ""),
        ("DORA, organisation page, 52 weeks, not cached", [org + "?weeks=52"], "", ""),
        (
            "DORA, team page, not cached",
            [reverse("deployments:dora_team", args=[t.metadata_namespace, t.name]) for t in teams],
            "20 teams",
            "",
        ),
        (
            "DORA, namespace page, not cached",
            [reverse("deployments:dora_namespace", args=[n.metadata_namespace, n.name])
             for n in namespaces],
            "",
            "",
        ),
        (
            "DORA, service card (htmx), not cached",
            [reverse("deployments:panel_delivery", args=[c.pk]) for c in services],
            "",
            "",
        ),
    ]  # fmt: skip
    figures = []
    for name, urls, note, target in plan:
        headers = {"HTTP_HX_REQUEST": "true"} if "card" in name else {}
        get = page_getter(client, urls, **headers)
        call = _cold(get) if "not cached" in name else get
        passes = [
            measure(scale=label, name=name, call=call, repeat=repeat, note=note, target=target)
            for _ in range(runs)
        ]
        figures.append(combine(passes))
    return figures


def _cold(get):
    def run(index):
        cache.clear()  # the session is read from the database again too, as on a first visit
        return get(index)

    return run


def cpu_ms_per_request(client, url: str, repeat: int = 20) -> float:
    """The web process's own CPU time per request, not cached (p50): what the page costs
    whatever else the machine runs (the database's share is not in it)."""
    client.get(url)
    spent = []
    for _ in range(repeat):
        cache.clear()
        started = time.process_time()
        client.get(url)
        spent.append((time.process_time() - started) * 1000)
    return statistics.median(spent)
