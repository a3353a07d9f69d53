"""Every admin that can write is audited, or it is read-only: proven over admin.site._registry."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from apidocs.models import ApiDefinition, TryItExample, TryItPolicy
from approvals.models import ApprovalPolicy, MachineClient
from deployments.releases.models import DeployFreeze
from portal.admin_mixins import AuditedAdminMixin
from portal.audit import audit_verify
from portal.models import AuditEvent


@pytest.fixture
def root(make_user):
    # Superuser status grants nothing in the product (docs/access.md): the platform team's
    # admin pages are theirs by the platform-admin group.
    user = make_user("root", is_staff=True, is_superuser=True)
    user.groups.add(Group.objects.get_or_create(name="platform-admin")[0])
    return user


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client


def _can_write(model_admin, request) -> bool:
    return any(
        (
            model_admin.has_add_permission(request),
            model_admin.has_change_permission(request),
            model_admin.has_delete_permission(request),
        )
    )


def test_every_registered_admin_is_audited_or_read_only(root):
    request = RequestFactory().get("/admin/")
    request.user = root
    unaudited = []
    for model, model_admin in admin.site._registry.items():
        if not _can_write(model_admin, request):
            continue
        if not isinstance(model_admin, AuditedAdminMixin):
            unaudited.append(model._meta.label)
            continue
        allowed = {"delete_selected", *model_admin.audited_actions}
        assert set(model_admin.get_actions(request)) <= allowed, model._meta.label
    assert unaudited == []
    assert len(admin.site._registry) >= 25  # the walk saw the real registry


def _last(action):
    return AuditEvent.objects.filter(action=action).latest("id")


def test_approval_policy_quorum_change_is_audited(root_client, environments):
    policy = ApprovalPolicy.objects.create(environment=environments["prod"], quorum=1)
    url = reverse("admin:approvals_approvalpolicy_change", args=[policy.pk])
    response = root_client.post(url, {
        "environment": environments["prod"].pk, "quorum": 3, "on_expiry": policy.on_expiry,
        "default_ttl_minutes": 60, "approvers": policy.approvers,
        "train_approvals": policy.train_approvals,
    })  # fmt: skip
    assert response.status_code == 302
    event = _last("approvals.policy.admin_change")
    assert (event.before, event.after) == ({"quorum": "1"}, {"quorum": "3"})
    assert audit_verify() == []


def test_deploy_freeze_set_by_an_sre_without_staff_flag_is_audited(client, sre, environments):
    assert not sre.is_staff
    client.force_login(sre)
    assert client.get(reverse("admin:index")).status_code == 200
    now = timezone.now()
    response = client.post(reverse("admin:deployments_deployfreeze_add"), {
        "environment": environments["prod"].pk, "reason": "black friday",
        "starts_at_0": now.strftime("%Y-%m-%d"), "starts_at_1": "00:00:00",
        "ends_at_0": now.strftime("%Y-%m-%d"), "ends_at_1": "23:59:59",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    event = _last("deployments.freeze.admin_add")
    assert event.actor == sre and event.after["reason"] == "black friday"
    assert DeployFreeze.objects.count() == 1


def test_engineer_is_kept_out_of_the_admin(client, owner):
    client.force_login(owner)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_sre_reads_releases_and_the_audit_log_in_the_admin(client, sre):
    client.force_login(sre)
    assert client.get(reverse("admin:deployments_release_changelist")).status_code == 200
    assert client.get(reverse("admin:portal_auditevent_changelist")).status_code == 200
    # ...and cannot change the platform team's policies.
    assert client.get(reverse("admin:approvals_approvalpolicy_add")).status_code == 403


def test_granting_the_sre_group_to_a_user_is_audited(root_client, make_user):
    target = make_user("newsre")
    sre_group = Group.objects.get_or_create(name="sre")[0]
    url = reverse("admin:auth_user_change", args=[target.pk])
    response = root_client.post(url, {
        "username": "newsre", "is_active": "on", "groups": [sre_group.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
    })  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:3000]
    event = _last("identity.user.admin_change")
    assert event.after["groups"] == ["sre"] and event.before["groups"] == []
    assert "password" not in str(event.after)


def test_renaming_a_group_to_sre_is_audited(root_client):
    group = Group.objects.create(name="ops")
    url = reverse("admin:auth_group_change", args=[group.pk])
    assert root_client.post(url, {"name": "sre"}).status_code == 302
    event = _last("identity.group.admin_change")
    assert (event.before, event.after) == ({"name": "ops"}, {"name": "sre"})


def test_password_reset_in_the_admin_is_audited(root_client, make_user):
    target = make_user("forgetful")
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    response = root_client.post(
        url,
        {
            "password1": "N3w-long-passphrase!",
            "password2": "N3w-long-passphrase!",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert _last("identity.user.admin_password").target_id == str(target.pk)


def test_tryit_policy_delete_is_audited(root_client, environments):
    policy = TryItPolicy.objects.create(environment=environments["staging"], enabled=True)
    url = reverse("admin:apidocs_tryitpolicy_delete", args=[policy.pk])
    assert root_client.post(url, {"post": "yes"}).status_code == 302
    assert _last("apidocs.tryit_policy.admin_delete").target_id == str(policy.pk)
    assert not TryItPolicy.objects.exists()


def test_bulk_delete_of_examples_and_definitions_is_audited(root_client, ledger):
    definition = ApiDefinition.objects.create(component=ledger, name="ledger-api")
    examples = [
        TryItExample.objects.create(definition=definition, method=f"m{n}", title=f"t{n}")
        for n in range(2)
    ]
    response = root_client.post(reverse("admin:apidocs_tryitexample_changelist"), {
        "action": "delete_selected", "_selected_action": [e.pk for e in examples], "post": "yes",
    })  # fmt: skip
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action="apidocs.tryit_example.admin_delete").count() == 2
    url = reverse("admin:apidocs_apidefinition_delete", args=[definition.pk])
    assert root_client.post(url, {"post": "yes"}).status_code == 302
    assert _last("apidocs.definition.admin_delete").target_id == str(definition.pk)


def test_machine_client_changes_are_audited_without_secrets(root_client, environments):
    client_row = MachineClient.objects.create(
        name="ci", token_sha256="a" * 64, signing_secret="s3cr3t-signing"
    )
    url = reverse("admin:approvals_machineclient_change", args=[client_row.pk])
    response = root_client.post(
        url, {"name": "ci", "environments": [environments["staging"].pk], "is_active": ""}
    )
    assert response.status_code == 302
    event = _last("approvals.machine_client.admin_change")
    assert event.after["is_active"] == "False" and event.after["environments"] == ["staging"]
    assert "s3cr3t" not in str(event.after) + str(event.before)
