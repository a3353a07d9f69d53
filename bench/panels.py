"""`make bench`, panels part: server time of every lazy card of the approval and release pages
(the evidence beside the decision: logs, on-call, incidents, the incident gate, error rates...)
with the sandboxes answering, against the ≤ 50 ms budget of docs/benchmarks.md.

The sandbox servers (Kubernetes, Prometheus, Loki, PagerDuty) run in threads of this process,
as in the tests: a canary of `bench-ledger` 1.5.0 beside 1.4.0 in prod, a PagerDuty service
with someone on call, a dependent service with an open incident. Each fragment is fetched as
htmx does (HX-Request) by a member of the owning team, through the whole Django stack.
"""

import logging
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import timezone

from .figures import Figure, combine, measure, page_getter

BUDGET = "p50 ≤ 50"
NAME = "bench-ledger"


def panels_bench(*, repeat: int = 40, runs: int = 3) -> list[Figure]:
    from sandbox.runner import start_sandbox

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    keys = ("INTEGRATION_URLS", "SANDBOX_KUBERNETES_SEED", "PAGERDUTY_CA_BUNDLE",
            "PAGERDUTY_TOKEN", "PAGERDUTY_EVENTS_URL")  # fmt: skip
    saved = {key: getattr(settings, key, None) for key in keys}
    with tempfile.TemporaryDirectory() as tmp:
        settings.SANDBOX_KUBERNETES_SEED = False
        running = start_sandbox(
            directory=Path(tmp), names=["kubernetes", "prometheus", "loki", "pagerduty"]
        )
        try:
            _point_at(running, Path(tmp))
            approval, user = _world(running)
            return _measure_all(approval, user, repeat=repeat, runs=runs)
        finally:
            running.stop()
            for key, value in saved.items():
                setattr(settings, key, value)


def _point_at(running, directory: Path) -> None:
    from sandbox.tls import ca_path

    settings.INTEGRATION_URLS = dict(running.endpoints)
    settings.PAGERDUTY_TOKEN, settings.PAGERDUTY_EVENTS_URL = "switchyard-sandbox", ""
    settings.PAGERDUTY_CA_BUNDLE = str(ca_path(directory))


def _measure_all(approval, user, *, repeat: int, runs: int) -> list[Figure]:
    from portal.panels import APPROVAL, RELEASE, panels_for

    request = RequestFactory().get("/")
    request.user = user
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    urls = {}
    for page, subject in ((APPROVAL, approval), (RELEASE, approval.release)):
        for bound in panels_for(page, request, subject):
            if bound.lazy:
                urls.setdefault(bound.name, (page, bound.url))
    figures = []
    for name, (page, url) in sorted(urls.items()):
        get = page_getter(client, [url], HTTP_HX_REQUEST="true")
        passes = [
            measure(scale=f"{page} page", name=f"{name} fragment (htmx)", call=get,
                    repeat=repeat, target=BUDGET)
            for _ in range(runs)
        ]  # fmt: skip
        figures.append(combine(passes))
    return figures


def _world(running):
    """The canary in the cluster, its release and approval, PagerDuty's side, and a member of
    the owning team to read the cards."""
    from approvals.models import ApprovalRequest
    from catalog.models import Component, ComponentEnvironment, Dependency, Environment, Team
    from deployments.models import Release
    from portal.models import TeamMembership

    ApprovalRequest.objects.filter(component__name=NAME).delete()  # an earlier run's
    Release.objects.filter(component__name=NAME).delete()
    _cluster(running)
    services = _paging(running)
    team, _ = Team.objects.get_or_create(name="bench-panels")
    component, _ = Component.objects.update_or_create(
        name=NAME, parent=None, defaults={
            "owner": team, "annotations": {"pagerduty.com/service-id": services[NAME]}},
    )  # fmt: skip
    dependent, _ = Component.objects.update_or_create(
        name=f"{NAME}-shop", parent=None, defaults={
            "owner": team, "annotations": {"pagerduty.com/service-id": services["shop"]}},
    )  # fmt: skip
    Dependency.objects.get_or_create(source=dependent, target=component)
    prod, _ = Environment.objects.get_or_create(
        name="bench-prod", defaults={"is_production": True, "kube_context": "prod"}
    )
    ComponentEnvironment.objects.update_or_create(
        component=component, environment=prod,
        defaults={"kube_deployment": NAME, "log_selector":
                  f'cluster="prod", namespace="default", app=~"{NAME}(-canary)?"'},
    )  # fmt: skip
    release = Release.objects.create(
        component=component, environment=prod, version="1.5.0", previous_version="1.4.0",
        strategy="canary", state="paused", set_weight=5, canary_steps=[5, 25, 50, 100],
    )  # fmt: skip
    approval = ApprovalRequest.objects.create(
        component=component, environment=prod, release=release, rollout_phase="canary 5%",
        weight=5, requester_label="bench", from_version="1.4.0", to_version="1.5.0",
        expires_at=timezone.now() + timedelta(hours=1),
    )  # fmt: skip
    user, _ = get_user_model().objects.get_or_create(username="bench-panels-reader")
    TeamMembership.objects.get_or_create(user=user, team=team)
    return approval, user


def _cluster(running) -> None:
    from sandbox.kube_seed import service_add

    clusters = running.state.shared["kubernetes"]
    clusters.ready_delay = 0
    cluster = clusters.add("prod", namespace="default")
    service_add(cluster, "default", NAME, version="1.4.0", replicas=3)
    service_add(cluster, "default", f"{NAME}-canary", component=NAME, version="1.5.0",
                replicas=1)  # fmt: skip
    cluster.settle()
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 1200))
    with cluster.lock:
        for pod in cluster.store.list("pods"):
            pod["status"]["startTime"] = started
            cluster.store.update("pods", "default", pod["metadata"]["name"], pod,
                                 subresource="status", check_version=False)  # fmt: skip


def _paging(running) -> dict[str, str]:
    import ssl

    import pagerduty

    from sandbox.pagerduty import TOKEN
    from sandbox.tls import ca_path

    url = running.endpoints["pagerduty"]
    trust = ssl.create_default_context(cafile=ca_path(running.state.directory))
    rest = pagerduty.RestApiV2Client(TOKEN, base_url=url, verify=trust)
    alice = rest.rpost("users", json={"user": {"name": "Alice", "email": "alice@example.com"}})
    policy = rest.rpost("escalation_policies", json={"escalation_policy": {"name": "Bench"}})
    ids = {
        name: rest.rpost("services", json={"service": {"name": name, "escalation_policy": {
            "id": policy["id"], "type": "escalation_policy_reference"}}})["id"]
        for name in (NAME, "shop")
    }  # fmt: skip
    now = datetime.now(UTC)
    shift = {"escalation_policy_id": policy["id"], "user_id": alice["id"],
             "start": (now - timedelta(hours=1)).isoformat(),
             "end": (now + timedelta(hours=8)).isoformat()}  # fmt: skip
    import requests

    requests.post(f"{url}/sandbox/oncalls", json=shift, timeout=5, verify=str(ca_path(
        running.state.directory))).raise_for_status()  # fmt: skip
    sender = pagerduty.RestApiV2Client(TOKEN, base_url=url, verify=trust,
                                       default_from="alice@example.com")  # fmt: skip
    sender.rpost("incidents", json={"incident": {
        "type": "incident", "title": "shop checkout slow", "urgency": "low",
        "service": {"id": ids["shop"], "type": "service_reference"}}})  # fmt: skip
    return ids
