import pytest

from catalog.models import Team


@pytest.fixture(scope="session")
def oidc_sandbox(tmp_path_factory):
    """The real sandbox OpenID Connect provider (oidc-provider on Node) on a free port."""
    from sandbox.oidc import HERE
    from sandbox.runner import start_sandbox

    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("sandbox/oidc/node_modules is missing: run `make install`")
    running = start_sandbox(directory=tmp_path_factory.mktemp("sandbox"), names=["oidc"])
    yield running
    running.stop()


@pytest.fixture
def oidc(oidc_sandbox, settings):
    """Point the portal at the sandbox provider; each test starts from the demo identities."""
    from sandbox.oidc import SANDBOX_USERS, sandbox_user_groups_set

    for username, _name, groups in SANDBOX_USERS:
        sandbox_user_groups_set(
            directory=oidc_sandbox.state.directory, username=username, groups=groups
        )
    settings.INTEGRATION_URLS = {"oidc": oidc_sandbox.endpoints["oidc"]}
    settings.OIDC_SANDBOX_ENABLED = True
    return oidc_sandbox


@pytest.fixture
def teams(db):
    return {
        name: Team.objects.create(name=name, title=name.title())
        for name in ("payments", "checkout", "search")
    }
