"""`manage.py sandbox` without Node: every other server starts, and it says why SSO is off."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_sandbox_starts_without_node_and_says_sso_is_skipped(tmp_path):
    env = {
        **os.environ, "SANDBOX_DIR": str(tmp_path), "SANDBOX_NODE": str(tmp_path / "no-node"),
        "SANDBOX_DEMO_SERVICES": "5",
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "manage.py", "sandbox"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            lines.append(line)
            if "endpoints written" in line or not line:
                break
        output = "".join(lines)
        assert "SSO provider (oidc) is skipped: Node.js is not installed" in output, output
        endpoints = json.loads((tmp_path / "endpoints.json").read_text())
        assert "oidc" not in endpoints
        assert {"kubernetes", "github", "argocd", "prometheus", "demo-grpc", "demo-http"} <= set(
            endpoints
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
