"""The web process as shipped: gunicorn reads `gunicorn.conf.py` from the project directory.

Two web processes on one host (the scale-out shape, or two pods sharing a node's home) must not
race for gunicorn 27's default control socket at ~/.gunicorn/gunicorn.ctl: the loser logs
"Control server error", which the CI run caught once in the scale-out test's logs.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request

from django.conf import settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except OSError as error:  # a 404 still means gunicorn is serving; it needs no database
        return hasattr(error, "code")


def test_the_shipped_settings_leave_the_control_socket_off(tmp_path):
    printed = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "portal.wsgi:application"],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=60,
        env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    assert printed.returncode == 0, printed.stderr
    resolved = dict(line.split("=", 1) for line in printed.stdout.splitlines() if "=" in line)
    resolved = {key.strip(): value.strip() for key, value in resolved.items()}
    assert resolved["control_socket_disable"] == "True"
    assert resolved["worker_class"] == "sync"  # the command line chooses workers and threads


def test_two_web_processes_on_one_host_start_cleanly_and_open_no_control_socket(tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "DEBUG": "true", "SECRET_KEY": "test-only"}
    ports = [_free_port(), _free_port()]
    logs = [open(tmp_path / f"web-{port}.log", "wb") for port in ports]
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for port, log in zip(ports, logs, strict=True)
    ]
    try:
        deadline = time.monotonic() + 60
        while not all(_answers(f"http://127.0.0.1:{port}/static/no-such-file") for port in ports):
            assert time.monotonic() < deadline, "the web processes did not answer in 60 s"
            assert all(p.poll() is None for p in processes), "a web process exited"
            time.sleep(0.3)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        for log in logs:
            log.close()
    text = "".join((tmp_path / f"web-{port}.log").read_text() for port in ports)
    assert "Listening at" in text
    assert "Control socket" not in text and "ERROR" not in text, text
    assert not (tmp_path / ".gunicorn").exists()
