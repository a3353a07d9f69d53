"""Which Switchyard model each Backstage kind lands in, and the columns the importer manages."""

from ..models import Component, Namespace, Person, System, Team

# Models in the order they are created: a row's foreign keys point only at earlier models
# (or at its own model: `parent`, set in a second pass).
MODEL_ORDER = (Team, Person, Namespace, System, Component)
MODEL_FOR_KIND = {
    "group": Team,
    "user": Person,
    "domain": Namespace,
    "system": System,
    "component": Component,
    "api": Component,
    "resource": Component,
}
SCALAR_FIELDS = {
    Team: (
        "name",
        "metadata_namespace",
        "title",
        "description",
        "team_type",
        "email",
        "picture",
        "extra",
    ),
    Person: ("name", "metadata_namespace", "display_name", "email", "picture", "extra"),
    Namespace: ("name", "metadata_namespace", "title", "description", "tags", "links", "extra"),
    System: ("name", "metadata_namespace", "title", "description", "tags", "links", "extra"),
    Component: (
        "name",
        "metadata_namespace",
        "entity_kind",
        "kind",
        "spec_type",
        "title",
        "description",
        "lifecycle",
        "tier",
        "repository",
        "tags",
        "links",
        "annotations",
        "definition",
        "extra",
    ),
}
FK_FIELDS = {  # field -> model it points at
    Team: {"parent": Team},
    Person: {},
    Namespace: {"owner": Team, "owner_person": Person, "parent": Namespace},
    System: {"namespace": Namespace, "owner": Team, "owner_person": Person},
    Component: {
        "owner": Team,
        "owner_person": Person,
        "system": System,
        "namespace": Namespace,
        "parent": Component,
    },
}
SELF_FK = "parent"
BATCH = 1000
# bulk_update writes one CASE per field over the whole batch: cost grows with batch², keep it small.
UPDATE_BATCH = 100


def key_kind(model, row) -> str:
    if model is Component:
        return row["entity_kind"].lower()
    return {Team: "group", Person: "user", Namespace: "domain", System: "system"}[model]


def chunks(items, size: int = 5000):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]
