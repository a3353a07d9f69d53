"""`make bench`, tour part: the server time of every page and action of the README tour.

The demo as `make run` gives it: `seed_demo` (220 services, the personas), then the sandbox in a
process of its own (Kubernetes, GitHub, Argo CD, Prometheus, Loki, PagerDuty and the demo APIs).
Each persona signs in through the real login form (Argon2id, django-axes: the login POST is a
figure), then the pages its tour step opens and the actions it takes are timed in-process
(Django's test client: routing, middleware, queries, adapters' calls to the sandbox, rendering;
no browser, no network in front). Actions run as in the web process: Celery is not eager, so an
action is timed up to its task being queued, never the worker's share. Between two timed actions
whatever the last one left (a release in flight) is cleared, untimed. Target: p50 <= 300 ms each.
"""

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from .figures import Figure, combine, percentiles
from .releases import _sandbox_process

TARGET = "p50 ≤ 300"
SERVICE = "payments-fulfilment-121"
PASSWORD = "switchyard-demo"
SANDBOX = ["kubernetes", "github", "argocd", "prometheus", "loki", "pagerduty"]
SANDBOX += ["demo-grpc", "demo-http"]


def timed(name: str, call: Callable[[int], object], *, repeat: int, setup=None, note="") -> Figure:
    """Like figures.measure, with an untimed `setup(i)` before each timed `call(i)`."""
    for warm in (0, 1):
        if setup:
            setup(warm)
        call(warm)
    timings = []
    for index in range(repeat):
        if setup:
            setup(index)
        started = time.perf_counter()
        call(index)
        timings.append((time.perf_counter() - started) * 1000)
    if setup:
        setup(repeat)
    with CaptureQueriesContext(connection) as queries:
        call(repeat)
    return Figure("demo", name, *percentiles(timings), len(queries), note, TARGET)


def expect(status: int | tuple[int, ...], response, what: str):
    wanted = status if isinstance(status, tuple) else (status,)
    if response.status_code not in wanted:
        raise RuntimeError(f"{what} answered {response.status_code}, not {wanted}")
    return response


def signed_in(username: str, index: int = 0) -> Client:
    """A real sign-in. Each timed one comes from its own address: allauth allows 30 a minute
    from one address, and the bench is not an attack."""
    client = Client(HTTP_HOST="127.0.0.1")  # an allowed host, as in the demo
    login = reverse("account_login")
    address = f"10.9.{index // 250}.{index % 250 + 1}"
    response = client.post(login, {"login": username, "password": PASSWORD}, REMOTE_ADDR=address)
    expect(302, response, f"signing in as {username}")
    return client


def tour_bench(*, repeat: int, runs: int) -> list[Figure]:
    from catalog.models import Component

    logging.getLogger("axes").setLevel(logging.WARNING)  # a line per sign-in otherwise
    call_command("seed_demo", "--if-empty", verbosity=0)
    with tempfile.TemporaryDirectory() as tmp:
        process = _sandbox_process(Path(tmp), names=SANDBOX)
        saved = {k: getattr(settings, k, None) for k in ("INTEGRATION_URLS", "KUBECONFIG")}
        try:
            settings.INTEGRATION_URLS = dict(process.endpoints)
            settings.KUBECONFIG = str(Path(tmp) / "kubeconfig")
            component = Component.objects.get(name=SERVICE)
            passes = [_one_pass(component, repeat) for _ in range(runs)]
        finally:
            for key, value in saved.items():
                setattr(settings, key, value)
            process.terminate()
            process.wait(timeout=20)
    return [combine(list(same)) for same in zip(*passes, strict=True)]


def _one_pass(component, repeat: int) -> list[Figure]:
    return _pages(component, repeat) + _actions(component, repeat)


def _get(client: Client, url: str, **headers):
    return lambda _i: expect(200, client.get(url, **headers), url)


def _pages(component, repeat: int) -> list[Figure]:
    from apidocs.models import ApiDefinition

    alice, pat, sam = signed_in("alice"), signed_in("pat"), signed_in("sam")
    htmx = {"HTTP_HX_REQUEST": "true"}
    fulfilment = ApiDefinition.objects.get(name="fulfilment")
    tryit = reverse("apidocs:tryit", args=[fulfilment.pk, 1])
    graph = reverse(
        "catalog:component_graph",
        args=[component.metadata_namespace, component.entity_kind.lower(), component.name],
    )
    plan = [
        ("dashboard (alice)", alice, reverse("portal:dashboard"), {}),
        ("search in the top bar", alice, f"{reverse('portal:search')}?q=fulfilment-121", {}),
        ("service page", alice, component.get_absolute_url(), {}),
        ("service graph JSON, depth 2", alice, f"{graph}?depth=2", {}),
        ("live deployment card, staging (Kubernetes)", alice,
         reverse("deployments:control_live", args=[component.pk, "staging"]), htmx),
        ("release form (GitHub versions)", alice,
         reverse("deployments:release_start", args=[component.pk]), {}),
        ("runtime tuning page", alice, reverse("deployments:tuning_page", args=[component.pk]), {}),
        ("approvals inbox (sam)", sam, reverse("approvals:inbox"), {}),
        ("APIs (pat)", pat, reverse("apidocs:api_list"), {}),
        ("try-it editor (pat)", pat, f"{tryit}?op=fulfilment.v1.FulfilmentService.GetShipment", {}),
        ("audit log (sam)", sam, reverse("portal:audit_list"), {}),
    ]  # fmt: skip
    return [
        timed(name, _get(client, url, **headers), repeat=repeat)
        for name, client, url, headers in plan
    ]


def _actions(component, repeat: int) -> list[Figure]:
    from apidocs.models import ApiDefinition, TryItPolicy
    from deployments.models import Release, TuningKey

    figures = [timed("sign in (login POST)", lambda i: signed_in("bob", 1000 + i), repeat=repeat)]
    alice = signed_in("alice")
    version = _newest_version(alice, component)
    start = reverse("deployments:release_start", args=[component.pk])
    staging = component.deployments.get(environment__name="staging").environment

    def clear(_i):  # a release in flight would refuse the next one: end it, untimed
        Release.objects.filter(component=component).exclude(
            state__in=Release.TERMINAL_STATES
        ).update(state=Release.State.ABORTED)

    def release(_i):
        data = {"environment": staging.pk, "version": version, "strategy": "rolling",
                "canary_steps": "5, 25, 50, 100", "reason": "bench"}  # fmt: skip
        expect(302, alice.post(start, data), "release POST")

    figures.append(timed("release POST (queued)", release, repeat=repeat, setup=clear))
    latest = Release.objects.filter(component=component).latest("pk").get_absolute_url()
    figures.append(timed("release page", _get(alice, latest), repeat=repeat))
    scale = reverse("deployments:control_change", args=[component.pk, "staging", "scale"])

    def knob(index):
        data = {"replicas": str(2 + index % 2), "reason": "bench"}
        expect(200, alice.post(scale, data, HTTP_HX_REQUEST="true"), "scale POST")

    figures.append(timed("scale staging (knob POST)", knob, repeat=repeat))
    key = TuningKey.objects.get(component=component, kind="sampling")
    tune = reverse("deployments:tuning_set", args=[key.pk, "staging"])

    def tuning(index):
        data = {"value": f"0.{1 + index % 8}", "reason": "bench"}
        expect(200, alice.post(tune, data, HTTP_HX_REQUEST="true"), "tuning POST")

    figures.append(timed("runtime tuning set (POST)", tuning, repeat=repeat))
    pat = signed_in("pat")
    # The demo allows 30 try-it calls a minute; the bench makes more (its own
    # database). At most 32,767: a PositiveSmallIntegerField on PostgreSQL.
    TryItPolicy.objects.filter(environment__name="staging").update(calls_per_minute=30_000)
    fulfilment = ApiDefinition.objects.get(name="fulfilment")
    tryit = reverse("apidocs:tryit", args=[fulfilment.pk, 1])

    def send(_i):
        data = {"op": "fulfilment.v1.FulfilmentService.GetShipment", "environment": "staging",
                "body": '{"id": "shp_1001"}'}  # fmt: skip
        expect(200, pat.post(tryit, data, HTTP_HX_REQUEST="true"), "try-it send")

    figures.append(timed("try-it send, gRPC (pat)", send, repeat=repeat))
    return figures + _approval(component, repeat)


def _approval(component, repeat: int) -> list[Figure]:
    """Step 3's decision: bob opens a Prod gate and approves it. Each timed call gets a gate of
    its own, asked for untimed as the sandbox's workflow asks at its pause point."""
    from approvals.models import ApprovalRequest
    from approvals.services import approval_create, machine_client_issue
    from catalog.models import Environment

    client, _, _ = machine_client_issue(
        name="bench-tour", environments=Environment.objects.all(), all_components=True,
        actor_label="bench",
    )  # fmt: skip
    bob = signed_in("bob")
    gates: list[ApprovalRequest] = []

    def ask(_i):
        ApprovalRequest.objects.filter(component=component, state="pending").update(
            state="expired"
        )  # one open gate at a time, as a release has
        data = {"service": component.name, "environment": "prod", "actor": "alice",
                "rollout_phase": "canary 5%", "weight": 5}  # fmt: skip
        gates.append(approval_create(client=client, data=data))

    def page(_i):
        url = reverse("approvals:approval_detail", args=[gates[-1].pk])
        expect(200, bob.get(url), "approval page")

    def decide(_i):
        url = reverse("approvals:approval_decide", args=[gates[-1].pk])
        data = {"decision": "approve", "comment": "bench"}
        expect(302, bob.post(url, data), "approval decision POST")
        gates[-1].refresh_from_db()
        if gates[-1].decided_by_id is None and not gates[-1].votes.exists():
            raise RuntimeError("bob's approval was not recorded")

    return [
        timed("approval page (bob)", page, repeat=repeat, setup=ask),
        timed("approval decision POST (bob)", decide, repeat=repeat, setup=ask),
    ]


def _newest_version(client: Client, component) -> str:
    from deployments.releases.selectors import release_versions

    versions, error = release_versions(component)
    if not versions:
        raise RuntimeError(f"no versions of {component} in the GitHub sandbox: {error}")
    return versions[0].name
