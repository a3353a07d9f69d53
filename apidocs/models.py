"""API definitions published by components, their immutable versions and a symbol index."""

import ipaddress

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from catalog.models import Component


class ApiDefinition(models.Model):
    """One API a component publishes: a protobuf set (several files) or an OpenAPI document."""

    class Kind(models.TextChoices):
        PROTOBUF = "protobuf", "Protocol Buffers (gRPC)"
        OPENAPI = "openapi", "OpenAPI"

    component = models.ForeignKey(
        Component, on_delete=models.CASCADE, related_name="api_definitions"
    )
    name = models.SlugField(max_length=120)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PROTOBUF)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["component__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["component", "name"], name="apidefinition_unique_name")
        ]

    def __str__(self):
        return f"{self.component.name}/{self.name}"

    def get_absolute_url(self):
        return reverse("apidocs:api_detail", args=[self.pk])


class ApiVersion(models.Model):
    """One immutable revision of a definition: sources and, for protobuf, the descriptor set."""

    definition = models.ForeignKey(ApiDefinition, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)
    source = models.CharField(max_length=40, default="upload", help_text="upload, command, ...")
    files = models.JSONField(default=dict, help_text="path -> source text")
    # FileDescriptorSet with source info and imports (protobuf only).
    descriptor_set = models.BinaryField(null=True, blank=True)
    # buf breaking against version `breaking_against` (None: the first version), with the
    # rules of `breaking_policy` ("buf.yaml", or the default categories that applied).
    breaking_against = models.PositiveIntegerField(null=True, blank=True)
    breaking_policy = models.CharField(max_length=200, blank=True)
    breaking_findings = models.JSONField(
        default=list, blank=True,
        help_text="buf's findings: path, start/end line and column, rule, categories, message",
    )  # fmt: skip
    breaking_accepted_reason = models.TextField(blank=True)
    # buf lint, computed on the first view (None: not yet).
    lint_findings = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["definition", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "number"], name="apiversion_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.definition} v{self.number}"

    def get_absolute_url(self):
        return reverse("apidocs:version_detail", args=[self.definition_id, self.number])


class ApiSymbol(models.Model):
    """A searchable name in one version: package, service, method, message, enum, field, ..."""

    version = models.ForeignKey(ApiVersion, on_delete=models.CASCADE, related_name="symbols")
    full_name = models.CharField(max_length=400)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20)

    class Meta:
        ordering = ["full_name"]
        indexes = [
            models.Index(fields=["name"]),
            models.Index(fields=["full_name"]),
        ]

    def __str__(self):
        return f"{self.kind} {self.full_name}"


def validate_networks(value: str) -> None:
    for line in value.splitlines():
        try:
            if line.strip():
                ipaddress.ip_network(line.strip(), strict=False)
        except ValueError:
            raise ValidationError(f"{line.strip()!r} is not an address range (CIDR)") from None


class TryItPolicy(models.Model):
    """Whether try-it may call APIs in one environment, and who may (set by platform admins).

    An environment without a policy, or with `enabled` off, is not approved: production is
    never callable unless a platform admin turns it on here.
    """

    environment = models.OneToOneField(
        "catalog.Environment", on_delete=models.CASCADE, related_name="tryit_policy"
    )
    enabled = models.BooleanField(default=False, help_text="Approved for try-it calls")
    allow_viewers = models.BooleanField(default=False, help_text="Viewers (PMs) may call")
    allow_owner_team = models.BooleanField(default=True, help_text="The owning team may call")
    allow_sre = models.BooleanField(default=True, help_text="SREs may call")
    allow_platform_admins = models.BooleanField(default=True, help_text="Platform admins may call")
    calls_per_minute = models.PositiveSmallIntegerField(
        default=20, help_text="Per user, across all APIs in this environment"
    )
    private_networks = models.TextField(
        blank=True,
        validators=[validate_networks],
        help_text=(
            "Private address ranges (CIDR, one per line) API hosts of this environment may "
            "resolve to, e.g. 10.20.0.0/16. A private IP written in the base URL itself is "
            "always allowed. Metadata addresses are never allowed."
        ),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "try-it policy"
        verbose_name_plural = "try-it policies"

    def __str__(self):
        return f"try-it in {self.environment}: {'on' if self.enabled else 'off'}"

    @property
    def private_network_list(self) -> list[str]:
        return [line.strip() for line in self.private_networks.splitlines() if line.strip()]


class TryItCall(models.Model):
    """One try-it attempt (done, failed or refused): the rate limit counts these rows."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    definition = models.ForeignKey(ApiDefinition, on_delete=models.CASCADE, related_name="+")
    environment = models.CharField(max_length=60)
    method = models.CharField(max_length=400)
    status = models.CharField(max_length=60, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self):
        return f"{self.user} {self.method} in {self.environment}"


class TryItExample(models.Model):
    """A saved request for one method or operation, shared with everyone who reads the API."""

    definition = models.ForeignKey(ApiDefinition, on_delete=models.CASCADE, related_name="examples")
    method = models.CharField(max_length=400, help_text="gRPC full method name or OpenAPI anchor")
    title = models.CharField(max_length=120)
    request = models.JSONField(default=dict, help_text="The editor's fields")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["method", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["definition", "method", "title"], name="tryitexample_unique_title"
            )
        ]

    def __str__(self):
        return f"{self.method}: {self.title}"
