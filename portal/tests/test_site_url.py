"""Everything a process needs to reach Switchyard follows the port `make run PORT=...` chose."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _site_url(**env) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("SITE_URL", "HOST", "WEB_PORT")}
    result = subprocess.run(
        [sys.executable, "-c", "from portal import settings; print(settings.SITE_URL)"],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return result.stdout.strip()


def test_site_url_follows_the_web_port_of_make_run():
    assert _site_url(WEB_PORT="8123") == "http://127.0.0.1:8123"
    assert _site_url(HOST="0.0.0.0", WEB_PORT="9000") == "http://127.0.0.1:9000"


def test_an_explicit_site_url_wins():
    assert _site_url(SITE_URL="https://switchyard.example.com", WEB_PORT="8123") == (
        "https://switchyard.example.com"
    )


def test_default_is_port_8000():
    assert _site_url() == "http://127.0.0.1:8000"
