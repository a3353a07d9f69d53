"""Scale-out shape: 2 web + 2 workers + 1 beat processes against one PostgreSQL and Redis run a
release with an approval, with no duplicate dispatch or signal.

The processes are real (gunicorn, celery worker, celery beat) and share the test database; the
sandbox servers run in this test. Needs DATABASE_URL (PostgreSQL) and REDIS_URL.
"""

import os
import re
import socket
import subprocess
import sys

import pytest
import requests
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from approvals.models import ApprovalPolicy, ApprovalRequest
from catalog.models import Component, ComponentEnvironment, Environment, Team
from deployments.models import Release
from integrations.github import github_client
from integrations.tests.conftest import wait_until
from portal.models import TeamMembership
from sandbox.demo import demo_service_names, demo_versions
from sandbox.runner import start_sandbox
from sandbox.switchyard import sandbox_machine_credentials

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
SERVICE = demo_service_names(2)[1]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def cluster_of_processes(tmp_path, make_user, settings):
    if not settings.REDIS_URL or connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL (PostgreSQL) and REDIS_URL shared by the processes")
    sandbox = start_sandbox(
        directory=tmp_path / "sandbox",
        names=["argocd", "github", "kubernetes", "prometheus"],
        shared={"time_scale": 0.05, "demo_services": 2},
    )
    settings.INTEGRATION_URLS = dict(sandbox.endpoints)
    settings.GITHUB_TOKEN = "switchyard-sandbox"
    team = Team.objects.create(name="payments")
    component = Component.objects.create(
        name=SERVICE, owner=team, repository=f"https://github.com/example/{SERVICE}"
    )
    prod = Environment.objects.create(name="prod", order=3, is_production=True, kube_context="prod")
    ComponentEnvironment.objects.create(
        component=component, environment=prod, kube_deployment=SERVICE,
        argocd_application=f"{SERVICE}-prod",
    )  # fmt: skip
    ApprovalPolicy.objects.create(environment=prod, default_ttl_minutes=30)
    owner, colleague = make_user("olivia"), make_user("camila")
    for user in (owner, colleague):
        TeamMembership.objects.create(user=user, team=team)
    sandbox.state.shared["switchyard_machine"] = sandbox_machine_credentials()
    webs = [f"http://127.0.0.1:{_free_port()}" for _ in range(2)]
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "DEBUG": "true",
        "SITE_URL": webs[1],  # the workflow calls the second web process back
        "GITHUB_URL": sandbox.endpoints["github"],
        "ARGOCD_URL": sandbox.endpoints["argocd"],
        "PROMETHEUS_URL": sandbox.endpoints["prometheus"],
        "GITHUB_TOKEN": "switchyard-sandbox",
        "ARGOCD_TOKEN": "switchyard-sandbox",
        "KUBERNETES_KUBECONFIG": str(sandbox.state.directory / "kubeconfig"),
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    celery = [sys.executable, "-m", "celery", "-A", "portal"]
    commands = [
        [sys.executable, "-m", "gunicorn", "portal.wsgi:application", "--bind",
         url.removeprefix("http://"), "--workers", "1", "--threads", "4"]
        for url in webs
    ] + [
        [*celery, "worker", "-n", f"w{i}@%h", "--pool", "threads", "-c", "4", "-l", "warning"]
        for i in (1, 2)
    ] + [[*celery, "beat", "-l", "warning", "-s", str(tmp_path / "beat-schedule")]]  # fmt: skip
    logs = [open(tmp_path / f"process-{i}.log", "wb") for i in range(len(commands))]
    processes = [
        subprocess.Popen(cmd, env=env, cwd=settings.BASE_DIR, stdout=log, stderr=subprocess.STDOUT)
        for cmd, log in zip(commands, logs, strict=True)
    ]
    try:
        for url in webs:
            wait_until(lambda u=url: _answers(u), timeout=60, interval=0.3)
        yield {
            "webs": webs, "sandbox": sandbox, "component": component, "prod": prod,
            "owner": owner, "colleague": colleague, "logs": tmp_path,
        }  # fmt: skip
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
        sandbox.stop()


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _session(user, web: str) -> requests.Session:
    """A browser session of `user` against one web process (the session lives in the shared
    database and Redis, so any web process knows it)."""
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(
        django_settings.SESSION_COOKIE_NAME,
        client.cookies[django_settings.SESSION_COOKIE_NAME].value,
    )
    session.get(f"{web}/", timeout=10)  # sets the CSRF cookie
    session.headers["X-CSRFToken"] = session.cookies.get(django_settings.CSRF_COOKIE_NAME, "")
    session.headers["Referer"] = web
    return session


def test_two_webs_two_workers_one_beat_run_a_release_with_an_approval_once(cluster_of_processes):
    world = cluster_of_processes
    web1, web2 = world["webs"]
    version = demo_versions(SERVICE)[-1]
    owner = _session(world["owner"], web1)
    started = owner.post(
        f"{web1}/releases/start/{world['component'].pk}/",
        data={
            "environment": world["prod"].pk,
            "version": version,
            "strategy": "canary",
            "canary_steps": "5, 25, 50, 100",
        },  # fmt: skip
        timeout=20,
    )
    assert started.ok, started.text[:500]
    release = wait_until(lambda: Release.objects.filter(version=version).first(), timeout=30)
    approval = wait_until(
        lambda: ApprovalRequest.objects.filter(release=release, state="pending").first(),
        timeout=60, interval=0.3,
    )  # fmt: skip
    # Asked for as soon as the workflow has committed, before the Rollout pauses: the
    # decision is held and sent when the release pauses at its step.
    colleague = _session(world["colleague"], web2)
    decided = colleague.post(
        f"{web2}/approvals/{approval.pk}/decide/",
        data={"decision": "approve", "comment": "error rates flat"},
        timeout=20,
    )
    assert decided.ok, decided.text[:500]
    # A double click on the other web process changes nothing.
    colleague.post(
        f"{web1}/approvals/{approval.pk}/decide/", data={"decision": "approve"}, timeout=20
    )
    done = wait_until(
        lambda: Release.objects.filter(pk=release.pk, state="succeeded").first(),
        timeout=120, interval=0.5,
    )  # fmt: skip
    runs = [
        run
        for run in github_client()._repo(f"example/{SERVICE}").get_workflow_runs()
        if f"(release {release.pk})" in run.display_title
    ]
    assert len(runs) == 1, runs  # one dispatch, whichever worker took it
    actions = world["sandbox"].state.shared["argocd"].actions_run
    assert actions.count((f"{SERVICE}-prod", "resume")) == 1, actions  # one signal
    assert done.events.filter(state="dispatching").count() == 1
    approval.refresh_from_db()
    assert (approval.state, approval.signal_state) == ("approved", "sent")
    logs = "".join(p.read_text(errors="replace") for p in world["logs"].glob("process-*.log"))
    bad = [line for line in logs.splitlines() if re.search(r"Traceback|ERROR", line)]
    assert not bad, "\n".join(bad[:20])
