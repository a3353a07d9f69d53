import json

import pytest
from django.core.management import ManagementUtility, call_command
from django.core.management.base import CommandError

from catalog.backstage import Source, catalog_import
from catalog.models import ApiRelation, Component, Dependency, Namespace, Person, System, Team
from portal.models import AuditEvent

pytestmark = pytest.mark.django_db

HEAD = "apiVersion: backstage.io/v1alpha1\n"
BILLION_LAUGHS = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 8)
)
TEAM = """
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: payments
spec:
  type: team
  children: []
"""


def catalog_counts() -> dict:
    return {
        "team": Team.objects.count(),
        "person": Person.objects.count(),
        "namespace": Namespace.objects.count(),
        "system": System.objects.count(),
        "component": Component.objects.count(),
        "dependency": Dependency.objects.count(),
        "api_relation": ApiRelation.objects.count(),
        "membership": Person.teams.through.objects.count(),
    }


def component(name, **entity_kind):
    return Component.objects.get(name=name, **entity_kind)


def test_a_person_without_the_platform_role_imports_nothing(make_user, example_paths):
    """The service checks the rule itself, not only the admin page in front of it."""
    from portal.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="platform team"):
        catalog_import(paths=example_paths, actor=make_user("casey"))
    assert not Component.objects.exists() and not Team.objects.exists()
    assert AuditEvent.objects.get().outcome == AuditEvent.Outcome.DENIED


def test_a_platform_admin_imports_and_is_recorded(make_user, example_paths):
    from django.contrib.auth.models import Group

    admin = make_user("pia")
    admin.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    report = catalog_import(paths=example_paths, actor=admin)
    assert report.counts()["created"] and Component.objects.exists()
    assert AuditEvent.objects.get(action="catalog.import").actor == admin


def test_imports_the_backstage_examples_completely(example_paths):
    report = catalog_import(paths=example_paths)

    assert report.errors == []
    assert report.created == 56 and report.updated == 0 and report.unchanged == 0
    assert Person.objects.count() == 17
    assert Team.objects.count() == 8
    assert Namespace.objects.count() == 3
    assert System.objects.count() == 3
    kinds = {
        k: Component.objects.filter(entity_kind=k).count() for k in ("Component", "API", "Resource")
    }
    assert kinds == {"Component": 13, "API": 11, "Resource": 1}
    skipped = [s.kind for s in report.skipped]
    # all.yaml reaches 3 of the 4 AiResources; 7 + 2 Locations are followed (not stored).
    assert skipped.count("AiResource") == 3
    assert skipped.count("Location") == 9


def test_example_relations_are_resolved(example_paths):
    catalog_import(paths=example_paths)

    ingestion = component("wayback-archive-ingestion")
    assert ingestion.parent.name == "wayback-archive"
    assert ingestion.owner.name == "team-d"
    edge = Dependency.objects.get(source=component("artist-lookup"))
    assert (edge.target.name, edge.target.entity_kind, edge.kind) == (
        "artists-db",
        "Resource",
        "data",
    )
    petstore = component("petstore", entity_kind="Component")
    provided = set(
        petstore.api_relations.filter(relation="provides").values_list("api__name", flat=True)
    )
    assert provided == {"petstore", "streetlights", "hello-world"}
    # consumesApis may name a component explicitly.
    consumed = component("www-artist").api_relations.get()
    assert (consumed.relation, consumed.api.name, consumed.api.entity_kind) == (
        "consumes",
        "artist-lookup",
        "Component",
    )
    # spec.owner: user:guest -> the User in the default namespace, not the one in "development".
    assert component("playback-order").owner_person.metadata_namespace == "default"
    playback = Namespace.objects.get(name="playback")
    assert playback.owner_person.name == "frank.tiernan" and playback.parent.name == "audio"
    # Component namespace comes from its system's domain.
    assert component("playback-sdk").namespace == playback
    assert System.objects.get(name="podcast").namespace == playback
    assert Team.objects.get(name="team-a").parent.name == "backstage"
    assert Team.objects.get(name="infrastructure").parent.name == "acme-corp"
    guest = Person.objects.get(name="guest", metadata_namespace="development")
    assert [t.name for t in guest.teams.all()] == ["team-a"]
    assert Team.objects.get(name="team-c").people.count() == 5


def test_example_fields_and_unknown_fields_are_kept(example_paths):
    catalog_import(paths=example_paths)

    api = component("petstore", entity_kind="API")
    assert api.kind == "api" and api.spec_type == "openapi" and api.lifecycle == "experimental"
    assert api.definition.startswith("openapi: 3.1.0")  # $text: ./petstore.oas.yaml read locally
    spotify = component("spotify")
    assert spotify.definition == ""  # remote $text is kept as a reference, not fetched
    assert spotify.extra["spec"]["definition"]["$text"].startswith("https://github.com/")
    assert component("shuffle-api").extra == {
        "metadata": {"labels": {"goVersion": "go1.15.3", "category": "music"}}
    }
    assert component("artist-lookup").extra == {"spec": {"apiConsumedBy": ["component:www-artist"]}}
    assert (
        component("queue-proxy").kind == "website" and component("playback-sdk").kind == "library"
    )
    assert component("artists-db").kind == "resource"
    acme = Team.objects.get(name="acme-corp")
    assert acme.title == "ACME Corp" and acme.team_type == "organization"
    assert acme.extra["metadata"]["links"][0]["url"] == "http://www.acme.com/"
    assert Namespace.objects.get(name="artists").extra == {"spec": {"type": "product-group"}}


def test_reimporting_the_same_files_changes_nothing(example_paths):
    catalog_import(paths=example_paths)
    before = catalog_counts()
    updated_at = dict(Component.objects.values_list("pk", "updated_at"))

    report = catalog_import(paths=example_paths)

    assert (report.created, report.updated, report.unchanged, report.errors) == (0, 0, 56, [])
    assert catalog_counts() == before
    assert dict(Component.objects.values_list("pk", "updated_at")) == updated_at


def test_import_is_audited_with_counts(example_paths):
    catalog_import(paths=example_paths, actor_label="command:import_catalog")
    event = AuditEvent.objects.get(action="catalog.import")
    assert event.outcome == "done" and event.actor_label == "command:import_catalog"
    assert event.after["created"] == 56


def test_changed_file_updates_fields_and_replaces_relations(write):
    write("team.yaml", TEAM)
    path = write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: checkout}
        spec: {type: service, lifecycle: production, owner: payments, dependsOn: [component:cart]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: cart}
        spec: {type: service, lifecycle: production, owner: payments}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Resource
        metadata: {name: orders-db}
        spec: {type: database, owner: payments}
        """,
    )
    catalog_import(paths=[path.parent])
    text = path.read_text().replace(
        "dependsOn: [component:cart]", "dependsOn: [resource:orders-db]"
    )
    path.write_text(
        text.replace(
            "lifecycle: production, owner: payments}", "lifecycle: deprecated, owner: payments}", 1
        )
    )

    report = catalog_import(paths=[path.parent])

    # checkout's dependencies and cart's lifecycle changed; the team and orders-db did not.
    assert (report.created, report.updated, report.unchanged) == (0, 2, 2)
    assert component("cart").lifecycle == "deprecated"
    edge = Dependency.objects.get()
    assert (edge.source.name, edge.target.name, edge.kind) == ("checkout", "orders-db", "data")


def test_dependency_kinds_annotation_types_edges(write, tmp_path):
    write("team.yaml", TEAM)
    write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
          annotations:
            switchyard.dev/dependency-kinds: >-
              component:cart=event@cart.events.v1,
              component:cart=sync
            switchyard.dev/tier: "1"
            github.com/project-slug: acme/checkout
        spec:
          type: worker
          lifecycle: production
          owner: payments
          dependsOn: [component:cart, resource:orders-db]
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: cart}
        spec: {type: cronjob, lifecycle: production, owner: payments}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Resource
        metadata: {name: orders-db}
        spec: {type: database, owner: payments}
        """,
    )
    report = catalog_import(paths=[tmp_path])
    assert report.errors == []
    checkout = component("checkout")
    edges = set(checkout.dependencies.values_list("target__name", "kind", "topic"))
    assert edges == {
        ("cart", "event", "cart.events.v1"),
        ("cart", "sync", ""),
        ("orders-db", "data", ""),
    }
    assert (checkout.kind, checkout.tier, checkout.repository) == (
        "worker",
        1,
        "https://github.com/acme/checkout",
    )
    assert "switchyard.dev/tier" not in checkout.annotations
    assert component("cart").kind == "cron-job" and component("cart").spec_type == "cronjob"


def test_same_name_in_two_metadata_namespaces_is_two_entities(write, tmp_path):
    write(
        "a.yaml",
        TEAM
        + """---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments, namespace: emea}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: api, namespace: emea}
spec: {type: service, lifecycle: production, owner: payments}
""",
    )
    report = catalog_import(paths=[tmp_path])
    assert report.errors == [] and report.created == 3
    assert component("api").owner.metadata_namespace == "emea"  # namespace defaults to its own


def errors_of(report) -> list[tuple[str, int | None, str]]:
    return [(e.file.rsplit("/", 1)[-1], e.line, e.message) for e in report.errors]


def test_strict_malformed_yaml_names_file_and_line_and_writes_nothing(write):
    good = write("good.yaml", TEAM)
    bad = write(
        "bad.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: broken
        spec:
          type: service
            owner: payments
        """,
    )
    report = catalog_import(paths=[good, bad], strict=True)
    assert len(report.errors) == 1
    file, line, message = errors_of(report)[0]
    assert (file, line) == ("bad.yaml", 7) and message.startswith("invalid YAML")
    assert report.created == 0 and Team.objects.count() == 0
    assert AuditEvent.objects.get().outcome == "failed"


def test_strict_unknown_reference_is_an_error_with_its_line(write):
    path = write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
        spec:
          type: service
          lifecycle: production
          owner: nobody
          dependsOn:
            - component:cart
        """,
    )
    report = catalog_import(paths=[path], strict=True)
    errors = sorted(errors_of(report))
    assert [(f, line) for f, line, _ in errors] == [("c.yaml", 8), ("c.yaml", 10)]
    assert "unknown entity group:default/nobody" in errors[0][2]
    assert "unknown entity component:default/cart" in errors[1][2]
    assert Component.objects.count() == 0


def test_strict_depends_on_must_name_its_kind(write, tmp_path):
    write("team.yaml", TEAM)
    write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: checkout}
        spec:
          type: service
          owner: payments
          dependsOn: [cart]
        """,
    )
    report = catalog_import(paths=[tmp_path], strict=True)
    assert [(f, line) for f, line, _ in errors_of(report)] == [("c.yaml", 7)]
    assert "must name its kind" in report.errors[0].message


def test_strict_subcomponent_cycle_is_an_error(write):
    path = write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: a}
        spec: {type: service, subcomponentOf: b}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata: {name: b}
        spec: {type: service, subcomponentOf: a}
        """,
    )
    report = catalog_import(paths=[path], strict=True)
    assert len(report.errors) == 1
    assert report.errors[0].line == 4
    assert (
        "cycle: component:default/a -> component:default/b -> component:default/a"
        in report.errors[0].message
    )
    assert Component.objects.count() == 0


def test_strict_duplicate_entity_is_an_error_naming_both_places(write):
    first = write("a.yaml", TEAM)
    second = write("b.yaml", "# the same team again\n" + TEAM)
    report = catalog_import(paths=[first, second], strict=True)
    assert errors_of(report) == [
        ("b.yaml", 3, f"duplicate entity group:default/payments: also defined in {first} line 1")
    ]
    assert Team.objects.count() == 0


def test_strict_location_targets_relative_glob_missing_and_remote(write):
    write("teams/payments.yaml", TEAM)
    write("teams/cart.yaml", TEAM.replace("payments", "cart"))
    root = write(
        "all.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: root}
        spec:
          targets:
            - ./teams/*.yaml
            - https://github.com/acme/catalog/blob/main/all.yaml
        """,
    )
    report = catalog_import(paths=[root], strict=True)
    assert report.errors == [] and report.created == 2
    remote = [s for s in report.skipped if s.kind == "Location target"]
    assert remote[0].line == 7 and "not fetched" in remote[0].reason

    missing = write(
        "missing.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Location
        metadata: {name: missing}
        spec:
          target: ./nowhere/catalog-info.yaml
        """,
    )
    report = catalog_import(paths=[missing], strict=True)
    assert [(f, line) for f, line, _ in errors_of(report)] == [("missing.yaml", 5)]
    assert "not found" in report.errors[0].message


def test_strict_upload_cannot_follow_relative_location_targets():
    text = HEAD + "kind: Location\nmetadata: {name: x}\nspec:\n  targets: [./a.yaml]\n"
    report = catalog_import(sources=[Source(name="all.yaml", text=text)], strict=True)
    assert (
        report.errors[0].line == 5
        and "cannot be resolved from an upload" in report.errors[0].message
    )


def test_unmodelled_kinds_are_skipped_not_errors(write):
    path = write(
        "t.yaml",
        """
        apiVersion: scaffolder.backstage.io/v1beta3
        kind: Template
        metadata: {name: springboot-template}
        spec: {type: service}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Environment
        metadata: {name: prod}
        spec: {lifecycle: production}
        """,
    )
    report = catalog_import(paths=[path])
    assert report.errors == []
    assert [(s.kind, s.ref, s.line) for s in report.skipped] == [
        ("Template", "template:default/springboot-template", 1),
        ("Environment", "environment:default/prod", 6),
    ]


@pytest.mark.parametrize(
    "document",
    [
        "- just\n- a list\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: 'bad name!'}\n",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\nspec: nope\n",
        HEAD + "kind: Component\nmetadata: {name: a, tags: 3}\nspec: {owner: 5}\n",
        HEAD + "kind: API\nmetadata: {name: a}\nspec: {definition: {$text: ./nope.yaml}}\n",
        HEAD + "kind: Group\nmetadata: {name: a}\nspec: {profile: x, children: 4}\n",
        HEAD + "kind: Component\nmetadata: {name: a, annotations: {switchyard.dev/tier: '9'}}\n",
        "kind: [unclosed\n",
        "a: &a [*a, *a]\n",
        BILLION_LAUGHS,
        "\x00\x01",
    ],
)
def test_strict_bad_input_is_reported_never_crashes(write, document):
    path = write("bad.yaml", "")
    path.write_text(document)
    report = catalog_import(paths=[path], strict=True)
    assert report.errors and all(e.file.endswith("bad.yaml") for e in report.errors)
    assert catalog_counts()["component"] == 0


def test_dry_run_reports_but_writes_nothing(example_paths):
    report = catalog_import(paths=example_paths, dry_run=True)
    assert report.created == 56 and report.errors == []
    assert Component.objects.count() == 0 and not AuditEvent.objects.exists()


def test_command_json_shape_and_exit_status(example_paths, capsys):
    call_command("import_catalog", *example_paths, "--format", "json")
    captured = capsys.readouterr()
    output = json.loads(captured.out)
    assert list(output) == [
        *("created", "updated", "unchanged", "skipped", "errors", "rejected", "unresolved")
    ]
    assert (output["created"], output["errors"]) == (56, [])
    assert set(output["skipped"][0]) == {"kind", "ref", "file", "line", "reason"}
    assert "API version stored: hello-world/hello-world v1" in captured.err
    assert AuditEvent.objects.get(action="catalog.import").actor_label == "command:import_catalog"


def test_command_exits_non_zero_on_errors(write, capsys):
    bad = write("bad.yaml", "kind: [unclosed\n")
    with pytest.raises(SystemExit) as exit_info:
        ManagementUtility(
            ["manage.py", "import_catalog", str(bad), "--format", "json", "--strict"]
        ).execute()
    assert exit_info.value.code == 1
    output = json.loads(capsys.readouterr().out)
    assert output["errors"][0]["file"] == str(bad) and output["errors"][0]["line"] == 2


def test_command_text_format_and_dry_run(example_paths, capsys):
    call_command("import_catalog", *example_paths, "--dry-run")
    assert "would have created 56" in capsys.readouterr().out
    assert Component.objects.count() == 0
    with pytest.raises(CommandError):
        call_command("import_catalog", "/nonexistent/catalog-info.yaml")


def test_strict_group_and_domain_cycles_and_conflicting_parents_are_errors(write):
    path = write(
        "org.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: a}
        spec: {type: team, parent: b, children: []}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: b}
        spec: {type: team, parent: a, children: [c]}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: c}
        spec: {type: team, parent: a, children: []}
        ---
        apiVersion: backstage.io/v1alpha1
        kind: Domain
        metadata: {name: x}
        spec: {owner: a, subdomainOf: x}
        """,
    )
    report = catalog_import(paths=[path], strict=True)
    messages = sorted((e.line, e.message) for e in report.errors)
    assert [line for line, _ in messages] == [4, 9, 19]
    assert "spec.parent forms a cycle" in messages[0][1]
    assert "lists group:default/c in spec.children, but it names group:default/a" in messages[1][1]
    assert "spec.subdomainOf forms a cycle: domain:default/x -> domain:default/x" in messages[2][1]
    assert Team.objects.count() == 0


def test_children_set_the_parent_of_a_team_already_in_the_catalog(write):
    Team.objects.create(name="payments")
    path = write(
        "org.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Group
        metadata: {name: finance}
        spec: {type: department, children: [payments]}
        """,
    )
    report = catalog_import(paths=[path])
    assert (report.created, report.updated) == (1, 1)
    assert Team.objects.get(name="payments").parent.name == "finance"
    assert catalog_import(paths=[path]).unchanged == 1


def test_directory_import_reaches_every_example_file_once(backstage_examples):
    report = catalog_import(paths=[backstage_examples])
    assert report.errors == [] and report.created == 56
    skipped = sorted(s.kind for s in report.skipped)
    # The fixture README's counts: 10 Location, 4 AiResource, 2 Environment (OpenAPI files ignored).
    assert skipped == ["AiResource"] * 4 + ["Environment"] * 2 + ["Location"] * 10


def test_a_non_http_link_is_left_out_with_a_note_and_the_entity_kept(write):
    write("team.yaml", TEAM)
    path = write(
        "c.yaml",
        """
        apiVersion: backstage.io/v1alpha1
        kind: Component
        metadata:
          name: checkout
          links:
            - {url: "javascript:alert(document.domain)", title: Runbook}
            - {url: "https://grafana.example.com/d/checkout", title: Dashboard}
        spec: {type: service, lifecycle: production, owner: payments}
        """,
    )
    report = catalog_import(paths=[path])
    checkout = Component.objects.get(name="checkout")
    assert [link["url"] for link in checkout.links] == ["https://grafana.example.com/d/checkout"]
    assert any(
        "'javascript:alert(document.domain)' is not an http(s) URL" in w.message
        for w in report.warnings
    )
