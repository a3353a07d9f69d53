"""The production image installs requirements-runtime.lock only. The product must run on it:
with every distribution that only requirements.lock has made unimportable, Django starts with
the production settings, every product module imports, the system checks pass, collectstatic
builds the manifest (as the image's build does), the database migrates and the web answers."""

import os
import subprocess
import sys

from django.conf import settings

from portal.tests.test_lock import check_lock

PRODUCT = ["portal", "catalog", "deployments", "approvals", "apidocs", "integrations", "logs",
           "oncall", "notifications"]  # fmt: skip

SCRIPT = r"""
import importlib, importlib.abc, importlib.metadata as md, pkgutil, sys

dev_only = set(sys.argv[1].split(","))
canon = lambda name: name.lower().replace("_", "-").replace(".", "-")
blocked = {
    module for module, dists in md.packages_distributions().items()
    if dists and all(canon(d) in dev_only for d in dists)
}

class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"{name} is not in requirements-runtime.lock")
        return None

sys.meta_path.insert(0, NotInTheImage())
for module in [m for m in sys.modules if m.split(".")[0] in blocked]:
    del sys.modules[module]

import django
django.setup()
imported = 0
for package in sys.argv[2].split(","):
    root = importlib.import_module(package)
    for info in pkgutil.walk_packages(root.__path__, prefix=package + "."):
        if ".tests" in info.name:
            continue
        importlib.import_module(info.name)
        imported += 1
from django.core.management import call_command
call_command("check")
call_command("collectstatic", interactive=False, verbosity=0)  # as the image's build does
call_command("migrate", verbosity=0)
from django.test import Client
client = Client()
for path in ("/healthz", "/accounts/login/"):
    response = client.get(path, secure=True)
    assert response.status_code == 200, (path, response.status_code, response.content[:300])
print("imported", imported, "modules; checks, migrate and pages ok")
"""


def test_the_product_runs_on_the_runtime_lock_alone(tmp_path):
    base = settings.BASE_DIR
    full, _ = check_lock.pins((base / "requirements.lock").read_text())
    runtime, _ = check_lock.pins((base / "requirements-runtime.lock").read_text())
    dev_only = sorted(set(full) - set(runtime))
    assert "pytest" in dev_only and "playwright" in dev_only  # the blocker has work to do
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))},
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DEBUG": "0",
        "SECRET_KEY": "runtime-lock-test-" + "x" * 40,
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'runtime.db'}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": "",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(dev_only), ",".join(PRODUCT)],
        cwd=base, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "checks, migrate and pages ok" in result.stdout
    imported = int(result.stdout.split("imported ", 1)[1].split()[0])
    assert imported > 200  # every product module, not a handful
