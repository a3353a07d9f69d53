"""`make bench`, panels part: server time of every lazy card of the approval and release pages
(the evidence beside the decision: logs, on-call, incidents, the incident gate, error rates...)
with the sandboxes answering, against the ≤ 50 ms budget of docs/benchmarks.md.

The sandbox servers (Kubernetes, Prometheus, Loki, PagerDuty) run in a `manage.py sandbox`
child process, seeded from the catalog: `bench-ledger` 1.4.0 and its canary 1.5.0 in
`bench-prod`, a PagerDuty service with someone on call, a dependent service with an open
incident. Each fragment is fetched as
htmx does (HX-Request) by a member of the owning team, through the whole Django stack.
"""

import logging
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pagerduty
import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.utils import timezone

from .figures import Figure, combine, measure, page_getter

BUDGET = "p50 ≤ 50"
NAME = "bench-ledger"
PD_TOKEN = "switchyard-sandbox"  # what the PagerDuty sandbox accepts


def panels_bench(*, repeat: int = 40, runs: int = 3) -> list[Figure]:
    from .releases import _sandbox_process

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    keys = ("INTEGRATION_URLS", "PAGERDUTY_CA_BUNDLE", "PAGERDUTY_TOKEN", "PAGERDUTY_EVENTS_URL")
    saved = {key: getattr(settings, key, None) for key in keys}
    with tempfile.TemporaryDirectory() as tmp:
        approval, user = _catalog()  # before the sandbox starts: it seeds its clusters from it
        running = _sandbox_process(
            Path(tmp), names=["kubernetes", "prometheus", "loki", "pagerduty"]
        )
        try:
            settings.INTEGRATION_URLS = dict(running.endpoints)
            settings.PAGERDUTY_TOKEN, settings.PAGERDUTY_EVENTS_URL = PD_TOKEN, ""
            settings.PAGERDUTY_CA_BUNDLE = str(Path(tmp) / "tls" / "sandbox-ca.pem")
            _paging(running.endpoints["pagerduty"], approval)
            return _measure_all(approval, user, repeat=repeat, runs=runs)
        finally:
            running.terminate()
            running.wait(timeout=30)
            for key, value in saved.items():
                setattr(settings, key, value)


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


def _catalog():
    """bench-ledger 1.4.0 and its canary 1.5.0 in bench-prod (as the Kubernetes sandbox seeds
    them), a dependent service, the paused canary's release and approval, and a member of the
    owning team to read the cards."""
    from approvals.models import ApprovalRequest
    from catalog.models import Component, ComponentEnvironment, Dependency, Environment, Team
    from deployments.models import Release
    from portal.models import TeamMembership

    ApprovalRequest.objects.filter(component__name=NAME).delete()  # an earlier run's
    Release.objects.filter(component__name=NAME).delete()
    team, _ = Team.objects.get_or_create(name="bench-panels")
    prod, _ = Environment.objects.update_or_create(
        name="bench-prod", defaults={"is_production": True, "order": 99}
    )
    selector = 'cluster="$environment", namespace="$namespace", app=~"$workload(-canary)?"'
    made = {}
    for name, version in ((NAME, "1.4.0"), (f"{NAME}-canary", "1.5.0"), (f"{NAME}-shop", "")):
        made[name], _ = Component.objects.update_or_create(
            name=name, parent=None, defaults={"owner": team, "extra": {"version": version}}
        )
        if version:
            ComponentEnvironment.objects.update_or_create(
                component=made[name], environment=prod,
                defaults={"kube_deployment": name, "log_selector": selector},
            )  # fmt: skip
    component = made[NAME]
    Dependency.objects.get_or_create(source=made[f"{NAME}-shop"], target=component)
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


def _paging(url: str, approval) -> None:
    """PagerDuty's side, through the official client: the services (their ids become the
    components' annotations), Alice on call, an open incident on the dependent service."""
    from catalog.models import Component

    trust = ssl.create_default_context(cafile=settings.PAGERDUTY_CA_BUNDLE)
    rest = pagerduty.RestApiV2Client(PD_TOKEN, base_url=url, verify=trust)
    alice = rest.rpost("users", json={"user": {"name": "Alice", "email": "alice@example.com"}})
    policy = rest.rpost("escalation_policies", json={"escalation_policy": {"name": "Bench"}})
    for name in (NAME, f"{NAME}-shop"):
        service = rest.rpost("services", json={"service": {"name": name, "escalation_policy": {
            "id": policy["id"], "type": "escalation_policy_reference"}}})  # fmt: skip
        Component.objects.filter(name=name, parent=None).update(
            annotations={"pagerduty.com/service-id": service["id"]}
        )
    now = datetime.now(UTC)
    shift = {"escalation_policy_id": policy["id"], "user_id": alice["id"],
             "start": (now - timedelta(hours=1)).isoformat(),
             "end": (now + timedelta(hours=8)).isoformat()}  # fmt: skip
    requests.post(f"{url}/sandbox/oncalls", json=shift, timeout=5,
                  verify=settings.PAGERDUTY_CA_BUNDLE).raise_for_status()  # fmt: skip
    sender = pagerduty.RestApiV2Client(PD_TOKEN, base_url=url, verify=trust,
                                       default_from="alice@example.com")  # fmt: skip
    sender.rpost("incidents", json={"incident": {
        "type": "incident", "title": "shop checkout slow", "urgency": "low",
        "service": {"id": service["id"], "type": "service_reference"}}})  # fmt: skip
    approval.component.refresh_from_db()
