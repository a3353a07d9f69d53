"""The page panel registry: who sees which card, how it loads, what it costs the page."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from approvals.models import ApprovalRequest
from catalog.models import Component
from deployments.models import Release
from deployments.releases.services import release_start
from portal import panels
from portal.panels import APPROVAL, RELEASE, SERVICE, Panel


class ExportOnlyPanel(Panel):
    """A lazy card only SREs and the platform team may see (they may export the audit log)."""

    name = "export-only"
    title = "Export-only figures"
    permission = "portal.export_auditevent"
    url_name = "test_export_only_panel"
    template = "portal/audit_recent.html"
    model = Component
    lazy = True
    refresh = 30
    pages = {SERVICE: ("wide", 7)}


@pytest.fixture
def export_only_panel():
    panels.register(ExportOnlyPanel)
    yield panels.registry["export-only"]
    panels.unregister("export-only")


@pytest.fixture
def paused(owner, ledger, environments):
    release = release_start(
        actor=owner, component=ledger, environment=environments["prod"], version="v2.0.0",
        strategy="canary",
    )  # fmt: skip
    Release.objects.filter(pk=release.pk).update(state="paused", current_step=0, set_weight=5)
    release.refresh_from_db()
    return release


def _approval(component, environment, owner, release=None, phase="canary 5% verified"):
    return ApprovalRequest.objects.create(
        component=component, environment=environment, release=release, rollout_phase=phase,
        weight=5, requested_by=owner, requester_label="olivia", from_version="1.2.0",
        to_version="1.3.0", expires_at=timezone.now() + timedelta(minutes=30),
    )  # fmt: skip


def test_a_panel_must_declare_what_it_is_and_have_a_name_of_its_own():
    class Unguarded(ExportOnlyPanel):
        permission = ""

    class Elsewhere(ExportOnlyPanel):
        name = "releases"

    class Nowhere(ExportOnlyPanel):
        name = "nowhere"
        pages = {"dashboard": ("main", 1)}

    for cls in (Unguarded, Elsewhere, Nowhere):
        with pytest.raises(ValueError):
            panels.register(cls)
    assert type(panels.registry["releases"]).__name__ == "ReleasesPanel"
    assert "nowhere" not in panels.registry


@pytest.mark.urls("portal.tests.panel_urls")
def test_panel_the_user_may_not_see_is_not_rendered_and_its_fragment_is_404(
    client, outsider, sre, ledger, export_only_panel
):
    fragment = reverse("test_export_only_panel", args=[ledger.pk])
    client.force_login(outsider)
    html = client.get(ledger.get_absolute_url()).content.decode()
    assert "Export-only figures" not in html and fragment not in html
    assert client.get(fragment, HTTP_HX_REQUEST="true").status_code == 404
    client.force_login(sre)
    html = client.get(ledger.get_absolute_url()).content.decode()
    assert f'hx-get="{fragment}"' in html and f'href="{fragment}"' in html
    response = client.get(fragment, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Recent activity" in response.content.decode()


@pytest.mark.urls("portal.tests.panel_urls")
def test_registered_lazy_panel_appears_in_order_with_its_refresh_interval(
    client, sre, ledger, export_only_panel
):
    client.force_login(sre)
    html = client.get(ledger.get_absolute_url()).content.decode()
    placeholder = html.index('id="panel-export-only"')
    assert 'hx-trigger="load, every 30s"' in html[placeholder : placeholder + 300]
    # order 7 in the "wide" slot: after the dependency lists, before the blast radius (10)
    assert html.index("Depended on by") < placeholder < html.index('id="blast"')


def test_release_page_error_rates_refresh_as_their_panel_declares(client, owner, paused):
    client.force_login(owner)
    html = client.get(paused.get_absolute_url()).content.decode()
    errors = reverse("deployments:release_errors", args=[paused.pk])
    declared = panels.registry["error-rates"].refresh
    assert f'hx-get="{errors}" hx-trigger="load, every {declared}s"' in html
    assert f'href="{errors}"' in html
    assert f"every {panels.registry['status'].refresh}s" in html  # the status polls itself
    assert html.index("Error rates of v2.0.0") < html.index("<h2>Owners</h2>")  # aside order


def test_approval_without_a_release_has_no_rollout_or_error_rate_cards(
    client, owner, ledger, environments
):
    approval = _approval(ledger, environments["prod"], owner)
    client.force_login(owner)
    html = client.get(approval.get_absolute_url()).content.decode()
    assert "What changes" in html and "Blast radius of ledger" in html
    assert "<h2>Rollout</h2>" not in html and "error_rates" not in html


def test_approval_with_a_release_shows_its_rollout_beside_the_decision(
    client, owner, paused, environments
):
    approval = _approval(paused.component, environments["prod"], owner, release=paused)
    client.force_login(owner)
    html = client.get(approval.get_absolute_url()).content.decode()
    assert "<h2>Rollout</h2>" in html and "traffic on v2.0.0" in html
    assert reverse("deployments:release_errors", args=[paused.pk]) in html


def test_every_panel_url_is_a_real_route_and_generic_fragments_answer(client, owner, paused):
    approval = _approval(paused.component, paused.environment, owner, release=paused)
    subjects = {SERVICE: paused.component, RELEASE: paused, APPROVAL: approval}
    client.force_login(owner)
    for panel in panels.registry.values():
        for page in panel.pages:
            url = panel.url(panel.target(subjects[page]))
            resolve(url)  # a path() in some urls.py, not one the registry made up
            response = client.get(url, HTTP_HX_REQUEST="true")
            assert response.status_code == 200, (panel.name, url)
            assert b"<html" not in response.content, panel.name


def test_a_panel_opened_without_htmx_is_a_page_of_its_own(client, owner, ledger):
    client.force_login(owner)
    html = client.get(reverse("catalog:panel_activity", args=[ledger.pk])).content.decode()
    assert "<html" in html and "<h1>Recent activity: ledger</h1>" in html
    assert f'href="{ledger.get_absolute_url()}"' in html


def test_panel_fragments_send_anonymous_people_to_sign_in(client, ledger):
    response = client.get(reverse("deployments:panel_releases", args=[ledger.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pages_query_counts_stay_flat_as_releases_and_approvals_pile_up(
    client, owner, paused, environments
):
    approval = _approval(paused.component, environments["prod"], owner, release=paused)
    client.force_login(owner)
    urls = [paused.component.get_absolute_url(), paused.get_absolute_url()]
    urls.append(approval.get_absolute_url())
    [_queries(client, url) for url in urls]  # warm the blast radius cache and the session
    before = [_queries(client, url) for url in urls]
    for n in range(8):
        Release.objects.create(
            component=paused.component, environment=environments["staging"],
            version=f"v1.{n}.0", state="succeeded", requested_by=owner,
        )  # fmt: skip
        _approval(paused.component, environments["prod"], owner, phase=f"step {n}")
    assert [_queries(client, url) for url in urls] == before


@pytest.mark.urls("portal.tests.panel_urls")
def test_a_lazy_panel_costs_the_page_no_query(client, sre, ledger, export_only_panel):
    client.force_login(sre)
    _queries(client, ledger.get_absolute_url())  # warm the blast radius cache
    with_panel = _queries(client, ledger.get_absolute_url())
    panels.unregister("export-only")
    assert _queries(client, ledger.get_absolute_url()) == with_panel


def test_catalog_reaches_other_apps_panels_only_through_the_registry():
    imported = set()
    for path in (Path(settings.BASE_DIR) / "catalog").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
    assert not imported & {"deployments", "approvals"}  # (apidocs: archcore's arrow to fix)
    templates = (Path(settings.BASE_DIR) / "templates" / "catalog").rglob("*.html")
    sources = [t.read_text() for t in templates]
    assert not any("release_tags" in s or "control_tags" in s for s in sources)
    assert {"approvals", "releases", "live-deployments"} <= set(panels.registry)
