"""`make bench`, release part: the live status fragment, polling under load, one poll sweep.

Measures the deployments code as it is; it writes Release rows straight into the bench database
(the catalog wipe truncates them again) and never changes how releases behave.
"""

import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Component, Environment
from deployments.models import Release, ReleaseEvent

ACTIVE_SEEDED = "progressing"
CONNECTIONS = 50
WORKER_ARGS = ["--worker-class=sync"]
WRK_SCRIPT = """
-- Status polling as htmx does it: a signed-in session, HX-Request, one fragment per request.
local paths = {%(paths)s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1], {
    ["Cookie"] = "sessionid=%(session)s",
    ["HX-Request"] = "true",
    ["Host"] = "127.0.0.1",
  })
end
-- Each connection is a viewer polling at a fixed pace, so the offered load is about
-- connections / pace (Debian's wrk has no fixed-rate mode; the achieved rate is reported).
delay = function()
  return %(delay)d
end
"""


def releases_seed(*, components: list[Component], user, events: int = 4) -> list[Release]:
    """Active canary releases (one per component and environment), each with a short timeline."""
    envs = list(Environment.objects.order_by("order", "name"))
    now = timezone.now()
    releases = Release.objects.bulk_create(
        [
            Release(
                component=component,
                environment=env,
                version="v2.0.0",
                previous_version="v1.9.0",
                strategy=Release.Strategy.CANARY,
                canary_steps=[5, 25, 50, 100],
                state=ACTIVE_SEEDED,
                requested_by=user,
                sync_status="Synced",
                health_status="Progressing",
                rollout_phase="Progressing",
                current_step=1,
                set_weight=25,
                actual_weight=25,
                status_message="Rolling out",
                next_poll_at=now,
            )
            for component in components
            for env in envs
        ]
    )
    ReleaseEvent.objects.bulk_create(
        [
            ReleaseEvent(release=r, state=r.state, message=f"step {n}", data={"n": n})
            for r in releases
            for n in range(events)
        ]
    )
    return releases


def fragment_queries(client: Client, release: Release) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        client.get(release.get_absolute_url(), HTTP_HX_REQUEST="true")
    return [q["sql"] for q in ctx.captured_queries]


# --- Load test: wrk against gunicorn on loopback ------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    rate: int
    seconds: int
    requests: int
    achieved_rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int
    non_2xx: int
    workers: int
    tool: str

    @property
    def met(self) -> bool:
        return self.p95_ms < 100 and self.errors == 0 and self.non_2xx == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def load_test(
    *, paths: list[str], session_key: str, rate: int, seconds: int, workers: int
) -> LoadResult | str:
    """Status polling at about `rate` requests/s for `seconds` against gunicorn on loopback.

    Debian's wrk has no fixed-rate mode (that is wrk2), so `CONNECTIONS` connections each wait a
    fixed pace between requests, like htmx viewers polling; the rate reached is reported as is.
    """
    wrk = shutil.which("wrk")
    if not wrk:
        return "skipped: wrk is not installed (apt-get install wrk)"
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": os.environ.get("DATABASE_URL", ""),
        "DEBUG": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "portal.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            *WORKER_ARGS,
            "--log-level=warning",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        _wait_for(port)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp) / "poll.lua"
            quoted = ", ".join(json.dumps(p) for p in paths)
            pace = paced_script_delay(rate, CONNECTIONS)
            script.write_text(WRK_SCRIPT % {"paths": quoted, "session": session_key, "delay": pace})
            # Warm every worker's connection and template cache first.
            subprocess.run(
                [wrk, "-t1", "-c4", "-d2s", "-s", str(script), f"http://127.0.0.1:{port}"],
                capture_output=True,
                timeout=30,
                check=False,
            )
            report = Path(tmp) / "report.lua"
            report.write_text(_REPORT_LUA)
            script.write_text(script.read_text() + report.read_text())
            output = subprocess.run(
                [
                    wrk,
                    "-t2",
                    f"-c{CONNECTIONS}",
                    f"-d{seconds}s",
                    "--latency",
                    "-s",
                    str(script),
                    f"http://127.0.0.1:{port}",
                ],
                capture_output=True,
                text=True,
                timeout=seconds + 60,
                check=False,
            ).stdout
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    line = next((raw for raw in output.splitlines() if raw.startswith("RESULT ")), None)
    if line is None:
        return f"wrk gave no result:\n{output}"
    values = json.loads(line[len("RESULT ") :])
    return LoadResult(
        rate=rate,
        seconds=seconds,
        requests=values["requests"],
        achieved_rps=values["requests"] / values["duration_s"],
        p50_ms=values["p50_us"] / 1000,
        p95_ms=values["p95_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        errors=values["connect"] + values["read"] + values["write"] + values["timeout"],
        non_2xx=values["status"],
        workers=workers,
        tool=f"wrk 4.1, 2 threads, {CONNECTIONS} connections paced {pace} ms",
    )


_REPORT_LUA = """
done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests": %d, "duration_s": %f, "p50_us": %d, "p95_us": %d, "p99_us": %d, '
    .. '"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.timeout, summary.errors.status))
end
"""


def paced_script_delay(rate: int, connections: int) -> int:
    """Milliseconds each connection waits between requests (a few ms are left for the answer)."""
    return max(1, round(1000 * connections / rate) - 3)


# --- One worker's poll sweep over 500 active releases against the sandbox Argo CD -----------


@dataclass(frozen=True)
class SweepResult:
    releases: int
    claimed: int
    claim_ms: float
    sweep_s: float
    per_release_ms: float
    http_only_s: float
    queries_per_release: float
    states: dict


def poll_sweep(*, user, count: int = 500) -> SweepResult | str:
    """`releases_due` then `releases_sweep` (what beat's tick runs) over `count` releases."""
    from catalog.demo import demo_service_names
    from deployments.releases.machine import release_poll_run, releases_due, releases_sweep
    from integrations.argocd import argocd_client

    services = -(-count // 3) + 2
    names = demo_service_names(services)
    components = list(Component.objects.filter(name__in=names, parent__isnull=True))
    if len(components) * 3 < count:
        return f"skipped: only {len(components)} of the sandbox's services are in the catalog"
    Release.objects.all().delete()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per sandbox request
    with tempfile.TemporaryDirectory() as tmp:
        # The sandbox runs in a process of its own, as Argo CD does in production: in this
        # process it would compete with the sweep's threads for the interpreter.
        running = _sandbox_process(Path(tmp))
        saved = {
            key: getattr(settings, key, None)
            for key in ("INTEGRATION_URLS", "GITHUB_TOKEN", "ARGOCD_TOKEN")
        }
        try:
            settings.INTEGRATION_URLS = dict(running.endpoints)
            settings.GITHUB_TOKEN = settings.ARGOCD_TOKEN = "switchyard-sandbox"
            releases = releases_seed(components=components, user=user, events=1)[:count]
            Release.objects.exclude(pk__in=[r.pk for r in releases]).delete()
            apps = [f"{r.component.name}-{r.environment.name}" for r in releases]
            client = argocd_client()
            client.application_get(apps[0])  # the sandbox builds its GitOps repository once
            started = time.perf_counter()
            for app in apps:
                client.application_get(app)
            http_only = time.perf_counter() - started
            Release.objects.update(next_poll_at=timezone.now())
            started = time.perf_counter()
            due = releases_due(limit=count)
            claim_ms = (time.perf_counter() - started) * 1000
            # Queries of one release, counted on this thread; then the sweep beat runs.
            with CaptureQueriesContext(connection) as ctx:
                release_poll_run(release_id=due[0])
            Release.objects.filter(pk=due[0]).update(next_poll_at=timezone.now())
            started = time.perf_counter()
            releases_sweep(due)
            sweep = time.perf_counter() - started + claim_ms / 1000
            states = dict(Release.objects.order_by().values_list("state").annotate(n=Count("pk")))
        finally:
            for key, value in saved.items():
                setattr(settings, key, value)
            running.terminate()
            running.wait(timeout=30)
    return SweepResult(
        releases=len(releases),
        claimed=len(due),
        claim_ms=claim_ms,
        sweep_s=sweep,
        per_release_ms=1000 * sweep / max(1, len(due)),
        http_only_s=http_only,
        queries_per_release=len(ctx.captured_queries),
        states=states,
    )


def _sandbox_process(directory: Path, names=("github", "argocd", "prometheus")):
    """`manage.py sandbox` for `names` (GitHub, Argo CD and Prometheus) in a child process."""
    import json
    import os
    import subprocess
    import sys

    # Not seeded from the bench's catalog (thousands of components): Argo CD applies what the
    # GitOps repository holds, as in the one-world tests.
    env = {**os.environ, "SANDBOX_DIR": str(directory), "SANDBOX_KUBERNETES_SEED": "0"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox", "--only", *names],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoints = directory / "endpoints.json"
    deadline = time.monotonic() + 60
    while not endpoints.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the sandbox process did not start")
        time.sleep(0.2)
    process.endpoints = json.loads(endpoints.read_text())
    return process
