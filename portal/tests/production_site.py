"""Switchyard as it runs in production, started from this checkout for a browser smoke test.

`collectstatic` with the production storage (whitenoise's compressed manifest), then gunicorn
with DEBUG off and the production settings, a Celery worker and beat, and the sandbox as the
outside world. Each process is a real subprocess on loopback with its own database: PostgreSQL
when DATABASE_URL names one (a fresh `<name>_production` database), else a SQLite file.
The broker is the embedded filesystem one in a folder of its own, so the smoke test never shares
a Redis queue with anything else.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
from django.conf import settings

SERVICES = 30
TIME_SCALE = 0.1
SANDBOX_SERVERS = ["kubernetes", "github", "argocd", "prometheus"]


@dataclass
class ProductionSite:
    directory: Path
    env: dict
    url: str = ""
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, name: str, argv: list[str]) -> None:
        log = open(self.directory / f"{name}.log", "wb")  # noqa: SIM115 - closed by the child
        self.processes[name] = subprocess.Popen(
            argv, cwd=settings.BASE_DIR, env=self.env, stdin=subprocess.DEVNULL,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def logs(self) -> str:
        return "\n".join(f"--- {name}.log\n{self.log(name)}" for name in self.processes)

    def wait_for(self, check, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise AssertionError(f"{name} exited with {process.returncode}:\n{self.logs()}")
            if check():
                return
            time.sleep(0.3)
        raise AssertionError(f"{what} did not happen within {timeout}s:\n{self.logs()}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url(directory: Path) -> str:
    """A fresh database for the site: `<name>_production` beside DATABASE_URL's, or SQLite."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        return f"sqlite:///{directory / 'production.sqlite3'}"
    import psycopg

    db = dj_database_url.parse(configured)
    name = f"{db['NAME']}_production"
    admin = dict(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"])
    with psycopg.connect(dbname="postgres", password=db["PASSWORD"] or None, **admin) as conn:
        conn.autocommit = True
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return configured.rsplit("/", 1)[0] + f"/{name}"


def production_env(directory: Path, port: int) -> dict:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_"))}
    return {
        **keep,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"http://127.0.0.1:{port}",
        "SITE_URL": f"http://127.0.0.1:{port}",
        # Loopback has no TLS terminator in front: no redirect to https. Everything else,
        # secure cookies and HSTS included, stays as in production.
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": database_url(directory),
        "STATIC_ROOT": str(directory / "static"),
        "CELERY_DATA_DIR": str(directory / "celery"),
        "SANDBOX_DIR": str(directory / "sandbox"),
        "SANDBOX_DEMO_SERVICES": str(SERVICES),
        # The sandbox's tokens: production has no development defaults for them.
        "GITHUB_TOKEN": "switchyard-sandbox",
        "ARGOCD_TOKEN": "switchyard-sandbox",
    }


def production_site_start(directory: Path) -> ProductionSite:
    port = free_port()
    site = ProductionSite(directory=directory, env=production_env(directory, port))
    site.url = f"http://127.0.0.1:{port}"
    site.manage("collectstatic", "--noinput")
    site.manage("migrate", "--noinput")
    site.manage("seed_demo", "--services", str(SERVICES))
    py = sys.executable
    endpoints = directory / "sandbox" / "endpoints.json"
    site.start("sandbox", [py, "manage.py", "sandbox", "--only", *SANDBOX_SERVERS,
                           "--time-scale", str(TIME_SCALE)])  # fmt: skip
    site.wait_for(endpoints.exists, "the sandbox writing its endpoints")
    celery = [py, "-m", "celery", "-A", "portal"]
    site.start("worker", [*celery, "worker", "--pool", "threads", "--concurrency", "4",
                          "--without-mingle", "--without-gossip", "-l", "INFO"])  # fmt: skip
    site.start("beat", [*celery, "beat", "-l", "INFO"])
    site.start("web", [py, "-m", "gunicorn", "portal.wsgi:application", "--bind",
                       f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
                       "--access-logfile", "-"])  # fmt: skip
    site.wait_for(lambda: _answers(site.url + "/healthz"), "gunicorn answering /healthz")
    return site


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def endpoints(site: ProductionSite) -> dict:
    return json.loads((site.directory / "sandbox" / "endpoints.json").read_text())
