"""Each repository of the real-catalogs fixture, imported on its own, as a team registers its repo.

The expectation is computed here from the files themselves (PyYAML, Backstage's naming and
reference rules) and from the fixture README, never from the importer's own output: every valid
entity is present, and every reference to an entity the repository does not define is listed as
unresolved.
"""

import re

import pytest
import yaml

from catalog.backstage import catalog_import
from catalog.models import Component, Namespace, Person, System, Team, UnresolvedRelation

pytestmark = pytest.mark.django_db

MODELLED = {"component", "api", "system", "domain", "group", "user", "resource"}
NAME = re.compile(r"^[A-Za-z0-9]+(?:[-_.][A-Za-z0-9]+)*$")  # Backstage's metadata.name rule
# spec field -> the kind a reference may leave out (None: it must name its kind)
REF_FIELDS = {
    "owner": "group", "system": "system", "domain": "domain", "subdomainOf": "domain",
    "subcomponentOf": "component", "dependsOn": None, "dependencyOf": None,
    "providesApis": "api", "consumesApis": "api", "parent": "group", "children": "group",
    "members": "user", "memberOf": "group",
}  # fmt: skip
# The README: "Six of the seven `$text` targets are deliberately absent ... so they dangle here."
DANGLING_DEFINITIONS = {
    ("api", "default", f"ibm-mq-{lang}-api")
    for lang in ("dotnet", "go", "jms", "node", "python", "spring")
}


def repositories(shared_root):
    return sorted(p for p in (shared_root / "fixtures" / "real-catalogs").iterdir() if p.is_dir())


def _documents(repo):
    for path in sorted(repo.rglob("*")):
        if path.suffix not in (".yaml", ".yml") or not path.is_file():
            continue
        try:
            documents = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue  # the README: 54 files do not parse as committed
        for doc in documents:
            if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict):
                yield doc


def _refs(value, default_kind, namespace):
    for ref in value if isinstance(value, list) else [value]:
        kind, _, rest = ref.partition(":") if ":" in ref else (default_kind, "", ref)
        ns, _, name = rest.partition("/") if "/" in rest else (namespace, "", rest)
        yield (kind.lower(), ns.lower(), name.lower())


def _valid(doc) -> bool:
    name, spec = doc["metadata"].get("name"), doc.get("spec") or {}
    if not isinstance(name, str) or not NAME.match(name) or len(name) > 63:
        return False
    # dependsOn / dependencyOf have no default kind: an entry without one is an invalid field.
    return all(":" in ref for f in ("dependsOn", "dependencyOf") for ref in spec.get(f) or [])


def expectation(repo):
    """(keys of the valid entities, {(entity, field, target)} of references to other entities)."""
    entities = {}
    for doc in _documents(repo):
        kind = str(doc.get("kind", "")).lower()
        if kind in MODELLED and _valid(doc):
            ns = str(doc["metadata"].get("namespace", "default")).lower()
            key = (kind, ns, doc["metadata"]["name"].lower())
            if key not in DANGLING_DEFINITIONS:
                entities.setdefault(key, doc)  # a duplicate (LedgerHQ) is one entity
    unresolved = set()
    for (kind, ns, name), doc in entities.items():
        for field, default_kind in REF_FIELDS.items():
            value = (doc.get("spec") or {}).get(field)
            if not value:
                continue
            for target in _refs(value, default_kind, ns):
                if target not in entities:
                    source = f"{kind}:{ns}/{name}"
                    unresolved.add((source, field, f"{target[0]}:{target[1]}/{target[2]}"))
    return set(entities), unresolved


def catalog_keys() -> set:
    keys = set()
    tables = [(Team, "group"), (Person, "user"), (Namespace, "domain"), (System, "system")]
    for model, kind in tables:
        keys |= {(kind, ns.lower(), n.lower()) for ns, n in model.objects.values_list(
            "metadata_namespace", "name")}  # fmt: skip
    for kind, ns, name in Component.objects.values_list(
        "entity_kind", "metadata_namespace", "name"
    ):
        keys.add((kind.lower(), ns.lower(), name.lower()))
    return keys


def test_every_repository_imported_on_its_own_has_its_valid_entities(shared_dir, subtests=None):
    repos = repositories(shared_dir)
    assert len(repos) == 28  # the README: 28 public repositories
    imported_anything = 0
    for repo in repos:
        expected, expected_unresolved = expectation(repo)
        report = catalog_import(paths=[repo])
        assert report.errors == [], repo.name
        assert catalog_keys() == expected, repo.name
        stored = set(UnresolvedRelation.objects.values_list("source", "field", "target"))
        assert stored == expected_unresolved, repo.name
        listed = {(r["entity"], r["field"], r["target"]) for r in report.unresolved}
        assert listed == expected_unresolved, repo.name
        imported_anything += bool(expected)
        _empty_catalog()
    # Only LLNL (not a Backstage file), cosmonic-labs (unrendered name) and harmonix (nothing
    # parses or only Templates and custom kinds) have no valid entity.
    assert imported_anything == 25


def _empty_catalog():
    UnresolvedRelation.objects.all().delete()
    for model in (Component, System, Namespace, Person, Team):
        model.objects.all().delete()


def test_templates_and_custom_kinds_are_skipped_with_a_note(shared_dir):
    repo = shared_dir / "fixtures" / "real-catalogs" / "kartverket__kartverket.dev"
    report = catalog_import(paths=[repo])
    kinds = {s.kind for s in report.skipped}
    assert "Function" in kinds  # the README: a custom kind `Function`
    assert all("not modelled" in s.reason for s in report.skipped if s.kind == "Function")


def test_an_invalid_entity_is_left_out_with_file_line_and_reason(shared_dir):
    repo = shared_dir / "fixtures" / "real-catalogs" / "cosmonic-labs__mcp-server-template-ts"
    report = catalog_import(paths=[repo])
    assert report.created == 0 and report.errors == []
    (problem,) = report.rejected
    assert problem.file.endswith("catalog-info.yaml") and problem.line
    assert "${{ values.appName }}" in problem.message and "not a valid name" in problem.message


def test_strict_mode_refuses_a_repository_whose_owner_is_defined_elsewhere(shared_dir):
    repo = shared_dir / "fixtures" / "real-catalogs" / "Tradeshift__blayze"
    report = catalog_import(paths=[repo], strict=True)
    assert "unknown entity group:default/ml-team" in report.errors[0].message
    assert Component.objects.count() == 0
