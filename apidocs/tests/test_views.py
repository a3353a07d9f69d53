import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from apidocs.models import ApiVersion
from apidocs.protos import read_proto_dir
from apidocs.services import api_version_create
from catalog.models import ApiRelation, Component

from .conftest import HELLO_V1


@pytest.fixture
def shared_version(owner, definition, protos_dir):
    return api_version_create(actor=owner, api=definition, files=read_proto_dir(protos_dir))


def test_version_page_renders_services_methods_http_and_cross_links(
    client, owner, shared_version, django_assert_max_num_queries
):
    client.force_login(owner)
    with django_assert_max_num_queries(8):
        response = client.get(shared_version.get_absolute_url())
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="routeguide.RouteGuide"' in body and "bidirectional streaming" in body
    assert 'href="#routeguide.Point"' in body
    assert "POST /v1/shelves" in body
    assert 'id="google.example.library.v1.Book"' in body
    assert "Upload a new version" in body


def test_version_picker_lists_versions(client, owner, definition):
    api_version_create(actor=owner, api=definition, files={"a.proto": HELLO_V1})
    v2 = api_version_create(actor=owner, api=definition, files={"a.proto": HELLO_V1 + "\n"})
    client.force_login(owner)
    body = client.get(v2.get_absolute_url()).content.decode()
    assert body.count("<option") == 2 and 'id="hello.v1.Greeter"' in body


def test_anonymous_is_sent_to_login(client, shared_version):
    response = client.get(shared_version.get_absolute_url())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_search_finds_methods_across_apis(
    client, outsider, shared_version, django_assert_max_num_queries
):
    client.force_login(outsider)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("apidocs:symbol_search"), {"q": "RouteChat"})
    body = response.content.decode()
    assert "routeguide.RouteGuide.RouteChat" in body
    assert f"{shared_version.get_absolute_url()}#routeguide.RouteGuide.RouteChat" in body


def test_upload_zip_as_owner(client, owner, definition):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello/v1/hello.proto", HELLO_V1)
    client.force_login(owner)
    upload = SimpleUploadedFile("protos.zip", buffer.getvalue())
    response = client.post(
        reverse("apidocs:version_upload", args=[definition.pk]),
        {"files": [upload], "comment": "zip"},
    )
    assert response.status_code == 302
    assert ApiVersion.objects.get().files == {"hello/v1/hello.proto": HELLO_V1}


def test_upload_compile_error_shows_line_and_stores_nothing(client, owner, definition):
    client.force_login(owner)
    upload = SimpleUploadedFile("bad.proto", b'syntax = "proto3";\nmessage M { strin a = 1; }\n')
    response = client.post(
        reverse("apidocs:version_upload", args=[definition.pk]), {"files": [upload]}
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<td>2</td><td>13</td>" in body
    assert not ApiVersion.objects.exists()


def test_breaking_upload_shows_findings_then_accepts_with_reason(client, owner, definition):
    api_version_create(actor=owner, api=definition, files={"a.proto": HELLO_V1})
    client.force_login(owner)
    url = reverse("apidocs:version_upload", args=[definition.pk])
    broken = HELLO_V1.replace("  int32 times = 2;\n", "").encode()
    response = client.post(url, {"files": [SimpleUploadedFile("a.proto", broken)]})
    assert "FIELD_NO_DELETE" in response.content.decode() and definition.versions.count() == 1
    pending = response.context["form"].data["pending"]
    response = client.post(url, {"pending": pending, "accept_breaking_reason": "unused field"})
    assert response.status_code == 302
    assert definition.versions.get(number=2).breaking_accepted_reason == "unused field"


def test_outsider_cannot_open_the_upload(client, outsider, definition):
    client.force_login(outsider)
    upload = SimpleUploadedFile("a.proto", HELLO_V1.encode())
    response = client.post(
        reverse("apidocs:version_upload", args=[definition.pk]), {"files": [upload]}
    )
    assert response.status_code == 404 and not ApiVersion.objects.exists()


def test_api_list_counts_queries(client, owner, shared_version, django_assert_max_num_queries):
    client.force_login(owner)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("apidocs:api_list"))
    assert "protos" in response.content.decode()


def test_component_apis_include_lists_relations(component, definition):
    from django.template import Context, Template

    api = Component.objects.create(name="payments-grpc", entity_kind="API", spec_type="grpc")
    ApiRelation.objects.create(component=component, api=api, relation="provides")
    html = Template('{% include "apidocs/_component_apis.html" %}').render(
        Context({"component": component})
    )
    assert "payments-grpc" in html and "provides" in html
    assert reverse("apidocs:api_detail", args=[definition.pk]) in html


def _zip_with(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data.replace(b"syntax", b"syntaX"),  # stored bytes no longer match the CRC
        lambda data: data[:40] + b"\xff" * 20 + data[60:],  # compressed stream damaged
        lambda data: b"PK\x05\x06" + b"\x00" * 18,  # an empty central directory only
    ],
)
def test_corrupt_zip_upload_is_a_form_error(client, owner, definition, damage):
    data = damage(_zip_with("hello/v1/hello.proto", HELLO_V1 * 20))
    client.force_login(owner)
    response = client.post(
        reverse("apidocs:version_upload", args=[definition.pk]),
        {"files": [SimpleUploadedFile("protos.zip", data)], "comment": "zip"},
    )
    assert response.status_code in (200, 400)
    assert not ApiVersion.objects.exists()
