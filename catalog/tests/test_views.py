import pytest
from django.urls import reverse

from catalog.models import (
    Component,
    ComponentEnvironment,
    Environment,
    Namespace,
    Person,
    System,
    Team,
)
from catalog.tests.graphs import chain, components, edges, team
from portal.models import TeamMembership

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def shop():
    """checkout (with subcomponents) in the shop namespace, a caller, a consumer and a database."""
    owner = team("checkout-team")
    owner.email, owner.chat_channel = "checkout@example.com", "#checkout"
    owner.save()
    ns = Namespace.objects.create(name="shop", title="Shop")
    system = System.objects.create(name="orders", namespace=ns)
    g = components("checkout", owner=owner, namespace=ns, system=system, tier=1)
    g |= components("web", "mailer", "orders-db", owner=team("web-team"), namespace=ns)
    components("checkout-api", "checkout-worker", parent=g["checkout"], owner=owner, namespace=ns)
    edges(g, "web>checkout checkout>orders-db")
    edges(g, "mailer>checkout", kind="event", topic="orders.created")
    checkout = g["checkout"]
    checkout.links = [
        {"title": "Grafana", "url": "https://grafana.example.com/d/1", "type": "dashboard"},
        {"title": "Page them", "url": "https://pd.example.com/s/1", "type": "on-call"},
        {"title": "Runbook", "url": "https://runbooks.example.com/checkout", "type": "runbook"},
    ]
    checkout.save()
    prod = Environment.objects.create(name="prod", order=30, is_production=True)
    ComponentEnvironment.objects.create(
        component=checkout, environment=prod, kube_rollout="checkout", argocd_application="co-prod"
    )
    return g


def test_anonymous_is_sent_to_sign_in(client, shop):
    for url in [
        reverse("catalog:home"),
        reverse("catalog:component_list"),
        shop["checkout"].get_absolute_url(),
        reverse("catalog:component_graph", args=["default", "component", "checkout"]),
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_catalog_home_counts_systems_and_top_level_components(signed_in, shop):
    response = signed_in.get(reverse("catalog:home"))
    row = next(ns for ns in response.context["namespaces"] if ns.name == "shop")
    assert (row.system_count, row.component_count) == (1, 4)


def test_namespace_page_lists_systems_with_their_components(signed_in, shop):
    response = signed_in.get(reverse("catalog:namespace_detail", args=["default", "shop"]))
    assert response.status_code == 200
    ((system, rows),) = response.context["groups"]
    assert system.name == "orders" and [c.name for c in rows] == ["checkout"]
    assert rows[0].subcomponent_count == 2
    assert {c.name for c in response.context["loose"]} == {"web", "mailer", "orders-db"}


def test_namespace_page_shows_the_first_components_of_a_big_system_and_links_to_all(signed_in):
    ns = Namespace.objects.create(name="big")
    system = System.objects.create(name="engine", namespace=ns)
    components(*[f"part-{i:03}" for i in range(40)], namespace=ns, system=system)
    components("stray", namespace=ns)
    response = signed_in.get(reverse("catalog:namespace_detail", args=["default", "big"]))
    ((shown_system, rows),) = response.context["groups"]
    assert [c.name for c in rows] == [f"part-{i:03}" for i in range(25)]
    assert shown_system.component_total == 40 and response.context["total"] == 41
    assert [c.name for c in response.context["loose"]] == ["stray"]
    page = response.content.decode()
    assert "All 40 components of engine" in page
    assert "?namespace=big&amp;system=engine" in page


def test_component_list_filters_by_system_and_keeps_it_in_the_links(signed_in):
    ns = Namespace.objects.create(name="big")
    engine = System.objects.create(name="engine", namespace=ns)
    components(*[f"part-{i:03}" for i in range(60)], namespace=ns, system=engine)
    components("other", namespace=ns, system=System.objects.create(name="wheels", namespace=ns))
    response = signed_in.get(reverse("catalog:component_list"), {"system": "engine"})
    assert response.context["page"].paginator.count == 60
    assert "other" not in {c.name for c in response.context["page"].object_list}
    assert "system=engine&amp;page=2" in response.content.decode()


def test_unknown_namespace_team_and_component_are_404(signed_in, shop):
    assert (
        signed_in.get(reverse("catalog:namespace_detail", args=["default", "no"])).status_code
        == 404
    )
    assert signed_in.get(reverse("catalog:team_detail", args=["default", "no"])).status_code == 404
    url = reverse("catalog:component_detail", args=["default", "component", "nope"])
    assert signed_in.get(url).status_code == 404
    url = reverse("catalog:component_graph", args=["default", "component", "nope"])
    assert signed_in.get(url).status_code == 404


def test_service_page_shows_owner_contacts_links_subcomponents_environments_and_edges(
    signed_in, shop
):
    response = signed_in.get(shop["checkout"].get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "checkout@example.com" in html and "#checkout" in html
    assert [title for title, _ in response.context["links"]] == [
        "Dashboards",
        "Runbooks",
        "On-call",
    ]
    assert [s.name for s in response.context["subcomponents"]] == [
        "checkout-api",
        "checkout-worker",
    ]
    assert "co-prod" in html and "rollout" in html
    assert [d.target.name for d in response.context["depends_on"]] == ["orders-db"]
    assert {(d.source.name, d.kind) for d in response.context["depended_on_by"]} == {
        ("web", "sync"),
        ("mailer", "event"),
    }
    assert "orders.created" in html
    assert 'id="graph-' in html and "graph.json" in html


def test_service_page_loads_the_blast_radius_after_the_page_or_inline_without_javascript(
    signed_in, shop
):
    url = shop["checkout"].get_absolute_url()
    response = signed_in.get(url)
    html = response.content.decode()
    assert "radius" not in response.context  # not walked for the page itself
    assert f'<div id="blast" hx-get="{url}" hx-trigger="load"' in html
    assert f'href="{url}?blast=1#blast"' in html
    expected = "2</strong> components in <strong data-blast-teams>1</strong> team"
    fragment = signed_in.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert expected in fragment and "<html" not in fragment
    response = signed_in.get(url, {"blast": "1"})
    assert (response.context["radius"].total, response.context["radius"].team_count) == (2, 1)
    assert expected in response.content.decode() and "<html" in response.content.decode()


def test_blast_radius_fragment_for_htmx_filters_by_edge_kind(signed_in, shop):
    url = shop["checkout"].get_absolute_url()
    response = signed_in.get(url, {"kind": "event"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section class="card blast" id="blast"')
    assert "<html" not in html
    assert ">mailer</a>" in html and ">web</a>" not in html
    assert 'value="event" checked' in html and 'value="sync" checked' not in html


def test_blast_radius_filters_work_without_javascript(signed_in):
    nodes = chain(5)
    response = signed_in.get(nodes[0].get_absolute_url(), {"kind": "sync", "depth": "2"})
    assert [c.depth for c in response.context["radius"].components] == [1, 2]
    assert "<html" in response.content.decode()
    bad = signed_in.get(nodes[0].get_absolute_url(), {"kind": "x", "depth": "lots"})
    assert bad.status_code == 200 and bad.context["radius"].total == 4


def test_graph_json_has_the_neighbourhood_at_the_chosen_depth(signed_in, shop):
    url = reverse("catalog:component_graph", args=["default", "component", "checkout"])
    data = signed_in.get(url, {"depth": "1"}).json()
    assert {n["data"]["label"] for n in data["nodes"]} == {"checkout", "web", "mailer", "orders-db"}
    assert {e["data"]["kind"] for e in data["edges"]} == {"sync", "event"}
    only_data = signed_in.get(url, {"depth": "9", "kind": "data"}).json()
    assert only_data["depth"] == 1 and [n["data"]["label"] for n in only_data["nodes"]] == [
        "checkout"
    ]


def test_team_page_lists_owned_components_by_namespace_and_members(signed_in, shop, make_user):
    owner = shop["checkout"].owner
    TeamMembership.objects.create(user=make_user("lead"), team=owner, role="lead")
    person = Person.objects.create(name="pat", display_name="Pat Person", email="pat@example.com")
    person.teams.add(owner)
    response = signed_in.get(owner.get_absolute_url())
    html = response.content.decode()
    assert [c.name for c in response.context["owned"]] == ["checkout"]
    assert response.context["owned"][0].subcomponent_count == 2
    assert "lead@example.com" in html and "Pat Person" in html


def test_component_list_searches_filters_and_counts_facets(signed_in, shop):
    url = reverse("catalog:component_list")
    response = signed_in.get(url, {"q": "check"})
    assert [c.name for c in response.context["page"]] == ["checkout"]
    assert response.context["page"][0].subcomponent_count == 2
    response = signed_in.get(url, {"q": "check", "sub": "1"})
    assert [c.name for c in response.context["page"]] == [
        "checkout",
        "checkout-api",
        "checkout-worker",
    ]
    response = signed_in.get(url, {"owner": "web-team"})
    assert [c.name for c in response.context["page"]] == ["mailer", "orders-db", "web"]
    owners = {o.value: o.count for o in response.context["facets"].options["owner"]}
    # The owner facet counts ignore the owner filter itself, so other teams stay choosable.
    assert owners == {"checkout-team": 1, "web-team": 3}
    kinds = {o.value: o.count for o in response.context["facets"].options["kind"]}
    assert kinds["service"] == 3 and kinds["worker"] == 0


def test_component_list_tags_and_unknown_filter_values(signed_in, shop):
    Component.objects.filter(name="web").update(tags=["frontend", "edge"])
    url = reverse("catalog:component_list")
    assert [c.name for c in signed_in.get(url, {"q": "frontend"}).context["page"]] == ["web"]
    response = signed_in.get(url, {"owner": "nobody", "kind": "nonsense"})
    assert response.status_code == 200 and list(response.context["page"]) == []
    assert "No components match" in response.content.decode()


def test_component_list_paginates_fifty_per_page_with_filters_in_the_links(signed_in):
    components(*[f"svc-{i:03}" for i in range(120)], lifecycle="experimental")
    url = reverse("catalog:component_list")
    response = signed_in.get(url, {"lifecycle": "experimental", "page": "3"})
    page = response.context["page"]
    assert (page.number, page.paginator.num_pages, len(page.object_list)) == (3, 3, 20)
    assert page.paginator.count == 120
    assert "lifecycle=experimental&amp;page=2" in response.content.decode()


def _graph_of(size: int):
    owner = team(f"team-{size}")
    ns = Namespace.objects.create(name=f"ns-{size}")
    nodes = chain(size, prefix=f"n{size}", owner=owner)
    Component.objects.filter(pk__in=[n.pk for n in nodes]).update(namespace=ns)
    for node in nodes[:5]:
        components(f"{node.name}-api", parent=node, owner=owner, namespace=ns)
    return nodes


@pytest.mark.parametrize(
    "view",
    ["detail", "blast", "graph", "list", "search", "owner", "home", "namespace", "team"],
)
def test_query_counts_do_not_grow_with_the_graph(signed_in, django_assert_num_queries, view):
    def url_for(nodes, size):
        root = nodes[0]
        return {
            "detail": (root.get_absolute_url(), {}),
            "blast": (root.get_absolute_url(), {"HTTP_HX_REQUEST": "true"}),
            "graph": (
                reverse("catalog:component_graph", args=["default", "component", root.name])
                + "?depth=3",
                {},
            ),
            "list": (reverse("catalog:component_list") + "?sub=1", {}),
            "search": (reverse("catalog:component_list") + f"?q=n{size}", {}),
            "owner": (reverse("catalog:component_list") + f"?owner=team-{size}", {}),
            "home": (reverse("catalog:home"), {}),
            "namespace": (reverse("catalog:namespace_detail", args=["default", f"ns-{size}"]), {}),
            "team": (reverse("catalog:team_detail", args=["default", f"team-{size}"]), {}),
        }[view]

    counts = []
    for size in (10, 50):
        url, extra = url_for(_graph_of(size), size)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert signed_in.get(url, **extra).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1], counts
    assert counts[1] <= (11 if view == "detail" else 10)  # the service page has a releases card


def test_service_page_query_budget(signed_in, shop, django_assert_max_num_queries):
    # 8 for the catalog parts (the person's groups included), 3 for the cards: approvals, and
    # the releases card's summary window and its active + recent rows together.
    with django_assert_max_num_queries(11):
        signed_in.get(shop["checkout"].get_absolute_url())
    # 7, and the top bar's Admin link asking the person's groups once (the admin site's rule)
    with django_assert_max_num_queries(8):
        signed_in.get(reverse("catalog:component_list"))


def test_service_page_of_a_component_deployed_nowhere_asks_for_its_deployments_once(
    signed_in, django_assert_max_num_queries
):
    lonely = components("lonely", owner=team("solo"))["lonely"]
    # the budget above less the release rows (there are none); the deployments are read once
    with django_assert_max_num_queries(10):
        assert signed_in.get(lonely.get_absolute_url()).status_code == 200


def test_component_search_ranks_the_exact_name_first_then_names_starting_with_it(signed_in):
    components("apay", "pay-gateway", "zz-billing", "pay", description="")
    Component.objects.filter(name="zz-billing").update(description="takes pay from cards")
    response = signed_in.get(reverse("catalog:component_list"), {"q": "pay"})
    assert [c.name for c in response.context["page"]] == [
        "pay",
        "pay-gateway",
        "apay",
        "zz-billing",
    ]
    assert response.context["page"].paginator.count == 4


def test_facet_options_escape_team_titles_and_show_counts(signed_in):
    owner = team("odd-team")
    owner.title = '<b onclick="x">Odd</b>'
    owner.save()
    components("svc-a", "svc-b", owner=owner)
    html = signed_in.get(reverse("catalog:component_list"), {"owner": "odd-team"}).content.decode()
    escaped = "&lt;b onclick=&quot;x&quot;&gt;Odd&lt;/b&gt;"
    assert f'<option value="odd-team" selected>{escaped} (2)</option>' in html
    assert '<b onclick="x">' not in html


def test_a_renamed_team_is_shown_by_the_owner_facet_at_once(signed_in):
    components("ledger", owner=team("money"))
    url = reverse("catalog:component_list")
    assert "money" in signed_in.get(url).content.decode()

    Team.objects.filter(name="money").update(title="Money Movers")

    assert "Money Movers" in signed_in.get(url).content.decode()
