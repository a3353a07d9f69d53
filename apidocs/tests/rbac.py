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


def _pets_version(w):
    """An OpenAPI version served by a real local HTTP server in staging, open to viewers there."""
    from apidocs.models import TryItPolicy
    from apidocs.services import api_definition_get_or_create, api_version_create

    from .conftest import PETS_OPENAPI
    from .tryit_servers import HttpRecorder, pets_app, start_http_server

    server = start_http_server(pets_app(HttpRecorder()))
    w.staging.api_base_url = f"http://127.0.0.1:{server.server_port}"
    w.staging.save()
    TryItPolicy.objects.create(environment=w.staging, enabled=True, allow_viewers=True)
    owner = w.users["owner_member"]
    api = api_definition_get_or_create(actor=owner, component=w.component, name="pets",
                                       kind="openapi")  # fmt: skip
    w.extra["version"] = api_version_create(
        actor=owner, api=api, files={"openapi.yaml": PETS_OPENAPI}
    )


def _saved_example(w):
    from apidocs.models import TryItExample

    _pets_version(w)
    w.extra["example"] = TryItExample.objects.create(
        definition=w.extra["version"].definition,
        method="getPet",
        title="Rex",
        created_by=w.users["owner_member"],
    )


def _tryit_url(name):
    return lambda w: reverse(
        name, args=[w.extra["version"].definition_id, w.extra["version"].number]
    )


CALLERS = {"owner_member", "owner_lead", "sre", "platform_admin", "viewer"}

RBAC_CASES += [
    {
        "url_name": "apidocs:tryit",
        "url": _tryit_url("apidocs:tryit"),
        "data": lambda w: {"op": "getPet", "environment": "staging", "param:path:petId": "9"},
        "setup": _pets_version,
        "allowed": CALLERS,
    },
    {
        "url_name": "apidocs:tryit_example_save",
        "url": _tryit_url("apidocs:tryit_example_save"),
        "data": lambda w: {
            "op": "getPet",
            "environment": "staging",
            "param:path:petId": "9",
            "title": "Rex",
        },
        "setup": _pets_version,
        "allowed": CALLERS,
    },
    {
        "url_name": "apidocs:tryit_example_delete",
        "url": lambda w: reverse("apidocs:tryit_example_delete", args=[w.extra["example"].pk]),
        "setup": _saved_example,
        "allowed": {"owner_member", "owner_lead", "platform_admin"},
    },
]


def _github_sandbox(w):
    """A definition of a component whose repository the GitHub sandbox serves (protos)."""
    import tempfile
    from pathlib import Path

    from django.test import override_settings

    from sandbox.runner import start_sandbox

    _definition(w)
    w.component.repository = "https://github.com/example/ledger"
    w.component.save()
    w.extra["tmp"] = tempfile.TemporaryDirectory()
    running = start_sandbox(directory=Path(w.extra["tmp"].name), names=["github"])
    w.extra["sandbox"] = running
    w.extra["settings"] = override_settings(
        INTEGRATION_URLS=dict(running.endpoints), GITHUB_TOKEN="switchyard-sandbox"
    )
    w.extra["settings"].enable()


def _github_sandbox_stop(w):
    if "settings" in w.extra:
        w.extra["settings"].disable()
        w.extra["sandbox"].stop()
        w.extra["tmp"].cleanup()


RBAC_CASES.append(
    {
        "url_name": "apidocs:version_fetch",
        "url": lambda w: reverse("apidocs:version_fetch", args=[w.extra["definition"].pk]),
        "data": lambda w: {"path": "proto/", "ref": "main"},
        "setup": _github_sandbox,
        "teardown": _github_sandbox_stop,
        "allowed": PUBLISHERS,
    }
)
