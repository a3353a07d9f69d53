"""Try-it pages: editor, call (full page and htmx fragment), saved examples, links."""

import json
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from apidocs.models import TryItExample
from portal.models import AuditEvent

HELLO = "helloworld.Greeter.SayHello"


def url(version, op, **extra):
    base = reverse("apidocs:tryit", args=[version.definition_id, version.number])
    return f"{base}?{urlencode({'op': op, **extra})}"


def test_version_page_links_each_method_to_try_it(client, pm, grpc_version):
    client.force_login(pm)
    body = client.get(grpc_version.get_absolute_url()).content.decode()
    assert url(grpc_version, HELLO).replace("&", "&amp;") in body or f"op={HELLO}" in body
    assert "routeguide.RouteGuide.ListFeatures" in body and "not supported" in body


def test_editor_is_prefilled_and_lists_only_allowed_environments(client, pm, grpc_version):
    client.force_login(pm)
    response = client.get(url(grpc_version, HELLO))
    body = response.content.decode()
    assert response.status_code == 200
    assert "&quot;name&quot;: &quot;name&quot;" in body  # the JSON sample
    assert '<option value="staging"' in body and '<option value="prod"' not in body
    assert "grpcurl -plaintext" in body and "helloworld.Greeter/SayHello" in body


def test_outsider_sees_no_environment_and_post_is_refused(client, outsider, grpc_version):
    client.force_login(outsider)
    assert (
        "You may not call this API in any environment"
        in client.get(url(grpc_version, HELLO)).content.decode()
    )
    response = client.post(
        url(grpc_version, HELLO), {"op": HELLO, "environment": "staging", "body": "{}"}
    )
    assert response.status_code == 403
    assert AuditEvent.objects.get(action="apidocs.tryit_call").outcome == "denied"


def test_anonymous_is_sent_to_login(client, grpc_version):
    response = client.get(url(grpc_version, HELLO))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_post_without_js_renders_the_page_with_the_response(client, pm, grpc_version):
    client.force_login(pm)
    response = client.post(
        url(grpc_version, HELLO),
        {"op": HELLO, "environment": "staging", "body": '{"name": "Grace"}', "timeout": "5"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" in body
    assert "Hello, Grace!" in body and 'data-testid="tryit-status">OK<' in body


def test_htmx_post_returns_only_the_response_panel(client, pm, grpc_version):
    client.force_login(pm)
    response = client.post(
        url(grpc_version, HELLO),
        {"op": HELLO, "environment": "staging", "body": '{"name": "Lin"}', "metadata": "x-a: 1"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.strip().startswith('<section id="tryit-response"') and "Hello, Lin!" in body
    assert "x-served-by" in body  # trailers


def test_htmx_post_replaces_the_copy_as_command_line_with_the_body_just_sent(
    client, pm, grpc_version
):
    client.force_login(pm)
    page = client.get(url(grpc_version, HELLO)).content.decode()
    assert 'id="tryit-snippets"' in page and "hx-swap-oob" not in page
    response = client.post(
        url(grpc_version, HELLO),
        {"op": HELLO, "environment": "staging", "body": '{"name": "Ada"}', "metadata": "x-b: 2"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    snippet = body[body.index('<section id="tryit-snippets"') :]
    assert 'hx-swap-oob="true"' in snippet.split(">", 1)[0]
    assert "Ada" in snippet and "x-b: 2" in snippet and "grpcurl -plaintext" in snippet
    assert "&quot;name&quot;: &quot;name&quot;" not in snippet  # not the schema's sample


def test_bad_request_shows_the_message(client, pm, grpc_version):
    client.force_login(pm)
    response = client.post(
        url(grpc_version, HELLO), {"op": HELLO, "environment": "staging", "body": "{nope"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert (
        response.status_code == 400
        and "not a valid helloworld.HelloRequest" in response["X-Error-Message"]
    )


def test_bidi_method_page_says_not_supported(client, pm, grpc_version):
    client.force_login(pm)
    body = client.get(url(grpc_version, "keyvaluestore.KeyValueStore.GetValues")).content.decode()
    assert "cannot be called in try-it" in body and 'name="body"' not in body


def test_unknown_method_is_404(client, pm, grpc_version):
    client.force_login(pm)
    assert client.get(url(grpc_version, "nope.Nope.Nope")).status_code == 404


def test_openapi_page_has_parameters_body_and_curl(client, pm, http_version):
    client.force_login(pm)
    body = client.get(url(http_version, "createPet")).content.decode()
    assert (
        "curl -sS -i" in body and "/v1/pets" in body and "&quot;kind&quot;: &quot;dog&quot;" in body
    )
    get_page = client.get(url(http_version, "getPet")).content.decode()
    assert 'name="param:path:petId" value="42"' in get_page


def test_openapi_call_through_the_page(client, pm, http_version):
    client.force_login(pm)
    response = client.post(
        url(http_version, "getPet"),
        {"op": "getPet", "environment": "staging", "param:path:petId": "9", "timeout": "5"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "200 OK" in body and "Rex" in body


def test_save_example_shares_it_on_the_api_page(client, pm, outsider, grpc_version):
    client.force_login(pm)
    save = reverse("apidocs:tryit_example_save", args=[grpc_version.definition_id, 1])
    response = client.post(
        save, {"op": HELLO, "environment": "staging", "title": "Greet Ada",
               "body": '{"name": "Ada"}', "metadata": "authorization: Bearer x"},
    )  # fmt: skip
    example = TryItExample.objects.get()
    assert response.status_code == 302 and f"example={example.pk}" in response["Location"]
    assert example.request["body"] == '{"name": "Ada"}' and example.created_by == pm
    assert example.request["metadata"] == "authorization: [redacted]"  # shared: no secrets
    saved = AuditEvent.objects.get(action="apidocs.tryit_example_save")
    assert "Bearer x" not in json.dumps(saved.after)
    client.force_login(outsider)
    page = client.get(grpc_version.get_absolute_url()).content.decode()
    assert "Greet Ada" in page
    editor = client.get(url(grpc_version, HELLO, example=example.pk)).content.decode()
    assert "&quot;name&quot;: &quot;Ada&quot;" in editor


def test_outsider_cannot_save_or_delete_examples(client, pm, outsider, grpc_version):
    client.force_login(outsider)
    save = reverse("apidocs:tryit_example_save", args=[grpc_version.definition_id, 1])
    response = client.post(
        save, {"op": HELLO, "environment": "staging", "title": "x", "body": "{}"}
    )
    assert response.status_code == 403 and not TryItExample.objects.exists()
    example = TryItExample.objects.create(
        definition=grpc_version.definition, method=HELLO, title="t", created_by=pm
    )
    delete = reverse("apidocs:tryit_example_delete", args=[example.pk])
    assert client.post(delete).status_code == 404 and TryItExample.objects.exists()
    client.force_login(pm)
    assert client.post(delete).status_code == 302 and not TryItExample.objects.exists()


@pytest.mark.parametrize("title", ["", "   "])
def test_example_needs_a_title(client, pm, grpc_version, title):
    client.force_login(pm)
    save = reverse("apidocs:tryit_example_save", args=[grpc_version.definition_id, 1])
    response = client.post(
        save, {"op": HELLO, "environment": "staging", "title": title, "body": "{}"}
    )
    assert response.status_code == 400 and not TryItExample.objects.exists()


def test_policy_admin_is_for_platform_admins(client, make_user, sre, tryit_envs):
    from django.contrib.auth.models import Group

    admin = make_user("platform", is_staff=True)
    admin.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    client.force_login(admin)
    add = reverse("admin:apidocs_tryitpolicy_add")
    form = {"environment": tryit_envs[1].pk, "enabled": "on", "calls_per_minute": 5,
            "private_networks": "10.0.0.0/8"}  # fmt: skip
    response = client.post(add, form)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="apidocs.tryit_policy_save")
    assert event.after["enabled"] is True and event.environment == "prod"
    bad = client.post(add, {"environment": tryit_envs[1].pk, "calls_per_minute": 5,
                            "private_networks": "not-a-net"})  # fmt: skip
    assert "is not an address range" in bad.content.decode()
    sre.is_staff = True
    sre.save()
    client.force_login(sre)
    assert client.get(add).status_code == 403
    assert json.loads(json.dumps(event.after))["private_networks"] == "10.0.0.0/8"
