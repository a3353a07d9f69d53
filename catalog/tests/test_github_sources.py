"""GitHub discovery and the github-org source against the GitHub sandbox (PyGithub, loopback)."""

import json

import pytest
import requests
from openapi_schema_validator import OAS30Validator

from catalog.models import CatalogSource, Component, Person, Team
from catalog.sources.sync import source_run
from integrations.github_catalog import github_catalog

pytestmark = pytest.mark.django_db
ORG = "acme-labs"
HEADERS = {"Authorization": "Bearer switchyard-sandbox", "X-GitHub-Api-Version": "2022-11-28"}


@pytest.fixture
def github(tmp_path, settings):
    from sandbox.runner import start_sandbox

    running = start_sandbox(directory=tmp_path, names=["github"])
    settings.INTEGRATION_URLS = {"github": running.endpoints["github"]}
    settings.GITHUB_TOKEN = "switchyard-sandbox"
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    yield running.endpoints["github"]
    running.stop()


def put_repo(base, name, files: dict):
    requests.post(f"{base}/sandbox/repos", json={"owner": ORG, "name": name}, timeout=5)
    for path, text in files.items():
        url = f"{base}/sandbox/repos/{ORG}/{name}/contents/{path}"
        requests.put(url, json={"text": text}, timeout=5).raise_for_status()


def component(name, owner="platform", extra=""):
    return (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        f"metadata: {{name: {name}}}\n"
        f"spec: {{type: service, lifecycle: production, owner: {owner}{extra}}}\n"
    )


LOCATION = """apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: org}
spec:
  targets:
    - ./catalog/team.yaml
    - ./services/**/catalog-info.yaml
    - https://github.com/acme-labs/shared-descriptors/blob/main/apis/payments.yaml
"""
TEAM = """apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: team, children: []}
"""
API = """apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-api}
spec: {type: openapi, lifecycle: production, owner: platform, definition: 'openapi: 3.0.0'}
"""


@pytest.fixture
def organisation(github):
    put_repo(github, "checkout", {"catalog-info.yaml": component("checkout")})
    put_repo(github, "cart", {"catalog-info.yaml": component("cart")})
    put_repo(
        github,
        "platform",
        {
            "catalog-info.yaml": LOCATION,
            "catalog/team.yaml": TEAM,
            "services/billing/catalog-info.yaml": component("billing"),
            "services/billing/jobs/catalog-info.yaml": component("billing-jobs"),
            "services/README.md": "not matched",
        },
    )
    put_repo(github, "shared-descriptors", {"apis/payments.yaml": API})  # no descriptor at the root
    put_repo(github, "scratch", {"README.md": "nothing here"})
    return github


@pytest.fixture
def discovery(organisation):
    return CatalogSource.objects.create(name="acme", kind="github-discovery", config={"org": ORG})


def test_discovery_reads_every_repository_descriptor_and_follows_locations_into_github(discovery):
    source = source_run(discovery.pk)
    assert source.outcome == "ok", source.message
    assert source.counts["created"] == 6 and source.counts["errors"] == 0
    assert (source.progress_done, source.progress_total) == (5, 5)  # repositories
    names = set(Component.objects.values_list("name", flat=True))
    # ./services/**/catalog-info.yaml matched two files (the trees API); README.md is not one.
    assert names == {"checkout", "cart", "payments-api", "billing", "billing-jobs"}
    assert Component.objects.get(name="cart").owner == Team.objects.get(name="platform")


def test_an_unchanged_organisation_costs_a_304_per_file_and_no_import(discovery, organisation):
    source_run(discovery.pk)
    source = source_run(discovery.pk)
    assert source.message == "Nothing changed at the source (conditional requests)."
    assert source.counts == {"created": 0, "updated": 0, "unchanged": 6, "orphaned": 0, "errors": 0}

    put_repo(organisation, "cart", {"catalog-info.yaml": component("cart", extra=", system: shop")})
    source = source_run(discovery.pk)
    assert (source.counts["updated"], source.counts["unresolved"]) == (1, 1)  # system waits
    requests.delete(
        f"{organisation}/sandbox/repos/{ORG}/checkout/contents/catalog-info.yaml", timeout=5
    )
    source = source_run(discovery.pk)
    assert source.counts["orphaned"] == 1


def test_conditional_requests_answer_304_with_the_etag(organisation):
    client = github_catalog()
    first = client.file_get(f"{ORG}/cart", "catalog-info.yaml", ref="main")
    assert first.text.startswith("apiVersion") and first.etag
    again = client.file_get(f"{ORG}/cart", "catalog-info.yaml", ref="main", etag=first.etag)
    assert again.not_modified and again.text is None
    assert client.file_get(f"{ORG}/scratch", "catalog-info.yaml", ref="main").text is None


def test_org_answers_match_the_github_schemas(shared_dir, organisation):
    spec = json.loads(
        (shared_dir / "specs/github/api.github.com.2022-11-28.extract.json").read_text()
    )

    def check(items, name):
        assert items
        # The schema's root is the spec's components, so every $ref in it resolves.
        root = {"components": spec["components"], "$ref": f"#/components/schemas/{name}"}
        validator = OAS30Validator(root)
        for item in items:
            validator.validate(item)

    requests.put(
        f"{organisation}/sandbox/orgs/{ORG}/teams/platform", json={"members": ["ana"]}, timeout=5
    )
    repos = requests.get(f"{organisation}/orgs/{ORG}/repos", headers=HEADERS, timeout=5).json()
    check(repos, "minimal-repository")
    teams = requests.get(f"{organisation}/orgs/{ORG}/teams", headers=HEADERS, timeout=5).json()
    check(teams, "team")
    members = requests.get(
        f"{organisation}/orgs/{ORG}/teams/platform/members", headers=HEADERS, timeout=5
    ).json()
    check(members, "simple-user")
    # The trees API has no schema in the extract: its shape is PyGithub's GitTree (read below).
    tree = requests.get(
        f"{organisation}/repos/{ORG}/platform/git/trees/main",
        params={"recursive": 1},
        headers=HEADERS,
        timeout=5,
    ).json()
    assert {i["path"] for i in tree["tree"] if i["type"] == "blob"} >= {"catalog/team.yaml"}
    assert {"services", "services/billing"} <= {
        i["path"] for i in tree["tree"] if i["type"] == "tree"
    }


def test_org_teams_and_members_become_groups_and_users_without_touching_sign_in(
    github, owner, payments
):
    from portal.models import TeamMembership

    memberships = list(TeamMembership.objects.values_list("user_id", "team_id"))
    for slug, body in {
        "engineering": {"name": "Engineering", "members": ["ana"]},
        "payments": {"name": "Payments", "parent": "engineering", "members": ["ana", "ben"]},
    }.items():
        requests.put(f"{github}/sandbox/orgs/{ORG}/teams/{slug}", json=body, timeout=5)
    source = CatalogSource.objects.create(name="acme-org", kind="github-org", config={"org": ORG})
    source = source_run(source.pk)
    assert source.outcome == "ok", source.message
    assert (source.counts["created"], source.counts["updated"]) == (3, 1)  # payments existed
    team = Team.objects.get(name="payments")
    assert (team.title, team.parent.name) == ("Payments", "engineering")
    assert set(Person.objects.get(name="ana").teams.values_list("name", flat=True)) == {
        "engineering",
        "payments",
    }
    assert list(TeamMembership.objects.values_list("user_id", "team_id")) == memberships
