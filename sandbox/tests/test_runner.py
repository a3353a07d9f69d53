import json
import os
import subprocess
import sys
import time

import requests
from django.conf import settings

from sandbox import registry
from sandbox.runner import start_sandbox


def _hello(state):
    def app(environ, start_response):
        body = json.dumps({"me": state.endpoints["hello"], "all": sorted(state.endpoints)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return app


def test_servers_start_on_free_ports_and_know_each_other(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_SERVERS", {})
    monkeypatch.setattr(registry, "SERVER_MODULES", [])
    registry.register("hello", _hello, "test server")
    registry.register("other", _hello, "test server")
    running = start_sandbox(directory=tmp_path)
    try:
        url = running.endpoints["hello"]
        answer = requests.get(url, timeout=5).json()
        assert answer == {"me": url, "all": ["hello", "other"]}
        running.write_endpoints(tmp_path / "endpoints.json")
        assert json.loads((tmp_path / "endpoints.json").read_text()) == running.endpoints
    finally:
        running.stop()


def _broken(state):
    raise RuntimeError("its configuration is missing")


def _exits(state, url):
    code = "import sys; print('Cannot find module oidc-provider'); sys.exit(3)"
    return registry.ProcessCommand(argv=[sys.executable, "-c", code])


def test_one_server_failing_is_reported_and_the_others_keep_running(tmp_path, monkeypatch):
    monkeypatch.setattr(registry, "_SERVERS", {})
    monkeypatch.setattr(registry, "SERVER_MODULES", [])
    registry.register("hello", _hello, "test server")
    registry.register("broken", _broken, "a server whose factory fails")
    registry.register_process("program", _exits, "a program that exits at once")
    running = start_sandbox(directory=tmp_path)
    try:
        assert sorted(running.failed) == ["broken", "program"]
        assert "its configuration is missing" in running.failed["broken"]
        assert "exited with 3" in running.failed["program"]
        assert "Cannot find module" in running.failed["program"]
        assert sorted(running.endpoints) == ["hello"]
        assert requests.get(running.endpoints["hello"], timeout=5).json()["me"]
    finally:
        running.stop()


def test_sandbox_command_reports_a_failed_server_and_serves_the_rest(tmp_path):
    # The OpenID Connect provider's Node fails as it does without node_modules.
    node = tmp_path / "node"
    node.write_text("#!/bin/sh\necho \"Error: Cannot find module 'oidc-provider'\"\nexit 1\n")
    node.chmod(0o755)
    env = {**os.environ, "SANDBOX_DIR": str(tmp_path / "sandbox"), "SANDBOX_NODE": str(node),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}  # fmt: skip
    command = [sys.executable, "manage.py", "sandbox", "--only", "github", "oidc"]
    process = subprocess.Popen(
        command, cwd=settings.BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    endpoints = tmp_path / "sandbox" / "endpoints.json"
    try:
        deadline = time.monotonic() + 60
        while not endpoints.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        alive = process.poll() is None
        served = json.loads(endpoints.read_text()) if endpoints.exists() else {}
        answer = requests.get(f"{served['github']}/repos/example/x", timeout=5) if served else None
    finally:
        process.terminate()
        out, err = (part.decode(errors="replace") for part in process.communicate(timeout=30))
    assert alive, f"the sandbox exited:\n{out}\n{err}"
    assert sorted(served) == ["github"]
    assert answer.status_code == 401  # GitHub's answer without a token: the server is up
    assert "oidc" in err and "FAILED to start" in err
