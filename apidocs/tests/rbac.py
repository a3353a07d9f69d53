"""apidocs rows of the RBAC matrix (format: portal/tests/rbac_world.py)."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apidocs.models import ApiDefinition

PUBLISHERS = {"owner_member", "owner_lead", "sre", "platform_admin"}
PROTO = b'syntax = "proto3";\npackage ledger.v1;\nmessage Entry { string id = 1; }\n'


def _definition(w):
    w.extra["definition"] = ApiDefinition.objects.create(
        component=w.component, name="protos", kind="protobuf"
    )


RBAC_CASES = [
    {
        "url_name": "apidocs:definition_create",
        "url": lambda w: reverse("apidocs:definition_create", args=[w.component.pk]),
        "data": lambda w: {"name": "ledger-api", "kind": "protobuf"},
        "allowed": PUBLISHERS,
    },
    {
        "url_name": "apidocs:version_upload",
        "url": lambda w: reverse("apidocs:version_upload", args=[w.extra["definition"].pk]),
        "data": lambda w: {"files": SimpleUploadedFile("ledger.proto", PROTO), "comment": "v1"},
        "setup": _definition,
        "allowed": PUBLISHERS,
    },
]
