"""The real parts: a task goes through the real Redis broker to a real worker process."""

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.conf import settings
from django.db import connection

from portal.models import WorkerHeartbeat

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_task_runs_on_real_worker_through_redis():
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: no real Redis broker to send through")
    if connection.vendor != "postgresql":
        pytest.skip(
            "DATABASE_URL is not PostgreSQL: a worker process cannot share the test database"
        )
    from portal.celery import app
    from portal.tasks import heartbeat

    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "portal",
            "worker",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--pool",
            "solo",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    app.conf.task_always_eager = False
    try:
        heartbeat.apply_async(queue=queue)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and worker.poll() is None:
            if WorkerHeartbeat.objects.filter(hostname__startswith=f"{queue}@").exists():
                break
            time.sleep(0.3)
    finally:
        app.conf.task_always_eager = True
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    beat = WorkerHeartbeat.objects.filter(hostname__startswith=f"{queue}@").first()
    assert beat is not None, f"the worker never recorded its heartbeat; its output:\n{output}"
    assert beat.beats == 1
