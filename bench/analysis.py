"""`make bench`, analysis part: one worker evaluates the analysis of 500 active canaries.

Seeds paused canary releases in environments with an analysis policy, opens their steps a
minute ago (all due), then times one whole `analysis_tick` against the Prometheus sandbox in a
process of its own, counting its database and Prometheus queries. Target: within one 5 s tick.
"""

import logging
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Component, Environment
from deployments.models import AnalysisPolicy, AnalysisStep, AnalysisVerdict, Release

from .releases import _sandbox_process


@dataclass(frozen=True)
class AnalysisResult:
    canaries: int
    claimed: int
    sweep_s: float
    per_canary_ms: float
    db_queries: int
    http_queries: int
    verdicts: dict


def _seed(components: list[Component], count: int, user, loki: bool) -> list[Release]:
    envs = list(Environment.objects.order_by("order", "name"))
    for env in envs:
        AnalysisPolicy.objects.update_or_create(
            environment=env,
            defaults={
                "min_requests": 1,
                "soak_seconds": 3600,
                "max_p99_latency_ms": 900,
                "max_error_log_lines_per_minute": 50 if loki else None,
            },
        )
    releases = [
        Release(
            component=component,
            environment=env,
            version="v2.0.0",
            previous_version="v1.9.0",
            strategy=Release.Strategy.CANARY,
            canary_steps=[5, 25, 50, 100],
            state=Release.State.PAUSED,
            requested_by=user,
            current_step=0,
            set_weight=5,
            actual_weight=5,
        )
        for component in components
        for env in envs
    ][:count]
    return Release.objects.bulk_create(releases)


def analysis_sweep_bench(*, user, count: int = 500, loki: bool = False) -> AnalysisResult | str:
    """One whole analysis tick as beat runs it (`analysis_tick`: open steps, retry aborts,
    claim the due steps, evaluate them) over `count` canaries whose evaluation is due; with
    `loki`, the policies also count error log lines (Loki and Kubernetes sandboxes too)."""
    from deployments.analysis import tasks
    from integrations.prometheus import HttpPrometheusClient

    envs = Environment.objects.count()
    components = list(Component.objects.filter(parent__isnull=True)[: -(-count // max(1, envs))])
    if not envs or len(components) * envs < count:
        return f"skipped: {len(components)} components × {envs} environments < {count}"
    Release.objects.all().delete()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    asked = []
    original = HttpPrometheusClient._query

    def counted(self, path, params, doing):
        asked.append(path)
        return original(self, path, params, doing)

    with tempfile.TemporaryDirectory() as tmp:
        names = ["github", "argocd", "prometheus"] + (["kubernetes", "loki"] if loki else [])
        running = _sandbox_process(Path(tmp), names=names)
        saved = getattr(settings, "INTEGRATION_URLS", {})
        try:
            settings.INTEGRATION_URLS = dict(running.endpoints)
            HttpPrometheusClient._query = counted
            _seed(components, count, user, loki)
            from deployments.analysis import services

            services.analysis_steps_open(now=timezone.now() - timedelta(seconds=60))
            due = AnalysisStep.objects.filter(next_evaluation_at__lte=timezone.now()).count()
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                evaluated = tasks.analysis_tick()
                sweep = time.perf_counter() - started
            verdicts = dict(
                AnalysisVerdict.objects.order_by().values_list("verdict").annotate(n=Count("pk"))
            )
        finally:
            HttpPrometheusClient._query = original
            settings.INTEGRATION_URLS = saved
            running.terminate()
            running.wait(timeout=30)
            AnalysisStep.objects.all().delete()
            Release.objects.all().delete()
    return AnalysisResult(
        canaries=due,
        claimed=evaluated,
        sweep_s=sweep,
        per_canary_ms=1000 * sweep / max(1, evaluated),
        db_queries=len(ctx.captured_queries),
        http_queries=len(asked),
        verdicts=verdicts,
    )
