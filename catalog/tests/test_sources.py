"""Catalog sources: runs and their figures, orphans, the audit trail, beat, the admin pages."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from catalog.models import CatalogSource, Component, EntityOrigin
from catalog.sources import SOURCE_KINDS, SourceKind, register
from catalog.sources.sync import orphan_delete, source_run, sources_queue_due
from portal.errors import PermissionDenied
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

TEAM = """apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, children: []}
"""


def component(name: str, owner: str = "payments") -> str:
    return f"""apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {{name: {name}}}
spec: {{type: service, lifecycle: production, owner: {owner}}}
"""


@pytest.fixture
def repo(tmp_path):
    (tmp_path / "team.yaml").write_text(TEAM)
    (tmp_path / "checkout.yaml").write_text(component("checkout"))
    (tmp_path / "cart.yaml").write_text(component("cart"))
    return tmp_path


@pytest.fixture
def source(repo):
    return CatalogSource.objects.create(
        name="descriptors", kind="directory", config={"path": str(repo)}
    )


@pytest.fixture
def platform_admin(make_user):
    user = make_user("pat", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return user


def test_a_run_records_its_figures_and_one_audit_event_with_each_change(source):
    source = source_run(source.pk)
    assert (source.state, source.outcome) == ("idle", "ok")
    assert source.counts["created"] == 3 and source.duration_ms is not None
    assert set(EntityOrigin.objects.values_list("entity", flat=True)) == {
        "group:default/payments", "component:default/checkout", "component:default/cart",
    }  # fmt: skip
    event = AuditEvent.objects.get(action="catalog.source_sync")
    assert event.actor is None and event.actor_label == "source:directory/descriptors"
    assert event.target_id == str(source.pk)
    changes = {c["entity"]: c for c in event.after["changes"]}
    assert changes["component:default/cart"]["change"] == "created"
    assert changes["component:default/cart"]["after"]["owner"] == "group:default/payments"

    source = source_run(source.pk)
    assert source.counts | {} == {**source.counts, "created": 0, "updated": 0, "unchanged": 3}


def test_an_entity_gone_from_its_source_is_orphaned_shown_and_comes_back(
    source, repo, client, user
):
    source_run(source.pk)
    (repo / "cart.yaml").unlink()
    (repo / "checkout.yaml").write_text(component("checkout").replace("production", "deprecated"))
    source = source_run(source.pk)
    assert (source.counts["orphaned"], source.counts["updated"]) == (1, 1)
    assert Component.objects.filter(name="cart").exists()  # never silently deleted
    orphan = EntityOrigin.objects.get(orphaned_at__isnull=False)
    assert orphan.entity == "component:default/cart"
    event = AuditEvent.objects.filter(action="catalog.source_sync").latest("id")
    changes = {c["entity"]: c for c in event.after["changes"]}
    assert changes["component:default/cart"] == {
        "entity": "component:default/cart",
        "change": "orphaned",
    }
    assert changes["component:default/checkout"]["before"] == {"lifecycle": "production"}
    assert changes["component:default/checkout"]["after"] == {"lifecycle": "deprecated"}

    client.force_login(user)
    page = client.get(Component.objects.get(name="cart").get_absolute_url()).content.decode()
    assert "Orphaned: no longer in source descriptors" in page

    (repo / "cart.yaml").write_text(component("cart"))
    source_run(source.pk)
    assert not EntityOrigin.objects.filter(orphaned_at__isnull=False).exists()


def test_only_a_platform_admin_deletes_an_orphan_and_it_is_audited(
    source, repo, sre, platform_admin
):
    source_run(source.pk)
    (repo / "cart.yaml").unlink()
    source_run(source.pk)
    orphan = EntityOrigin.objects.get(orphaned_at__isnull=False)
    with pytest.raises(PermissionDenied):
        orphan_delete(actor=sre, origin=orphan)
    assert Component.objects.filter(name="cart").exists()
    assert AuditEvent.objects.filter(action="catalog.orphan_delete", outcome="denied").exists()

    orphan_delete(actor=platform_admin, origin=orphan)
    assert not Component.objects.filter(name="cart").exists()
    assert not EntityOrigin.objects.filter(pk=orphan.pk).exists()
    event = AuditEvent.objects.get(action="catalog.orphan_delete", outcome="done")
    assert event.actor == platform_admin and event.before["entity"] == "component:default/cart"


def test_a_failing_source_says_what_to_do_and_leaves_the_catalog_alone(source, repo):
    source_run(source.pk)
    source.config = {"path": str(repo / "nowhere")}
    source.save()
    source = source_run(source.pk)
    assert (source.state, source.outcome) == ("idle", "failed")
    assert "is not a directory on this server: check the source's path" in source.message
    assert (
        Component.objects.count() == 2
        and not EntityOrigin.objects.filter(orphaned_at__isnull=False).exists()
    )
    assert AuditEvent.objects.filter(action="catalog.source_sync", outcome="failed").exists()


def test_a_run_claimed_by_another_delivery_does_nothing(source):
    CatalogSource.objects.filter(pk=source.pk).update(state="running")
    assert source_run(source.pk) is None
    assert Component.objects.count() == 0


def test_beat_queues_due_sources_and_frees_runs_that_hung(
    source, repo, django_capture_on_commit_callbacks
):
    later = CatalogSource.objects.create(
        name="later", kind="directory", config={"path": str(repo)}, finished_at=timezone.now()
    )
    hung = CatalogSource.objects.create(
        name="hung", kind="directory", config={"path": str(repo)}, state="running",
        started_at=timezone.now() - timedelta(hours=2),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        due = sources_queue_due()
    assert due == [source.pk]  # never run: due; `later` ran just now
    assert CatalogSource.objects.get(pk=source.pk).counts["created"] == 3  # the task ran
    assert CatalogSource.objects.get(pk=later.pk).state == "idle"
    hung.refresh_from_db()
    assert (hung.state, hung.outcome) == ("idle", "failed") and "did not finish" in hung.message


def test_sync_now_is_for_the_platform_team(
    client, source, platform_admin, make_user, django_capture_on_commit_callbacks
):
    url = reverse("admin:catalog_catalogsource_changelist")
    staff = make_user("stu", is_staff=True)
    Group.objects.get_or_create(name="sre")[0].user_set.add(staff)

    def sync_now():
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url, {"action": "sync_now", "_selected_action": [source.pk]}, follow=True
            )
        return [str(m) for m in response.context["messages"]]

    client.force_login(staff)
    assert sync_now() == ["Only the platform team may run catalog sources."]
    assert Component.objects.count() == 0
    assert CatalogSource.objects.get(pk=source.pk).state == "idle"
    client.force_login(platform_admin)
    assert sync_now() == ["descriptors: queued."]
    assert Component.objects.count() == 2  # eager tasks in tests: the run happened
    assert AuditEvent.objects.filter(
        action="catalog.source_sync_request", actor=platform_admin
    ).exists()


def test_source_page_shows_the_last_run_progress_and_errors(client, source, repo, platform_admin):
    (repo / "bad.yaml").write_text(component("Bad Name!"))
    source_run(source.pk)
    client.force_login(platform_admin)
    url = reverse("admin:catalog_catalogsource_change", args=[source.pk])
    page = client.get(url).content.decode()
    assert "created 3, updated 0, unchanged 0, orphaned 0, errors 1" in page
    assert 'class="source-error"' in page and "is not a valid name" in page
    assert 'http-equiv="refresh"' not in page
    CatalogSource.objects.filter(pk=source.pk).update(
        state="running", progress_done=40, progress_total=120
    )
    page = client.get(url).content.decode()
    assert "40 of 120 entities fetched" in page and 'http-equiv="refresh"' in page


def test_source_config_is_checked_against_its_kind(client, platform_admin):
    client.force_login(platform_admin)
    response = client.post(
        reverse("admin:catalog_catalogsource_add"),
        {
            "name": "bs",
            "kind": "backstage",
            "config": '{"tokn": "x"}',
            "enabled": "on",
            "interval_seconds": 300,
        },
    )
    assert response.status_code == 200 and not CatalogSource.objects.exists()
    assert "&#x27;url&#x27; is required." in response.content.decode()


def test_registry_refuses_a_kind_without_a_name_or_registered_twice():
    class Nameless(SourceKind):
        label = "x"

    with pytest.raises(ValueError):
        register(Nameless)
    with pytest.raises(ValueError):
        register(type("Again", (SourceKind,), {"name": "directory", "label": "again"}))
    assert {"backstage", "directory"} <= set(SOURCE_KINDS)
