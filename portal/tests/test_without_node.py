"""A machine without Node.js still runs the demo: `make static` says what is missing and the
service page lists the dependencies without loading graph scripts that are not there."""

import os
import subprocess
from pathlib import Path

import pytest

from catalog.tests.graphs import components, edges, team

ROOT = Path(__file__).resolve().parents[2]


def test_make_static_without_node_says_so_and_succeeds():
    stamp = ROOT / "static" / "vendor" / ".built"
    before = stamp.stat().st_mtime if stamp.exists() else None
    result = subprocess.run(
        ["make", "-B", "static", "NPM=/nonexistent/npm"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "MAKEFLAGS": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Node.js/npm not found" in result.stdout and "make static" in result.stdout
    after = stamp.stat().st_mtime if stamp.exists() else None
    assert after == before  # not marked built: the next make tries again


@pytest.mark.django_db
def test_service_page_without_the_browser_libraries_lists_instead_of_drawing(
    client, user, settings, tmp_path
):
    (tmp_path / "css").mkdir()
    settings.STATICFILES_DIRS = [tmp_path]  # a checkout whose static/vendor was never built
    settings.STATIC_ROOT = tmp_path / "collected"  # and never collected (a bench collects)
    g = components("focus", "caller", owner=team("shop"))
    edges(g, "caller>focus")
    client.force_login(user)
    page = client.get(g["focus"].get_absolute_url()).content.decode()
    assert "vendor/cytoscape.min.js" not in page and "make static" in page
    assert "caller" in page  # the dependency lists are still there


@pytest.mark.django_db
def test_service_page_with_the_browser_libraries_draws_the_graph(client, user):
    g = components("focus", owner=team("shop"))
    client.force_login(user)
    page = client.get(g["focus"].get_absolute_url()).content.decode()
    assert "vendor/cytoscape.min.js" in page and "graph-missing" not in page
