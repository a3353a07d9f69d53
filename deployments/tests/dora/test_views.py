"""DORA pages: organisation, namespace, team and service, their CSV, and the service card."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import Namespace
from deployments.dora.history import HistoryPlan, release_history_seed
from deployments.models import Release
from portal.tests.factories import ComponentFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _released(component, environment, *, state="succeeded", days_ago=1, hours_to_ship=5):
    finished = timezone.now() - timedelta(days=days_ago)
    return Release.objects.create(
        component=component,
        environment=environment,
        version="1.0.0",
        state=state,
        created_at=finished - timedelta(minutes=10),
        finished_at=finished,
        committed_at=finished - timedelta(hours=hours_to_ship),
    )


def _csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_organisation_page_draws_four_charts_with_their_definitions(client, user, ledger,
                                                                      environments):  # fmt: skip
    _released(ledger, environments["prod"])
    _released(ledger, environments["staging"])  # not production: not counted
    client.force_login(user)
    response = client.get(reverse("deployments:dora_organisation"))
    assert response.status_code == 200
    html = response.content.decode()
    for key in ("deployments", "lead_time", "failure_rate", "restore_time"):
        assert f'id="dora-{key}"' in html
    assert html.count("<svg") == 4
    bar = r'dora-bar-deployments" x="\d+" y="[\d.]+" width="16" height="([\d.]+)"'
    drawn = re.findall(bar, html)
    assert len(drawn) == 12 and drawn.count("0.0") == 11 and "100.0" in drawn  # one week's bar
    assert "Definition." in html and "high-urgency PagerDuty incident" in html
    assert ' style="' not in html and "<script>" not in html  # strict CSP: attributes, classes
    assert re.search(r'data-key="lead_time">5.0 h<', html)


def test_csv_has_one_row_per_week_with_the_four_keys(client, user, ledger, environments):
    _released(ledger, environments["prod"], days_ago=0)
    _released(ledger, environments["prod"], state="aborted", days_ago=0)
    client.force_login(user)
    response = client.get(reverse("deployments:dora_organisation_csv") + "?weeks=4")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert len(rows) == 4
    last = rows[-1]
    assert (last["deployments"], last["changes"], last["failed_changes"]) == ("1", "2", "1")
    assert last["change_failure_rate_percent"] == "50"


def test_team_namespace_and_service_pages_count_only_their_services(client, user, environments):
    prod = environments["prod"]
    shop = Namespace.objects.create(name="shop")
    ours, theirs = TeamFactory(name="cart-team"), TeamFactory(name="other")
    cart = ComponentFactory(name="cart", owner=ours, namespace=shop)
    search = ComponentFactory(name="search", owner=theirs)
    _released(cart, prod, days_ago=0)
    for _ in range(3):
        _released(search, prod, days_ago=0)
    client.force_login(user)

    def deployments(url_name, *args):
        response = client.get(reverse(url_name, args=args) + "?weeks=1")
        return _csv_rows(response)[0]["deployments"]

    assert deployments("deployments:dora_team_csv", ours.metadata_namespace, ours.name) == "1"
    assert deployments("deployments:dora_namespace_csv", shop.metadata_namespace, "shop") == "1"
    assert deployments("deployments:dora_service_csv", search.pk) == "3"
    assert deployments("deployments:dora_organisation_csv") == "4"
    page = client.get(reverse("deployments:dora_team", args=[ours.metadata_namespace, ours.name]))
    assert page.status_code == 200 and "Delivery of cart-team" in page.content.decode()


def test_pages_link_to_delivery(client, user, ledger, payments):
    client.force_login(user)
    team_page = client.get(payments.get_absolute_url()).content.decode()
    assert reverse("deployments:dora_team", args=[payments.metadata_namespace, "payments"]) in (
        team_page
    )
    service_page = client.get(ledger.get_absolute_url()).content.decode()
    assert reverse("deployments:panel_delivery", args=[ledger.pk]) in service_page
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    assert reverse("deployments:dora_organisation") in dashboard


def test_service_card_shows_the_four_keys_and_links_to_the_charts(client, user, ledger,
                                                                  environments):  # fmt: skip
    _released(ledger, environments["prod"])
    client.force_login(user)
    response = client.get(
        reverse("deployments:panel_delivery", args=[ledger.pk]), headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert "Change failure rate" in html
    assert reverse("deployments:dora_service", args=[ledger.pk]) in html


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(reverse("deployments:dora_organisation"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_team_is_404(client, user):
    client.force_login(user)
    assert client.get(reverse("deployments:dora_team", args=["default", "nope"])).status_code == 404


@pytest.mark.parametrize("services", [1, 30])
def test_organisation_page_costs_the_same_queries_with_more_history(
    client, user, environments, services, django_assert_max_num_queries
):
    components = [ComponentFactory(name=f"svc-{n}") for n in range(services)]
    seeded = release_history_seed(
        components=components, environment=environments["prod"], plan=HistoryPlan(weeks=12)
    )
    assert seeded["releases"] >= services * 12
    client.force_login(user)
    with django_assert_max_num_queries(8):  # session, user, stamp (2), releases, incidents
        response = client.get(reverse("deployments:dora_organisation"))
    assert response.status_code == 200
    with django_assert_max_num_queries(9):
        team = components[0].owner
        client.get(reverse("deployments:dora_team", args=[team.metadata_namespace, team.name]))


def test_seeded_history_has_failures_restores_and_lead_times(client, user, environments):
    components = [ComponentFactory(name=f"svc-{n}") for n in range(20)]
    release_history_seed(components=components, environment=environments["prod"])
    client.force_login(user)
    rows = _csv_rows(client.get(reverse("deployments:dora_organisation_csv")))
    assert sum(int(r["deployments"]) for r in rows) > 400
    assert sum(int(r["failed_changes"]) for r in rows) > 10
    assert any(r["time_to_restore_median_hours"] for r in rows)
    assert all(r["lead_time_median_hours"] for r in rows[1:])


def test_a_page_read_again_comes_from_the_cache_until_the_ledger_moves(
    client, user, ledger, environments, django_assert_max_num_queries
):
    from django.core.cache import cache

    from deployments.releases.transitions import release_transition

    cache.clear()
    _released(ledger, environments["prod"], days_ago=0)
    client.force_login(user)
    url = reverse("deployments:dora_organisation_csv") + "?weeks=1"
    assert _csv_rows(client.get(url))[0]["deployments"] == "1"
    with django_assert_max_num_queries(4):  # (session,) user, the two stamp aggregates: no rows
        assert _csv_rows(client.get(url))[0]["deployments"] == "1"
    moving = Release.objects.create(
        component=ledger, environment=environments["prod"], version="1.0.1", state="progressing"
    )
    release_transition(release_id=moving.pk, from_states=["progressing"], to_state="succeeded",
                       message="done")  # fmt: skip
    assert _csv_rows(client.get(url))[0]["deployments"] == "2"


def _scope_urls(team, namespace, component):
    return {
        "team": reverse("deployments:dora_team", args=[team.metadata_namespace, team.name]),
        "namespace": reverse(
            "deployments:dora_namespace", args=[namespace.metadata_namespace, namespace.name]
        ),
        "service": reverse("deployments:dora_service", args=[component.pk]),
        "card": reverse("deployments:panel_delivery", args=[component.pk]),
    }


def _queries_of(client, url) -> list[str]:
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    cache.clear()  # not cached: the count itself is measured
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, headers={"HX-Request": "true"} if "panels" in url else {})
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_team_namespace_and_service_pages_cost_the_same_queries_with_more_history(
    client, user, environments, django_assert_max_num_queries
):
    """The scoped pages and the service card count the way the organisation page does (inside
    PostgreSQL there: one query, no per-release rows), however long the history."""
    from django.db import connection

    shop = Namespace.objects.create(name="shop")
    team = TeamFactory(name="cart-team")
    components = [ComponentFactory(owner=team, namespace=shop) for _ in range(12)]
    plan = HistoryPlan(weeks=12, per_week=1)
    release_history_seed(components=components[:1], environment=environments["prod"], plan=plan)
    client.force_login(user)
    urls = _scope_urls(team, shop, components[0])
    before = {name: len(_queries_of(client, url)) for name, url in urls.items()}
    release_history_seed(
        components=components, environment=environments["prod"], plan=HistoryPlan(per_week=6),
        seed=8,
    )  # fmt: skip
    for name, url in urls.items():
        queries = _queries_of(client, url)
        assert len(queries) == before[name], name
        counted_in_sql = [q for q in queries if "percentile_cont" in q]
        assert len(counted_in_sql) == (1 if connection.vendor == "postgresql" else 0), name
        with django_assert_max_num_queries(9):
            client.get(url)
