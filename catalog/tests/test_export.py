import pytest
import yaml
from django.core.management import call_command

from catalog.backstage import catalog_import
from catalog.models import (
    ApiRelation,
    Component,
    Dependency,
    Namespace,
    Person,
    System,
    Team,
)

pytestmark = pytest.mark.django_db

EXTRA = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: wayback-indexer
  namespace: archive
  annotations:
    switchyard.dev/tier: "2"
    switchyard.dev/dependency-kinds: "component:default/wayback-archive=event@archive.pages.v1"
    backstage.io/source-location: url:https://github.com/acme/indexer
spec:
  type: kafka-consumer
  lifecycle: production
  owner: group:default/team-a
  dependsOn:
    - component:default/wayback-archive
    - component:default/wayback-search
    - resource:default/artists-db
  consumesApis: [api:default/wayback-archive]
  futureField: {kept: true}
"""


def ref(obj) -> str | None:
    return obj and obj.entity_ref


def canonical_catalog() -> dict:
    """Every entity and relation, keyed by Backstage identity (no database ids)."""

    def rows(model, fields, refs=()):
        out = []
        for obj in model.objects.all():
            row = {f: getattr(obj, f) for f in fields}
            row.update({f: ref(getattr(obj, f)) for f in refs})
            out.append(row)
        return sorted(out, key=repr)

    described = ["name", "metadata_namespace", "title", "description", "extra"]
    return {
        "teams": rows(Team, [*described, "team_type", "email", "picture"], ["parent"]),
        "people": rows(
            Person, ["name", "metadata_namespace", "display_name", "email", "picture", "extra"]
        ),
        "memberships": sorted(
            (p.entity_ref, t.entity_ref) for p in Person.objects.all() for t in p.teams.all()
        ),
        "namespaces": rows(
            Namespace, [*described, "tags", "links"], ["owner", "owner_person", "parent"]
        ),
        "systems": rows(
            System, [*described, "tags", "links"], ["namespace", "owner", "owner_person"]
        ),
        "components": rows(
            Component,
            [
                *described,
                "entity_kind",
                "kind",
                "spec_type",
                "lifecycle",
                "tier",
                "repository",
                "tags",
                "links",
                "annotations",
                "definition",
            ],
            ["owner", "owner_person", "system", "namespace", "parent"],
        ),
        "dependencies": sorted(
            (d.source.entity_ref, d.target.entity_ref, d.kind, d.topic)
            for d in Dependency.objects.all()
        ),
        "api_relations": sorted(
            (r.component.entity_ref, r.api.entity_ref, r.relation)
            for r in ApiRelation.objects.all()
        ),
    }


def wipe_catalog():
    for model in (Component, System, Namespace, Person, Team):
        model.objects.all().delete()


def test_import_of_export_gives_the_same_catalog(example_paths, tmp_path):
    extra = tmp_path / "in" / "extra.yaml"
    extra.parent.mkdir()
    extra.write_text(EXTRA)
    first = catalog_import(paths=[*example_paths, extra])
    assert first.errors == []
    before = canonical_catalog()
    assert (
        "component:archive/wayback-indexer",
        "component:default/wayback-archive",
        "event",
        "archive.pages.v1",
    ) in before["dependencies"]

    call_command("export_catalog", str(tmp_path / "out"))
    wipe_catalog()
    assert Component.objects.count() == 0
    again = catalog_import(paths=[tmp_path / "out" / "all.yaml"])

    assert again.errors == []
    assert again.created == first.created
    assert canonical_catalog() == before
    assert catalog_import(paths=[tmp_path / "out" / "all.yaml"]).unchanged == first.created


def test_export_writes_a_location_and_backstage_shaped_entities(example_paths, tmp_path):
    catalog_import(paths=example_paths)
    call_command("export_catalog", str(tmp_path))

    location = yaml.safe_load((tmp_path / "all.yaml").read_text())
    assert location["kind"] == "Location"
    assert "./components.yaml" in location["spec"]["targets"]
    groups = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all((tmp_path / "groups.yaml").read_text())
    }
    assert sorted(groups["boxoffice"]["spec"]["children"]) == ["team-c", "team-d"]
    assert groups["team-c"]["spec"]["parent"] == "boxoffice"
    users = list(yaml.safe_load_all((tmp_path / "users.yaml").read_text()))
    guest = next(u for u in users if u["metadata"].get("namespace") == "development")
    assert guest["spec"]["memberOf"] == ["default/team-a"]
    components = {
        d["metadata"]["name"]: d
        for d in yaml.safe_load_all((tmp_path / "components.yaml").read_text())
    }
    assert components["wayback-archive-storage"]["spec"]["subcomponentOf"] == "wayback-archive"
    assert components["playback-order"]["spec"]["owner"] == "user:guest"
    apis = {
        d["metadata"]["name"]: d for d in yaml.safe_load_all((tmp_path / "apis.yaml").read_text())
    }
    assert apis["spotify"]["spec"]["definition"] == {
        "$text": apis["spotify"]["spec"]["definition"]["$text"]
    }
    assert apis["petstore"]["spec"]["definition"].startswith("openapi: 3.1.0")
