"""A person plans a 5-service train on the page, sees its picture, starts it and watches a
failure in wave 3 roll waves 2 and 1 back, live (htmx), against the sandbox.

A background thread plays beat (releases_tick and trains_tick every half second); tasks run
eagerly after commit.
"""

import pytest

from catalog.models import Component, ComponentEnvironment, Dependency, Environment, Team
from deployments.models import Release, Train
from deployments.releases.tasks import releases_tick
from deployments.tests.beat import beat_running
from deployments.trains.tasks import trains_tick
from integrations.github import github_client
from portal.models import TeamMembership
from portal.tests.browser_session import signed_in
from sandbox.demo import demo_service_names

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NAMES = demo_service_names(8)[:5]


@pytest.fixture
def beat():

    with beat_running(releases_tick, trains_tick):
        yield


@pytest.fixture
def yard(release_sandbox, make_user):
    team = Team.objects.create(name="shop", title="Shop")
    staging = Environment.objects.create(name="staging", order=2)
    parts = []
    for name in NAMES:
        component = Component.objects.create(
            name=name, owner=team, repository=f"https://github.com/example/{name}"
        )
        ComponentEnvironment.objects.create(
            component=component, environment=staging, argocd_application=f"{name}-staging"
        )
        parts.append(component)
    # 0 <- 1, 0 <- 2, 1 <- 3 (sync); 4 stands alone: waves {0, 4}, {1, 2}, {3}.
    for consumer, provider in ((1, 0), (2, 0), (3, 1)):
        Dependency.objects.create(source=parts[consumer], target=parts[provider], kind="sync")
    owner = make_user("olivia")
    TeamMembership.objects.create(user=owner, team=team)
    return {"parts": parts, "owner": owner}


def test_plan_watch_and_see_a_failure_roll_back(login_page, live_server, yard, beat, arm_fault):
    parts = yard["parts"]
    # Wave 3's only service cannot be dispatched: GitHub refuses its workflow (not transient).
    arm_fault(
        "github",
        path=f"/repos/example/{parts[3].name}/actions/workflows",
        method="POST",
        kind="error",
        status=422,
    )
    lines = [
        f"{c.name} {github_client().versions_list(f'example/{c.name}')[0].name}" for c in parts
    ]
    page = login_page(yard["owner"])
    page.get_by_role("link", name="Trains").click()
    page.get_by_role("link", name="Plan a train").click()
    page.fill("input[name=title]", "shop 5")
    page.select_option("select[name=environment]", label="staging")
    page.fill("textarea[name=services]", "\n".join(lines))
    page.select_option("select[name=strategy]", "rolling")
    page.get_by_role("button", name="Plan").click()
    page.wait_for_url("**/trains/*/")
    picture = page.locator("svg.train-plan")
    assert picture.locator("text", has_text="Wave 3").count() == 1
    assert picture.locator("line").count() == 3
    assert parts[3].name in page.locator("[data-testid=wave-3]").inner_text()

    page.get_by_role("button", name="Start the train").click()
    progress = page.locator("[data-testid=train-progress]")
    # No reload: htmx polls the progress fragment until the train is done.
    page.locator("[data-testid=train-state]", has_text="Rolled back").wait_for(timeout=120_000)
    timeline = progress.locator("[data-testid=train-timeline]").inner_text()
    assert "Wave 3 failed" in timeline
    restored = [line for line in timeline.splitlines() if "Restored" in line]
    # Wave 2's services are restored before wave 1's.
    order = [next(i for i, c in enumerate(parts) if c.name in line) for line in restored]
    assert sorted(order[:2]) == [1, 2] and sorted(order[2:]) == [0, 4]
    assert "every 2s" not in progress.evaluate("el => el.outerHTML")  # polling stopped
    assert Train.objects.get().state == "rolledback"


@pytest.fixture
def two_teams(release_sandbox, make_user):
    """api (shop's, Olivia's) <- web (edge's, Wes's), in staging: Olivia may not release web."""
    from deployments.trains.services import train_create

    staging = Environment.objects.create(name="staging", order=2)
    people = {}
    components = []
    for team_name, person, name in zip(("shop", "edge"), ("olivia", "wes"), NAMES, strict=False):
        team = Team.objects.create(name=team_name, title=team_name.title())
        people[person] = make_user(person)
        TeamMembership.objects.create(user=people[person], team=team)
        component = Component.objects.create(
            name=name, owner=team, repository=f"https://github.com/example/{name}"
        )
        ComponentEnvironment.objects.create(
            component=component, environment=staging, argocd_application=f"{name}-staging"
        )
        components.append(component)
    api, web = components
    Dependency.objects.create(source=web, target=api, kind="sync")
    items = [(c, github_client().versions_list(f"example/{c.name}")[0].name) for c in components]
    train = train_create(
        actor=people["olivia"],
        environment=staging,
        title="api+web",
        items=items,
        strategy="rolling",
    )
    return {"train": train, "api": api, "web": web, **people}


def test_an_owner_approves_their_part_on_the_train_page_and_the_wave_goes(
    live_server, two_teams, beat, chromium_browser
):
    from deployments.trains.services import train_start

    train, web = two_teams["train"], two_teams["web"]
    train_start(actor=two_teams["olivia"], train=train)  # Olivia starts; edge must approve web
    context, page = signed_in(chromium_browser, live_server, two_teams["wes"])
    try:
        page.goto(f"{live_server.url}{train.get_absolute_url()}")
        wave_2 = page.locator("[data-testid=wave-2]")
        # Wave 1 (api, Olivia's own) goes out; wave 2 waits for edge's part: no reload, htmx.
        wave_2.get_by_text("Waits for Edge's approval of its part").wait_for(timeout=120_000)
        assert not Release.objects.filter(component=web).exists()
        approvals = page.locator("[data-testid=train-approvals]")
        approvals.get_by_role("textbox", name="Comment for Edge's part").fill("web is ready")
        approvals.get_by_role("button", name="Approve Edge's part").click()
        page.locator("[data-testid=train-state]", has_text="Succeeded").wait_for(timeout=120_000)
        assert "Approved by wes: web is ready" in approvals.inner_text()
        assert "Released" in wave_2.inner_text()
        timeline = page.locator("[data-testid=train-timeline]").inner_text()
        assert "wes approved Edge's part (the whole train): web is ready" in timeline
    finally:
        context.close()
    release = Release.objects.get(component=web, environment=train.environment)
    assert release.requested_by == two_teams["olivia"]  # on the authority of Wes's approval
    assert release.state == "succeeded"
