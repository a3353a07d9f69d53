"""Shared test fixtures: users, a real browser, and the rule that CI never skips."""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With SWITCHYARD_NO_SKIP=1 (set by .ci/run) a skipped test is a failed test."""
    outcome = yield
    report = outcome.get_result()
    # An expected failure (xfail, with its reason, printed in the summary) is a known open
    # defect, not a skip: it stays visible and is counted apart.
    expected_failure = hasattr(report, "wasxfail")
    if report.skipped and not expected_failure and os.environ.get("SWITCHYARD_NO_SKIP") == "1":
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and skips are failures in CI (SWITCHYARD_NO_SKIP=1): {reason}"


def _sqlite_without_fsync(sender, connection, **kwargs):
    """The test database is a throwaway file (portal/settings.py says why it is not in memory):
    no fsync on commit, which makes it about as fast as memory."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA synchronous=OFF")


def pytest_configure(config):
    from django.db.backends.signals import connection_created

    connection_created.connect(_sqlite_without_fsync)


@pytest.fixture(autouse=True, scope="session")
def _celery_eager():
    """Unit tests run tasks in-process; tests that need a real worker turn this off."""
    from portal.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _no_developer_sandbox(settings, tmp_path_factory):
    """Tests never talk to a sandbox that `make run` left running: each starts its own."""
    settings.SANDBOX_DIR = tmp_path_factory.getbasetemp() / "no-sandbox"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared (third-party fixtures and official API specs); absent in a user's clone."""
    from django.conf import settings

    path = Path(os.environ.get("SHARED_DIR") or settings.BASE_DIR.parent / "shared")
    if not path.is_dir():
        pytest.skip(f"{path} is absent: these tests need the shared fixtures and specs")
    return path


@pytest.fixture
def password():
    from portal.tests.factories import PASSWORD

    return PASSWORD


@pytest.fixture
def make_user(db, password):
    from portal.tests.factories import UserFactory

    def make(username="user", **extra):
        return UserFactory(username=username, password=password, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user("engineer", first_name="Erin")


@pytest.fixture(scope="session")
def chromium_browser():
    """Debian's Chromium driven by Playwright; skipped (failed in CI) when not installed."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser):
    context = chromium_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def login_page(page, live_server, password):
    """Sign `user` in through the real login form and return the page on the dashboard."""

    def login(user):
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=login]", user.username)
        page.fill("input[name=password]", password)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_url(f"{live_server.url}/")
        return page

    return login


# The one set of personas and the shared world of every app's tests (factories in
# portal/tests/factories.py): a payments team owning "ledger", which runs in staging and prod;
# an owner, a member of another team and an SRE.


@pytest.fixture
def payments(db):
    from portal.tests.factories import TeamFactory

    return TeamFactory(name="payments", title="Payments")


@pytest.fixture
def environments(db):
    from portal.tests.factories import EnvironmentFactory

    return {
        "staging": EnvironmentFactory(name="staging", order=20),
        "prod": EnvironmentFactory(name="prod", order=30, is_production=True),
    }


@pytest.fixture
def ledger(payments, environments):
    from portal.tests.factories import ComponentEnvironmentFactory, ComponentFactory

    component = ComponentFactory(name="ledger", owner=payments)
    for env in environments.values():
        ComponentEnvironmentFactory(
            component=component,
            environment=env,
            kube_deployment="ledger",
            argocd_application=f"ledger-{env.name}",
        )
    return component


@pytest.fixture
def owner(make_user, payments):
    from portal.tests.factories import TeamMembershipFactory

    user = make_user("olivia")
    TeamMembershipFactory(user=user, team=payments)
    return user


@pytest.fixture
def outsider(make_user):
    from portal.tests.factories import TeamFactory, TeamMembershipFactory

    user = make_user("oscar")
    TeamMembershipFactory(user=user, team=TeamFactory(name="search"))
    return user


@pytest.fixture
def sre(make_user):
    return make_user("sasha", groups=["sre"])


@pytest.fixture
def pm(make_user):
    """A product manager: the platform's read-only viewer role."""
    return make_user("pm", groups=["viewer"])
