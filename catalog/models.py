"""The catalog: the source of truth every other part of Switchyard stands on.

Backstage mapping (see README "Catalog import"): Domain -> Namespace, System -> System,
Component / API / Resource -> Component (with `entity_kind`), Group -> Team, User -> Person.
Every imported entity keeps its Backstage identity in `metadata_namespace` + `name`, and any
field Switchyard does not model in `extra`, so that export gives back what was imported.
"""

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.urls import reverse

DEFAULT_METADATA_NAMESPACE = "default"


class Team(models.Model):
    """A team that owns things (Backstage `Group`)."""

    name = models.SlugField(max_length=120)
    metadata_namespace = models.CharField(max_length=63, default=DEFAULT_METADATA_NAMESPACE)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    team_type = models.CharField(max_length=60, default="team", help_text="Backstage spec.type")
    email = models.EmailField(blank=True)
    chat_channel = models.CharField(max_length=120, blank=True)
    picture = models.URLField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children"
    )
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["metadata_namespace", "name"], name="team_unique_ref")
        ]

    def __str__(self):
        return self.title or self.name

    @property
    def entity_ref(self) -> str:
        return f"group:{self.metadata_namespace}/{self.name}"

    def get_absolute_url(self):
        return reverse("catalog:team_detail", args=[self.metadata_namespace, self.name])


class Person(models.Model):
    """Somebody in the organisation (Backstage `User`); linked to a login by email."""

    name = models.CharField(max_length=120)
    metadata_namespace = models.CharField(max_length=63, default=DEFAULT_METADATA_NAMESPACE)
    display_name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True, db_index=True)
    picture = models.URLField(blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="people")
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "people"
        constraints = [
            models.UniqueConstraint(fields=["metadata_namespace", "name"], name="person_unique_ref")
        ]

    def __str__(self):
        return self.display_name or self.name

    @property
    def entity_ref(self) -> str:
        return f"user:{self.metadata_namespace}/{self.name}"


class Namespace(models.Model):
    """A namespace (domain) groups systems (Backstage `Domain`)."""

    name = models.SlugField(max_length=120)
    metadata_namespace = models.CharField(max_length=63, default=DEFAULT_METADATA_NAMESPACE)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="namespaces"
    )
    # Backstage lets a User own a Domain (spec.owner: user:...); then `owner` stays empty.
    owner_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="namespaces"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subdomains"
    )
    tags = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["metadata_namespace", "name"], name="namespace_unique_ref"
            )
        ]

    def __str__(self):
        return self.title or self.name

    @property
    def entity_ref(self) -> str:
        return f"domain:{self.metadata_namespace}/{self.name}"

    def get_absolute_url(self):
        return reverse("catalog:namespace_detail", args=[self.metadata_namespace, self.name])


class System(models.Model):
    """A set of components that together provide one capability (Backstage `System`)."""

    name = models.SlugField(max_length=120)
    metadata_namespace = models.CharField(max_length=63, default=DEFAULT_METADATA_NAMESPACE)
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    namespace = models.ForeignKey(
        Namespace, null=True, blank=True, on_delete=models.SET_NULL, related_name="systems"
    )
    owner = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="systems"
    )
    owner_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="systems"
    )
    tags = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    extra = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["metadata_namespace", "name"], name="system_unique_ref")
        ]

    def __str__(self):
        return self.title or self.name

    @property
    def entity_ref(self) -> str:
        return f"system:{self.metadata_namespace}/{self.name}"


DEFAULT_LOG_SELECTOR = 'cluster="$environment", namespace="$namespace", app="$workload"'
LOG_MATCHER = re.compile(r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*')


def validate_log_selector(value: str) -> None:
    """A comma-separated list of Loki label matchers (`name="value"`, `=~`, `!=`, `!~`)."""
    if not value.strip() or not all(LOG_MATCHER.fullmatch(p) for p in value.split(",")):
        raise ValidationError(
            'Write Loki label matchers separated by commas, e.g. app="$workload", '
            'namespace="$namespace" (no braces, no commas inside values).'
        )


class LogAccess(models.TextChoices):
    OWNERS = "owners", "The owning team and SREs"
    EVERYONE = "everyone", "Everyone signed in"


class Environment(models.Model):
    """A place components run: dev, staging, prod, ... in display order."""

    name = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    is_production = models.BooleanField(default=False)
    kube_context = models.CharField(
        max_length=120, blank=True, help_text="Kubernetes kubeconfig context for this environment"
    )
    kube_namespace = models.CharField(max_length=63, blank=True, default="default")
    argocd_instance = models.CharField(
        max_length=200,
        blank=True,
        help_text="Argo CD instance name or URL serving this environment",
    )
    api_base_url = models.CharField(
        max_length=300,
        blank=True,
        help_text="Base URL template for APIs in this environment, e.g. https://{component}.staging.example.com",
    )
    log_selector = models.CharField(
        max_length=300,
        default=DEFAULT_LOG_SELECTOR,
        validators=[validate_log_selector],
        help_text="Loki label matchers of a component's logs here; $component, $workload "
        "(its Deployment or Rollout), $environment and $namespace are filled in",
    )
    log_version_label = models.CharField(
        max_length=63, default="version", help_text="The Loki label that carries the version"
    )
    log_access = models.CharField(
        max_length=20,
        choices=LogAccess.choices,
        blank=True,
        help_text="Who reads the logs here; blank: everyone signed in, except in production "
        "where settings.LOGS_PRODUCTION_ACCESS decides",
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.title or self.name


class Component(models.Model):
    """A deployable or consumable thing: service, website, library, API, worker, ...

    Subcomponents are components with a `parent` (Backstage spec.subcomponentOf).
    """

    class Kind(models.TextChoices):
        SERVICE = "service", "Service"
        WEBSITE = "website", "Website"
        LIBRARY = "library", "Library"
        API = "api", "API"
        WORKER = "worker", "Worker"
        CRON_JOB = "cron-job", "Cron job"
        KAFKA_CONSUMER = "kafka-consumer", "Kafka consumer"
        DATA_CONTRACT = "data-contract", "Data contract"
        RESOURCE = "resource", "Resource"
        OTHER = "other", "Other"

    class EntityKind(models.TextChoices):
        COMPONENT = "Component"
        API = "API"
        RESOURCE = "Resource"

    class Lifecycle(models.TextChoices):
        EXPERIMENTAL = "experimental"
        PRODUCTION = "production"
        DEPRECATED = "deprecated"

    class Tier(models.IntegerChoices):
        TIER_1 = 1, "Tier 1 (critical)"
        TIER_2 = 2, "Tier 2"
        TIER_3 = 3, "Tier 3"
        TIER_4 = 4, "Tier 4 (best effort)"

    name = models.CharField(max_length=120)
    metadata_namespace = models.CharField(max_length=63, default=DEFAULT_METADATA_NAMESPACE)
    entity_kind = models.CharField(
        max_length=12, choices=EntityKind.choices, default=EntityKind.COMPONENT
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SERVICE)
    spec_type = models.CharField(
        max_length=60, blank=True, help_text="Backstage spec.type as written (e.g. grpc, openapi)"
    )
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    lifecycle = models.CharField(max_length=40, default=Lifecycle.PRODUCTION)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_3)
    owner = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    owner_person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    system = models.ForeignKey(
        System, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    # Denormalised from system.namespace so that lists filter and count without a join.
    namespace = models.ForeignKey(
        Namespace, null=True, blank=True, on_delete=models.SET_NULL, related_name="components"
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="subcomponents"
    )
    repository = models.URLField(blank=True, max_length=400)
    tags = models.JSONField(default=list, blank=True)
    links = models.JSONField(default=list, blank=True)
    annotations = models.JSONField(default=dict, blank=True)
    definition = models.TextField(blank=True, help_text="API definition (APIs only)")
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["entity_kind", "metadata_namespace", "name"], name="component_unique_ref"
            ),
            models.CheckConstraint(
                condition=~Q(parent=models.F("id")), name="component_not_own_parent"
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "name"]),
            models.Index(fields=["lifecycle", "name"]),
            models.Index(fields=["owner", "name"]),
            models.Index(fields=["namespace", "name"]),
            # The component list's order (name, pk): its first page is an index range scan,
            # not a sort of every row. The partial one serves the default, top-level view.
            models.Index(fields=["name", "id"], name="component_name_id"),
            models.Index(
                fields=["name", "id"],
                condition=Q(parent__isnull=True),
                name="component_top_name_id",
            ),
            # The facet GROUP BY reads only these columns: an index-only scan on PostgreSQL.
            models.Index(
                fields=["kind", "lifecycle", "owner", "namespace"],
                condition=Q(parent__isnull=True),
                name="component_top_facets",
            ),
        ]

    def __str__(self):
        return self.title or self.name

    @property
    def entity_ref(self) -> str:
        return f"{self.entity_kind.lower()}:{self.metadata_namespace}/{self.name}"

    def get_absolute_url(self):
        return reverse(
            "catalog:component_detail",
            args=[self.metadata_namespace, self.entity_kind.lower(), self.name],
        )


class ComponentEnvironment(models.Model):
    """How one component runs in one environment."""

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="deployments")
    environment = models.ForeignKey(
        Environment, on_delete=models.CASCADE, related_name="deployments"
    )
    kube_deployment = models.CharField(max_length=253, blank=True)
    kube_rollout = models.CharField(max_length=253, blank=True)
    argocd_application = models.CharField(max_length=253, blank=True)
    api_base_url = models.URLField(blank=True, max_length=300)
    log_selector = models.CharField(
        max_length=300,
        blank=True,
        validators=[validate_log_selector],
        help_text="Loki label matchers for this component here; blank: the environment's",
    )

    class Meta:
        ordering = ["environment__order", "environment__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["component", "environment"], name="component_environment_unique"
            )
        ]

    def __str__(self):
        return f"{self.component} in {self.environment}"


class Dependency(models.Model):
    """`source` depends on `target`: if target is unhealthy, source may be affected."""

    class Kind(models.TextChoices):
        SYNC = "sync", "Synchronous (HTTP/gRPC)"
        EVENT = "event", "Event-driven (topic/queue)"
        DATA = "data", "Data (shared store, contract)"

    class Criticality(models.TextChoices):
        HIGH = "high"
        MEDIUM = "medium"
        LOW = "low"

    source = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="dependencies")
    target = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="dependents")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SYNC)
    topic = models.CharField(max_length=200, blank=True, help_text="Topic or queue (events)")
    description = models.CharField(max_length=300, blank=True)
    criticality = models.CharField(
        max_length=8, choices=Criticality.choices, default=Criticality.MEDIUM
    )

    class Meta:
        verbose_name_plural = "dependencies"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "target", "kind"], name="dependency_unique_edge"
            ),
            models.CheckConstraint(
                condition=~Q(source=models.F("target")), name="dependency_no_self"
            ),
        ]
        # Walking upstream reads only this covering index (PostgreSQL), never the table; walking
        # downstream reads only the unique (source, target, kind) index above.
        indexes = [
            models.Index(fields=["target", "kind"], include=["source"], name="dependency_up"),
        ]

    def __str__(self):
        return f"{self.source} -> {self.target} ({self.kind})"


class ApiRelation(models.Model):
    """A component provides or consumes an API (Backstage providesApis / consumesApis)."""

    class Relation(models.TextChoices):
        PROVIDES = "provides"
        CONSUMES = "consumes"

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="api_relations")
    api = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="api_users")
    relation = models.CharField(max_length=8, choices=Relation.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["component", "api", "relation"], name="api_relation_unique"
            )
        ]

    def __str__(self):
        return f"{self.component} {self.relation} {self.api}"


class CatalogVersion(models.Model):
    """One row whose `token` changes whenever the graph or what it shows changes.

    Database triggers (migration 0004) give it a fresh random token on every insert, update,
    delete or truncate of components, dependencies and teams, whoever writes them (services, the
    import, the admin, raw SQL). Cached graph answers are keyed by it, so they are never stale.
    The token is random, not a counter, so a rolled-back write can never reuse a value.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    token = models.CharField(max_length=40)

    def __str__(self):
        return self.token


class UnresolvedRelation(models.Model):
    """A reference an imported entity makes to an entity that is not in the catalog yet.

    Kept by the tolerant import (Backstage shows such relations too) and turned into the real
    relation by the import that brings the target, whatever source it comes from. Entities are
    named by their reference (`component:default/checkout`), as they may live in any table.
    """

    source = models.CharField(max_length=200)
    field = models.CharField(max_length=30)
    target = models.CharField(max_length=200, db_index=True)
    # dependsOn: "<sync|event|data>@<topic>", the edge the relation becomes.
    detail = models.CharField(max_length=200, blank=True)
    file = models.CharField(max_length=500, blank=True)
    line = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "field", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "field", "target", "detail"], name="unresolved_relation_unique"
            )
        ]
        indexes = [models.Index(fields=["source"])]

    def __str__(self):
        return f"{self.source} {self.field} {self.target} (not in the catalog yet)"


class ImportDigest(models.Model):
    """What the last clean import of a set of paths read, so an unchanged re-run can be skipped.

    `inputs` fingerprints everything the import read (each file's SHA-256, each scanned
    directory's and each Location glob's listing); `token` is the catalog version its
    transaction left. When every input still has its fingerprint and nobody has written to the
    catalog since (the version triggers watch every table the import writes), running it again
    would change nothing: `report` is what it reported.
    """

    key = models.CharField(max_length=64, unique=True)  # SHA-256 of the named paths and mode
    inputs = models.JSONField(default=dict)
    token = models.CharField(max_length=40)
    report = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"import digest {self.key[:12]}"


from .source_models import CatalogSource, EntityOrigin  # noqa: E402, F401
