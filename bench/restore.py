"""`make bench`, restore part: time from the Restore click to healthy, in the sandbox world.

A sandbox process (GitHub, Argo CD, Kubernetes, Prometheus at the demo's own pace) runs one demo
service; each run releases a good version, starts a canary of a newer one, clicks Restore
(`release_restore`) and polls as beat does (every 2 s) until the restore is live and healthy.
Celery runs eagerly in this process, so the workflow dispatch and the Rollouts abort happen as
the worker would do them. Target: p95 <= 90 s.
"""

import logging
import statistics
import tempfile
import time
from pathlib import Path

from django.conf import settings

from catalog.models import Component, ComponentEnvironment, Environment, Team
from deployments.models import Release
from portal.models import TeamMembership

from .releases import _sandbox_process

ENVIRONMENT = "staging"
BEAT_SECONDS = 2.0


def _follow(release: Release, states: set[str], timeout: float = 300) -> Release:
    from deployments.releases.machine import release_poll_run

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        release_poll_run(release_id=release.pk)
        release.refresh_from_db()
        if release.state in states:
            return release
        time.sleep(BEAT_SECONDS)
    raise RuntimeError(f"{release} stayed {release.state} for {timeout} s")


def restore_bench(*, user, runs: int = 5) -> dict | str:
    from deployments.releases.restore import release_restore
    from deployments.releases.services import release_start
    from integrations.github import github_client
    from portal.celery import app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    saved = {k: getattr(settings, k, None) for k in ("INTEGRATION_URLS", "KUBECONFIG")}
    eager = app.conf.task_always_eager
    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        running = _sandbox_process(
            Path(tmp), names=["github", "argocd", "kubernetes", "prometheus"]
        )
        try:
            settings.INTEGRATION_URLS = dict(running.endpoints)
            settings.KUBECONFIG = str(Path(tmp) / "kubeconfig")
            app.conf.task_always_eager = True
            component, env = _world(user)
            repo = component.repository.removeprefix("https://github.com/")
            good, bad = [v.name for v in github_client().versions_list(repo)][1::-1]
            for _ in range(runs):
                _follow(_start(release_start, user, component, env, good, "rolling"), {"succeeded"})
                _follow(_start(release_start, user, component, env, bad, "canary"), {"paused"})
                restored = release_restore(
                    actor=user, component=component, environment=env, reason="bench"
                )
                restored = _follow(restored, {"succeeded", "failed", "aborted"})
                if restored.state != "succeeded":
                    return f"a restore ended {restored.state}: {restored.last_error}"
                timings.append(restored.seconds_to_healthy)
        finally:
            app.conf.task_always_eager = eager
            for key, value in saved.items():
                setattr(settings, key, value)
            running.terminate()
            running.wait(timeout=30)
    timings.sort()
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return {"runs": runs, "p50_s": statistics.median(timings), "p95_s": p95, "all": timings}


def _start(release_start, user, component, env, version, strategy) -> Release:
    return release_start(
        actor=user, component=component, environment=env, version=version, strategy=strategy
    )


def _world(user) -> tuple[Component, Environment]:
    """The first demo service and the staging environment, in the catalog and owned by `user`."""
    from catalog.demo import demo_service_names

    name = demo_service_names(1)[0]
    Release.objects.filter(component__name=name).delete()
    team, _ = Team.objects.get_or_create(name="bench-restore")
    component, _ = Component.objects.update_or_create(
        name=name,
        parent=None,
        defaults={"owner": team, "repository": f"https://github.com/example/{name}"},
    )
    env, _ = Environment.objects.get_or_create(
        name=ENVIRONMENT, defaults={"kube_context": ENVIRONMENT}
    )
    ComponentEnvironment.objects.update_or_create(
        component=component,
        environment=env,
        defaults={"kube_deployment": name, "argocd_application": f"{name}-{ENVIRONMENT}"},
    )
    # A member of the owning team may release it (superuser status grants nothing here).
    TeamMembership.objects.get_or_create(user=user, team=team)
    return component, env
