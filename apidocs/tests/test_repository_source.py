"""Fetch from the component's repository (GitHub sandbox): view and import_protos --github."""

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from apidocs.models import ApiVersion
from sandbox.demo import demo_protos
from sandbox.runner import start_sandbox

REPO = "payments-api"


@pytest.fixture
def github_sandbox(tmp_path, settings, component):
    running = start_sandbox(directory=tmp_path, names=["github"])
    settings.INTEGRATION_URLS = dict(running.endpoints)
    settings.GITHUB_TOKEN = "switchyard-sandbox"
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    component.repository = f"https://github.com/example/{REPO}"
    component.save()
    yield running
    running.stop()


def _control(sandbox, method, url_path, **body):
    url = f"{sandbox.endpoints['github']}{url_path}"
    requests.request(method, url, json=body or None, timeout=5).raise_for_status()


def _expected():
    return {p.removeprefix("proto/"): t for p, t in demo_protos(REPO).items()}


def test_owner_fetches_a_version(client, owner, definition, github_sandbox):
    client.force_login(owner)
    url = reverse("apidocs:version_fetch", args=[definition.pk])
    assert 'value="proto/"' in client.get(url).content.decode()

    response = client.post(url, {"path": "proto/", "ref": "main"}, follow=True)

    version = definition.versions.get()
    assert (version.source, version.files) == ("repository", _expected())
    assert version.comment == f"From https://github.com/example/{REPO}@main:proto/"
    assert "PaymentsApiService" in response.content.decode()


def test_breaking_fetch_needs_a_reason(client, owner, definition, github_sandbox):
    # Not production-facing: buf's FILE rules apply by default (RPC_NO_DELETE is not WIRE_JSON).
    definition.component.lifecycle = "experimental"
    definition.component.save(update_fields=["lifecycle"])
    client.force_login(owner)
    url = reverse("apidocs:version_fetch", args=[definition.pk])
    client.post(url, {"path": "proto", "ref": "main"})
    path, text = next(iter(demo_protos(REPO).items()))
    broken = "\n".join(line for line in text.splitlines() if "rpc Get" not in line)
    _control(github_sandbox, "PUT", f"/sandbox/repos/example/{REPO}/contents/{path}", text=broken)

    response = client.post(url, {"path": "proto", "ref": "main"})
    assert "RPC_NO_DELETE" in response.content.decode()
    assert definition.versions.count() == 1

    client.post(url, {"path": "proto", "ref": "main", "accept_breaking_reason": "unused"})
    latest = definition.versions.first()
    assert latest.number == 2 and latest.breaking_accepted_reason == "unused"


def test_github_down_stores_nothing(client, owner, definition, github_sandbox):
    _control(github_sandbox, "POST", "/sandbox/faults", path="/repos/", kind="error", status=503)
    client.force_login(owner)

    response = client.post(reverse("apidocs:version_fetch", args=[definition.pk]),
                           {"path": "proto/", "ref": "main"})  # fmt: skip

    page = response.content.decode()
    assert response.status_code == 200 and "GitHub did not answer; nothing was stored" in page
    assert ApiVersion.objects.count() == 0


def test_unknown_ref_says_what_to_check(client, owner, definition, github_sandbox):
    client.force_login(owner)
    response = client.post(reverse("apidocs:version_fetch", args=[definition.pk]),
                           {"path": "proto/", "ref": "nope"})  # fmt: skip
    assert "Check the path and the ref" in response.content.decode()
    assert ApiVersion.objects.count() == 0


def test_outsider_is_refused_before_github_is_called(client, outsider, definition, github_sandbox):
    _control(github_sandbox, "POST", "/sandbox/faults", path="/repos/", kind="error", status=500)
    client.force_login(outsider)
    response = client.post(reverse("apidocs:version_fetch", args=[definition.pk]),
                           {"path": "proto/", "ref": "main"})  # fmt: skip
    assert response.status_code == 404 and ApiVersion.objects.count() == 0


def test_component_without_repository(client, owner, definition, github_sandbox):
    definition.component.repository = ""
    definition.component.save()
    client.force_login(owner)
    response = client.post(reverse("apidocs:version_fetch", args=[definition.pk]),
                           {"path": "proto/", "ref": "main"})  # fmt: skip
    assert "has no repository in the catalog" in response.content.decode()


def test_command_github(component, github_sandbox, capsys):
    call_command("import_protos", component.name, "--github", "proto", "--ref", "main")
    version = ApiVersion.objects.get()
    assert version.files == _expected() and version.author_label == "command:import_protos"
    assert "Stored" in capsys.readouterr().out


def test_command_github_down(component, github_sandbox):
    _control(github_sandbox, "POST", "/sandbox/faults", path="/repos/", kind="error", status=503)
    with pytest.raises(CommandError, match="GitHub did not answer"):
        call_command("import_protos", component.name, "--github", "proto")
    assert ApiVersion.objects.count() == 0


def test_command_needs_dir_or_github(component):
    with pytest.raises(CommandError, match="either DIR or --github"):
        call_command("import_protos", component.name)
