"""'Publish a version' from /apis/ and the service page."""

from django.urls import reverse

from apidocs.models import ApiDefinition
from catalog.models import Component


def test_owner_sees_publish_on_api_list_and_picks_own_service(client, owner, component):
    client.force_login(owner)
    assert (
        reverse("apidocs:publish_start") in client.get(reverse("apidocs:api_list")).content.decode()
    )
    page = client.get(reverse("apidocs:publish_start")).content.decode()
    assert f'value="{component.pk}"' in page
    response = client.get(reverse("apidocs:publish_start"), {"component": component.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("apidocs:definition_create", args=[component.pk])


def test_outsider_cannot_pick_another_teams_service(client, outsider, component):
    client.force_login(outsider)
    assert (
        reverse("apidocs:publish_start")
        not in client.get(reverse("apidocs:api_list")).content.decode()
    )
    response = client.get(reverse("apidocs:publish_start"), {"component": component.pk})
    assert response.status_code == 200
    body = response.content.decode()
    assert f'value="{component.pk}"' not in body and "none of your teams owns a" in body


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("apidocs:publish_start"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_service_page_offers_publish_to_its_owners_only(client, owner, outsider, component):
    page = client.get  # the APIs card loads through its panel fragment
    url = reverse("apidocs:panel_apis", args=[component.pk])
    client.force_login(owner)
    assert url in page(component.get_absolute_url()).content.decode()
    target = reverse("apidocs:definition_create", args=[component.pk])
    client.force_login(owner)
    assert target in client.get(url).content.decode()
    client.force_login(outsider)
    assert target not in client.get(url).content.decode()


def test_publish_page_lists_existing_apis_for_a_new_version(client, owner, component):
    definition = ApiDefinition.objects.create(component=component, name="payments")
    client.force_login(owner)
    body = client.get(reverse("apidocs:definition_create", args=[component.pk])).content.decode()
    assert reverse("apidocs:version_upload", args=[definition.pk]) in body
    assert Component.objects.count() == 1
