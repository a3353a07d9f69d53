"""A breach at wave k, against the sandbox: the analysis gate fails one canary of wave 3 (the
Prometheus sandbox's bad-version knob raises that version's error rate); within that one
analysis tick every other canary in flight is aborted; then waves 2 and 1 are restored, in
reverse order, and the train ends "rolled back" with the reason and the timeline.

Beat's work (release polls, the analysis tick, the trains tick) is called directly."""

import pytest
import requests
from django.utils import timezone

from catalog.models import Component, ComponentEnvironment, Dependency, Environment, Team
from deployments.analysis import tasks as analysis_tasks
from deployments.models import AnalysisPolicy, AnalysisStep, AnalysisVerdict, Release, TrainService
from deployments.releases import machine as release_machine
from deployments.trains import machine
from deployments.trains.services import train_create, train_start
from integrations.argocd import argocd_client
from integrations.tests.conftest import wait_until
from portal.models import TeamMembership
from sandbox.demo import demo_service_names

from .test_train_flow import older_version_of, release_now, version_of

NAMES = demo_service_names(8)[:5]


@pytest.fixture
def yard(db, release_sandbox, make_user):
    """a <- b, a <- c; b <- d, b <- e (sync): waves {a}, {b, c}, {d, e}. Each runs its older
    version first, so that there is something to restore."""
    team = Team.objects.create(name="shop")
    staging = Environment.objects.create(name="staging", order=2)
    AnalysisPolicy.objects.create(
        environment=staging, min_requests=1, interval_seconds=1, soak_seconds=0
    )
    parts = {}
    for role, name in zip("abcde", NAMES, strict=True):
        parts[role] = Component.objects.create(
            name=name, owner=team, repository=f"https://github.com/example/{name}"
        )
        ComponentEnvironment.objects.create(
            component=parts[role], environment=staging, argocd_application=f"{name}-staging"
        )
    for consumer, provider in (("b", "a"), ("c", "a"), ("d", "b"), ("e", "b")):
        Dependency.objects.create(source=parts[consumer], target=parts[provider], kind="sync")
    owner = make_user("olivia")
    TeamMembership.objects.create(user=owner, team=team)
    return {"parts": parts, "env": staging, "owner": owner}


def mark_bad(sandbox, component, version) -> None:
    requests.post(
        f"{sandbox.endpoints['prometheus']}/sandbox/bad-version",
        json={"service": component.name, "version": version},
        timeout=5,
    ).raise_for_status()


def beat_once(train, capture):
    """Poll the active releases, run the analysis tick (every open step due now), step the
    train: what beat does every 2 s. Returns whether this analysis tick failed a canary."""
    with capture(execute=True):
        for pk in Release.objects.filter(state__in=Release.ACTIVE_STATES).values_list(
            "pk", flat=True
        ):
            release_machine.release_poll_run(release_id=pk)
        failed_before = AnalysisVerdict.objects.filter(verdict="fail").count()
        AnalysisStep.objects.filter(outcome="analysing").update(next_evaluation_at=timezone.now())
        analysis_tasks.analysis_tick()
        failed = AnalysisVerdict.objects.filter(verdict="fail").count() > failed_before
        if not failed:
            machine.train_tick_run(train_id=train.pk)
    return failed


def test_a_breach_at_wave_3_aborts_its_canaries_at_once_and_restores_waves_2_then_1(
    yard, release_sandbox, settings, django_capture_on_commit_callbacks
):
    settings.RELEASE_POLL_CONCURRENCY = 1  # one connection: the test's transaction sees all
    capture = django_capture_on_commit_callbacks
    parts, owner = yard["parts"], yard["owner"]
    for component in parts.values():
        release_now(yard, component, older_version_of(component), capture)
    items = [(parts[r], version_of(parts[r])) for r in "abcde"]
    train = train_create(actor=owner, environment=yard["env"], title="shop 3", items=items)
    assert train.strategy == "canary"
    # The breach: d's new version errors as soon as it takes traffic (wave 3).
    mark_bad(release_sandbox, parts["d"], version_of(parts["d"]))
    with capture(execute=True):
        train_start(actor=owner, train=train)

    wait_until(lambda: beat_once(train, capture), timeout=120, interval=0.05)

    # That one analysis tick failed d's canary, and the train aborted e's, still in flight.
    wave_3 = {s.component_id: s for s in TrainService.objects.filter(train=train, wave=2)}
    d, e = wave_3[parts["d"].pk], wave_3[parts["e"].pk]
    assert d.state == "failed" and d.release.state == "aborted"
    assert e.state == "aborted" and e.release.state == "aborted"
    assert e.release.finished_at is not None
    abort = e.release.events.get(state="aborted")
    assert "Train “shop 3” failed" in abort.message

    def rolled_back():
        beat_once(train, capture)
        train.refresh_from_db()
        return train.state == "rolledback"

    wait_until(rolled_back, timeout=120, interval=0.05)
    states = dict(train.services.values_list("component__name", "state"))
    name = {role: parts[role].name for role in parts}
    assert states == {
        name["a"]: "restored",
        name["b"]: "restored",
        name["c"]: "restored",
        name["d"]: "failed",
        name["e"]: "aborted",
    }
    for role in "abc":
        app = argocd_client().application_get(f"{name[role]}-staging")
        assert app.images == (f"registry.example.com/{name[role]}:{older_version_of(parts[role])}",)
    # Reverse order: wave 2's restores finished before wave 1's started.
    restores = {
        s.component.name: s.restore_release
        for s in train.services.select_related("restore_release", "component")
        if s.restore_release
    }
    assert max(restores[name[r]].finished_at for r in "bc") <= restores[name["a"]].created_at
    assert "Wave 3 failed" in train.failure_reason and name["d"] in train.failure_reason
    assert "analysis failed" in train.failure_reason
    timeline = list(train.events.values_list("message", flat=True))
    restored = [m for m in timeline if m.startswith("Restored ")]
    assert [m.split()[1] for m in restored][-1] == name["a"]
    assert {m.split()[1] for m in restored[:2]} == {name["b"], name["c"]}
    assert any(f"Aborted the canary of {name['e']}" in m for m in timeline)
    assert timeline[-1].startswith("Rolled back: 4 services undone")
