"""Trains end to end against the sandbox (GitHub Actions -> GitOps -> Argo CD / Rollouts).

The machines are driven by calling their steps directly (what beat does every 2 s)."""

import pytest

from catalog.models import Component, ComponentEnvironment, Dependency, Environment, Team
from deployments.models import Release, Train, TrainService
from deployments.releases import machine as release_machine
from deployments.releases.errors import ReleaseRefused
from deployments.releases.services import release_abort, release_promote, release_start
from deployments.trains import machine
from deployments.trains.services import train_create, train_start
from integrations.argocd import argocd_client
from integrations.github import github_client
from integrations.tests.conftest import wait_until
from portal.models import TeamMembership
from sandbox.demo import demo_service_names

NAMES = demo_service_names(8)


@pytest.fixture
def yard(db, release_sandbox, make_user):
    """Four sandbox services in staging: api <- web, api <- mobile; web <- edge (sync edges)."""
    team = Team.objects.create(name="shop")
    staging = Environment.objects.create(name="staging", order=2)
    parts = {}
    for role, name in zip(("api", "web", "mobile", "edge"), NAMES, strict=False):
        parts[role] = Component.objects.create(
            name=name, owner=team, repository=f"https://github.com/example/{name}"
        )
        ComponentEnvironment.objects.create(
            component=parts[role], environment=staging, argocd_application=f"{name}-staging"
        )
    for consumer, provider in (("web", "api"), ("mobile", "api"), ("edge", "web")):
        Dependency.objects.create(source=parts[consumer], target=parts[provider], kind="sync")
    owner = make_user("olivia")
    TeamMembership.objects.create(user=owner, team=team)
    return {"parts": parts, "env": staging, "owner": owner}


def version_of(component) -> str:
    return github_client().versions_list(f"example/{component.name}")[0].name


def older_version_of(component) -> str:
    return github_client().versions_list(f"example/{component.name}")[1].name


def release_now(yard, component, version, capture):
    """Put `version` live first (what ran before the train), with a plain release."""
    with capture(execute=True):
        release = release_start(
            actor=yard["owner"], component=component, environment=yard["env"], version=version
        )
    wait_until(lambda: _polled(release) == "succeeded", timeout=30, interval=0.05)


def _polled(release):
    release_machine.release_poll_run(release_id=release.pk)
    release.refresh_from_db()
    return release.state


def drive(train, capture, until=None, *, done=None, each=None, timeout=60):
    """Beat's work: poll every active release, then step the train, until its state is in
    `until` (or `done()` holds)."""

    def step():
        with capture(execute=True):
            for pk in Release.objects.filter(state__in=Release.ACTIVE_STATES).values_list(
                "pk", flat=True
            ):
                release_machine.release_poll_run(release_id=pk)
            if each:
                each()
            state = machine.train_tick_run(train_id=train.pk)
        if done is not None:
            return done() and state
        return state in until and state

    return wait_until(step, timeout=timeout, interval=0.05)


def plan(yard, roles, strategy="rolling", versions=None):
    items = [
        (yard["parts"][r], (versions or {}).get(r) or version_of(yard["parts"][r])) for r in roles
    ]
    train = train_create(
        actor=yard["owner"], environment=yard["env"], title="shop 2.0", items=items
    )
    Train.objects.filter(pk=train.pk).update(strategy=strategy)
    train.refresh_from_db()
    return train


def test_a_three_service_train_releases_wave_by_wave_providers_first(
    yard, django_capture_on_commit_callbacks
):
    train = plan(yard, ["edge", "web", "api"])
    waves = dict(train.services.values_list("component__name", "wave"))
    parts = yard["parts"]
    assert waves == {parts["api"].name: 0, parts["web"].name: 1, parts["edge"].name: 2}
    with django_capture_on_commit_callbacks(execute=True):
        train_start(actor=yard["owner"], train=train)
    assert drive(train, django_capture_on_commit_callbacks, {"succeeded"}) == "succeeded"
    releases = {
        s.component.name: s.release for s in train.services.select_related("release", "component")
    }
    # Each wave started only after the one before it had finished.
    assert releases[parts["api"].name].finished_at <= releases[parts["web"].name].created_at
    assert releases[parts["web"].name].finished_at <= releases[parts["edge"].name].created_at
    for role in ("api", "web", "edge"):
        app = argocd_client().application_get(f"{parts[role].name}-staging")
        assert app.images == (f"registry.example.com/{parts[role].name}:{version_of(parts[role])}",)
    # A late tick changes nothing.
    assert machine.train_tick_run(train_id=train.pk) == "succeeded"
    assert Release.objects.count() == 3


def test_an_abort_at_wave_2_aborts_its_canaries_and_restores_wave_1(
    yard, django_capture_on_commit_callbacks
):
    parts = yard["parts"]
    api, web, mobile = parts["api"], parts["web"], parts["mobile"]
    release_now(yard, api, older_version_of(api), django_capture_on_commit_callbacks)
    train = plan(yard, ["api", "web", "mobile"], strategy="canary")
    with django_capture_on_commit_callbacks(execute=True):
        train_start(actor=yard["owner"], train=train)

    def promote_wave_1():
        service = TrainService.objects.select_related("release").get(train=train, component=api)
        if service.release and service.release.state == "paused":
            release_promote(actor=yard["owner"], release=service.release, full=True)

    # Wave 1's canary is promoted by its owner; wave 2's two canaries then pause at 5%.
    def wave_2_paused():
        wave_2 = TrainService.objects.filter(train=train, wave=1).select_related("release")
        return all(s.release and s.release.state == "paused" for s in wave_2)

    drive(train, django_capture_on_commit_callbacks, done=wave_2_paused, each=promote_wave_1)
    in_wave_2 = TrainService.objects.filter(train=train, wave=1).select_related("release")
    mobile_release = next(s.release for s in in_wave_2 if s.component_id == mobile.pk)
    with django_capture_on_commit_callbacks(execute=True):
        release_abort(actor=yard["owner"], release=mobile_release, reason="error rate up")
    assert drive(train, django_capture_on_commit_callbacks, {"rolledback"}) == "rolledback"

    train.refresh_from_db()
    states = dict(train.services.values_list("component__name", "state"))
    assert states == {api.name: "restored", web.name: "aborted", mobile.name: "failed"}
    web_release = TrainService.objects.get(train=train, component=web).release
    assert web_release.state == "aborted"
    assert argocd_client().application_get(f"{web.name}-staging").rollout.aborted
    restored = TrainService.objects.get(train=train, component=api).restore_release
    assert restored.state == "succeeded" and restored.version == older_version_of(api)
    app = argocd_client().application_get(f"{api.name}-staging")
    assert app.images == (f"registry.example.com/{api.name}:{older_version_of(api)}",)
    timeline = list(train.events.values_list("message", flat=True))
    assert "Wave 2 failed" in train.failure_reason and mobile.name in train.failure_reason
    assert any(f"Aborted the canary of {web.name}" in m for m in timeline)
    assert any(f"Restored {api.name} to" in m for m in timeline)
    assert timeline[-1].startswith("Rolled back")


def test_a_component_in_a_running_train_cannot_be_released_on_its_own(
    yard, django_capture_on_commit_callbacks
):
    train = plan(yard, ["api", "web"], strategy="canary")
    with django_capture_on_commit_callbacks(execute=True):
        train_start(actor=yard["owner"], train=train)
    with pytest.raises(ReleaseRefused, match="part of the running train"):
        release_start(
            actor=yard["owner"],
            component=yard["parts"]["web"],
            environment=yard["env"],
            version=version_of(yard["parts"]["web"]),
        )


def test_a_duplicate_tick_starts_each_release_once(yard, django_capture_on_commit_callbacks):
    train = plan(yard, ["api", "web"])
    with django_capture_on_commit_callbacks(execute=True):
        train_start(actor=yard["owner"], train=train)  # its tick runs on commit
        machine.train_tick_run(train_id=train.pk)  # ... and is delivered twice
    assert Release.objects.filter(component=yard["parts"]["api"]).count() == 1
    assert not Release.objects.filter(component=yard["parts"]["web"]).exists()


@pytest.mark.django_db(transaction=True)
def test_each_wave_waits_for_the_approval_of_its_components_owners(
    yard, live_server, release_sandbox, settings, make_user, django_capture_on_commit_callbacks
):
    from approvals.models import ApprovalPolicy, ApprovalRequest
    from deployments.trains.parts import train_approval_decide
    from sandbox.switchyard import sandbox_machine_credentials

    settings.SITE_URL = live_server.url
    prod = Environment.objects.create(name="prod", order=3, is_production=True)
    release_sandbox.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    ApprovalPolicy.objects.create(environment=prod, default_ttl_minutes=30)
    api, web = yard["parts"]["api"], yard["parts"]["web"]
    for component in (api, web):
        ComponentEnvironment.objects.create(
            component=component, environment=prod, argocd_application=f"{component.name}-prod"
        )
    colleague = make_user("camila")
    TeamMembership.objects.create(user=colleague, team=api.owner)
    train = train_create(
        actor=yard["owner"],
        environment=prod,
        title="prod train",
        items=[(api, version_of(api)), (web, version_of(web))],
    )
    with django_capture_on_commit_callbacks(execute=True):
        train_start(actor=yard["owner"], train=train)
    assert train.approvals.count() == 2  # prod's policy: one per wave and owning team
    for wave, component in enumerate((api, web)):
        # The wave waits for its owners' approval of their part before anything is released.
        drive(train, django_capture_on_commit_callbacks, done=lambda: True)
        assert Release.objects.filter(environment=prod).count() == wave
        part = train.approvals.get(wave=wave)
        with django_capture_on_commit_callbacks(execute=True):
            train_approval_decide(actor=colleague, part=part, decision="approve")
        # The workflow asks as soon as it has committed to GitOps, before the Rollout pauses;
        # once the release is paused there, the part's approval decides that request.
        drive(
            train,
            django_capture_on_commit_callbacks,
            done=lambda c=component: ApprovalRequest.objects.filter(
                release__component=c, state="approved"
            ).exists(),
        )
        approval = ApprovalRequest.objects.get(release__component=component)
        assert approval.decided_by == colleague and "part of the train" in approval.comment
        # The other wave has not started while this one was waiting.
        assert Release.objects.filter(environment=prod).count() == wave + 1
    assert drive(train, django_capture_on_commit_callbacks, {"succeeded"}, timeout=90)
