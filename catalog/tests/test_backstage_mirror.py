"""The Backstage mirror source against the real Backstage catalog backend (Node, loopback)."""

import pytest

from catalog.models import CatalogSource, Component, Dependency, Person, Team, UnresolvedRelation
from catalog.sources.sync import source_run
from integrations.backstage import BackstageRestCatalog
from integrations.errors import IntegrationError
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

# What sandbox/backstage/catalog holds, read from its files: 3 org entities, 7 in shop.yaml.
ENTITIES = {
    "group:default/shop-team", "group:default/data-team", "user:default/rosa",
    "domain:default/commerce", "system:default/shop", "component:default/storefront",
    "component:default/basket", "api:default/basket-api", "resource:default/orders-db",
    "component:default/reports",
}  # fmt: skip


@pytest.fixture
def mirror(backstage_backend, monkeypatch):
    from sandbox.backstage import TOKEN

    monkeypatch.setenv("BACKSTAGE_TOKEN", TOKEN)
    return CatalogSource.objects.create(
        name="backstage",
        kind="backstage",
        config={"url": backstage_backend.url, "token_env": "BACKSTAGE_TOKEN"},
    )


def test_a_token_is_never_stored_in_the_source_and_only_backstage_names_are_read():
    from catalog.sources.base import SOURCE_KINDS

    kind = SOURCE_KINDS["backstage"]
    assert "not stored in the database" in kind.config_problems({"url": "x", "token": "t"})[0]
    assert kind.config_problems({"url": "x", "token_env": "SECRET_KEY"}) == [
        '"token_env" must name a BACKSTAGE_* environment variable.'
    ]
    assert kind.config_problems({"url": "x", "token_env": "BACKSTAGE_TOKEN"}) == []


def test_mirror_brings_every_entity_with_its_relations(mirror):
    source = source_run(mirror.pk)
    assert (source.outcome, source.message) == ("ok", "")
    assert source.counts["created"] == len(ENTITIES) and source.counts["errors"] == 0
    assert (source.progress_done, source.progress_total) == (12, 12)  # Locations included
    assert set(mirror.origins.values_list("entity", flat=True)) == ENTITIES
    storefront = Component.objects.get(name="storefront")
    assert (storefront.owner.name, storefront.system.name, storefront.namespace.name) == (
        "shop-team",
        "shop",
        "commerce",
    )
    assert set(
        Dependency.objects.filter(source=storefront).values_list("target__name", "kind")
    ) == {
        ("basket", "sync"),
        ("orders-db", "data"),
    }
    assert storefront.api_relations.get().api.name == "basket-api"
    assert list(Person.objects.get(name="rosa").teams.values_list("name", flat=True)) == [
        "shop-team"
    ]
    assert Team.objects.get(name="shop-team").email == "shop@example.com"
    # The owner Backstage itself does not hold is listed, as Backstage shows it.
    assert list(UnresolvedRelation.objects.values_list("source", "field", "target")) == [
        ("component:default/reports", "owner", "group:finance/analysts")
    ]
    event = AuditEvent.objects.get(action="catalog.source_sync")
    assert event.actor_label == "source:backstage/backstage" and len(event.after["changes"]) == 10


def test_a_second_mirror_run_changes_nothing(mirror):
    source_run(mirror.pk)
    source = source_run(mirror.pk)
    assert source.counts | {"unresolved": 0} == {
        "created": 0, "updated": 0, "unchanged": 10, "orphaned": 0, "errors": 0, "unresolved": 0,
    }  # fmt: skip


def test_pages_follow_the_cursor_and_cover_the_catalog_once(backstage_backend):
    from sandbox.backstage import TOKEN

    client = BackstageRestCatalog(base_url=backstage_backend.url, token=TOKEN)
    first = client.page(limit=5)
    assert len(first.items) == 5 and first.total == 12 and first.next_cursor
    seen, cursor = [], None
    while True:
        page = client.page(cursor, limit=5)
        seen += [(e["kind"], e["metadata"]["name"]) for e in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == len(set(seen)) == 12
    assert all("uid" not in e["metadata"] and "etag" not in e["metadata"] for e in first.items)


def test_a_wrong_token_says_what_to_set(mirror, backstage_backend):
    with pytest.raises(IntegrationError) as error:
        BackstageRestCatalog(base_url=backstage_backend.url, token="wrong-token-1234567").page()
    assert error.value.status == 401 and "refused the token" in error.value.message
    mirror.config = {"url": backstage_backend.url}  # no token at all
    mirror.save()
    source = source_run(mirror.pk)
    assert source.outcome == "failed" and "refused the token" in source.message
    assert Component.objects.count() == 0
