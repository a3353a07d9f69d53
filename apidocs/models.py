"""API definitions published by components, their immutable versions and a symbol index."""

from django.conf import settings
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
    breaking_findings = models.JSONField(default=list, blank=True)
    breaking_accepted_reason = models.TextField(blank=True)

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
