"""Small layout promises every page keeps: an icon, breadcrumbs without a dangling separator."""

from django.urls import reverse

from catalog.models import Component, Namespace, System


def test_pages_link_an_icon_that_exists_and_favicon_ico_redirects_to_it(client, user):
    client.force_login(user)
    body = client.get(reverse("portal:dashboard")).content.decode()
    assert 'rel="icon"' in body and "favicon.svg" in body
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


def test_breadcrumbs_end_with_the_page_itself(client, user):
    ns = Namespace.objects.create(name="payments")
    system = System.objects.create(name="payments-core", namespace=ns)
    component = Component.objects.create(name="ledger", namespace=ns, system=system)
    client.force_login(user)
    body = client.get(component.get_absolute_url()).content.decode()
    crumbs = body[body.index('class="crumbs"') : body.index("</nav>", body.index('class="crumbs"'))]
    assert "›" not in crumbs  # the separator is drawn by CSS between items, never after the last
    assert crumbs.rstrip().endswith('<span aria-current="page">ledger</span>')
