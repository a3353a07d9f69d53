"""A workflow at its pause point asks for a decision: the request is checked against the catalog,
the client's scope and the release, and its signal target is derived here, never taken on trust."""

from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from catalog.models import Component, ComponentEnvironment, Environment
from deployments.models import Release
from deployments.releases.selectors import repository_slug
from notifications.events import approval_requested_notify
from portal.audit import AuditContext, audit_record
from portal.errors import PortalError
from portal.links import is_http_url
from portal.models import AuditEvent

from ..models import ApprovalPolicy, ApprovalRequest, MachineClient

MAX_TTL = timedelta(hours=24)


class ApprovalRefused(PortalError):
    """The approval cannot be created or decided as asked."""


def component_by_ref(ref: str) -> Component:
    """A component by entity ref ("component:billing/ledger"), "namespace/name" or bare name.

    The namespace is honoured; a bare name that exists in several namespaces is refused rather
    than guessed.
    """
    kind, _, rest = ref.rpartition(":") if ":" in ref else ("", "", ref)
    namespace, _, name = rest.rpartition("/")
    found = Component.objects.filter(name=name).select_related("owner")
    if kind:
        found = found.filter(entity_kind__iexact=kind)
    if namespace:
        found = found.filter(metadata_namespace=namespace)
    matches = list(found[:2])
    if not matches:
        raise ApprovalRefused(f"unknown service {ref!r}")
    if len(matches) > 1:
        raise ApprovalRefused(
            f"{ref!r} names services in several namespaces: send component:<namespace>/{name}"
        )
    return matches[0]


def _expiry(data: dict, policy: ApprovalPolicy | None) -> datetime:
    now = timezone.now()
    if data.get("expires_at") is not None:
        try:
            expires = parse_datetime(str(data["expires_at"]))
        except ValueError:
            expires = None
        if expires is None or timezone.is_naive(expires):
            raise ApprovalRefused("expires_at must be an ISO 8601 time with a time zone")
    else:
        # Absent means the policy's default; 0 (or anything not a positive number) is refused,
        # never silently read as "the default".
        minutes = data.get("expires_in_minutes", policy.default_ttl_minutes if policy else 60)
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise ApprovalRefused("expires_in_minutes must be a positive whole number")
        if minutes > MAX_TTL.total_seconds() // 60:
            raise ApprovalRefused("the expiry must be in the future and within 24 hours")
        expires = now + timedelta(minutes=minutes)
    if expires <= now or expires - now > MAX_TTL:
        raise ApprovalRefused("the expiry must be in the future and within 24 hours")
    return expires


def approval_create(
    *, client: MachineClient, data: dict, context: AuditContext | None = None
) -> ApprovalRequest:
    """A workflow at its pause point asks for a decision. Refusals are audited and raised."""
    try:
        request = _approval_build(client=client, data=data)
        with transaction.atomic():
            request.save()
            audit_record(
                actor=None,
                actor_label=f"machine:{client.name}",
                action="approval.create",
                target=request,
                component=request.component,
                environment=request.environment.name,
                after={
                    "phase": request.rollout_phase,
                    "requester": request.requester_label,
                    "expires_at": request.expires_at,
                    "signal": request.signal,
                },
                context=context,
            )
            # The eligible approvers are told once the request is committed (outbox rows
            # written then, delivered by Celery); robust: a failure there never fails the call.
            transaction.on_commit(lambda: approval_requested_notify(request), robust=True)
    except IntegrityError:
        _refusal_audit(client, data, "release already has an open approval request", context)
        raise ApprovalRefused(
            "this release already has an open approval request: decide or let it expire first"
        ) from None
    except ApprovalRefused as exc:
        _refusal_audit(client, data, exc.message, context)
        raise
    return request


def _refusal_audit(client, data, reason: str, context) -> None:
    audit_record(
        actor=None,
        actor_label=f"machine:{client.name}",
        action="approval.create",
        outcome=AuditEvent.Outcome.DENIED,
        reason=reason,
        after=data if isinstance(data, dict) else {"body": repr(data)[:200]},
        context=context,
    )


def _approval_build(*, client: MachineClient, data: dict) -> ApprovalRequest:
    if not isinstance(data, dict):
        raise ApprovalRefused("the body must be a JSON object")
    for field in ("service", "environment", "rollout_phase", "actor"):
        if not isinstance(data.get(field), str) or not data[field].strip():
            raise ApprovalRefused(f"{field} is required (a non-empty string)")
    component = component_by_ref(data["service"])
    environment = Environment.objects.filter(name=data["environment"]).first()
    if environment is None:
        raise ApprovalRefused(f"unknown environment {data['environment']!r}")
    if not client.environments.filter(pk=environment.pk).exists():
        raise ApprovalRefused(f"this token may not ask for approvals in {environment.name}")
    if not client.may_post_for(component):
        raise ApprovalRefused(f"this token may not ask for approvals for {component.name}")
    target = ComponentEnvironment.objects.filter(
        component=component, environment=environment
    ).first()
    if target is None:
        raise ApprovalRefused(f"{component.name} does not run in {environment.name} (catalog)")
    release = _release(data, component, environment)
    policy = ApprovalPolicy.objects.filter(environment=environment).first()
    requester = get_user_model().objects.filter(username=data["actor"]).first()
    if release and release.requested_by_id:
        requester = release.requested_by
    run_url = data.get("workflow_run_url") or ""
    if run_url and not (is_http_url(run_url) and len(run_url) <= 400):
        raise ApprovalRefused("workflow_run_url must be an http(s) URL of at most 400 characters")
    return ApprovalRequest(
        component=component,
        environment=environment,
        release=release,
        client=client,
        rollout_phase=data["rollout_phase"][:200],
        weight=data.get("weight"),
        requested_by=requester,
        requester_label=data["actor"][:200],
        from_version=str(data.get("from_version") or (release.previous_version if release else "")),
        to_version=str(data.get("to_version") or (release.version if release else "")),
        workflow_run_url=run_url,
        signal=signal_target(data.get("signal"), target=target, release=release),
        quorum=policy.quorum if policy else 1,
        approvers=policy.approvers if policy else ApprovalPolicy.Approvers.TEAM,
        on_expiry=policy.on_expiry if policy else ApprovalPolicy.OnExpiry.ABORT,
        expires_at=_expiry(data, policy),
    )


def _release(data, component, environment) -> Release | None:
    if data.get("release_id") is None:
        return None
    release = Release.objects.filter(
        pk=data["release_id"], component=component, environment=environment
    ).first()
    if release is None:
        raise ApprovalRefused("release_id does not match a release of this service there")
    if release.is_terminal:
        raise ApprovalRefused(f"release #{release.pk} is {release.state}: nothing waits on it")
    return release


def signal_target(asked, *, target: ComponentEnvironment, release: Release | None) -> dict:
    """Where a decision is sent, derived from the catalog and the release.

    What the machine sent is only compared: any part that disagrees is refused, so a token
    scoped to one service cannot point a person's decision at another one's rollout.
    """
    asked = asked or {}
    if not isinstance(asked, dict):
        raise ApprovalRefused("signal must be an object")
    application = target.argocd_application or f"{target.component.name}-{target.environment.name}"
    derived = {}
    rollout = asked.get("rollout") or {}
    if rollout.get("application") not in (None, application):
        raise ApprovalRefused(
            f"signal.rollout.application disagrees with the catalog ({application} for "
            f"{target.component.name} in {target.environment.name})"
        )
    if "rollout" in asked and release is None:
        derived["rollout"] = {"application": application}
    github = asked.get("github") or {}
    if github:
        derived["github"] = _github_target(github, target=target, release=release)
    return derived


def _github_target(github: dict, *, target, release) -> dict:
    repo = repository_slug(target.component)
    if not repo:
        raise ApprovalRefused(f"{target.component.name} has no GitHub repository in the catalog")
    if github.get("repo") not in (None, repo):
        raise ApprovalRefused(f"signal.github.repo disagrees with the catalog ({repo})")
    run_id = github.get("run_id")
    if release is not None and release.workflow_run_id:
        if run_id not in (None, release.workflow_run_id):
            raise ApprovalRefused(
                f"signal.github.run_id disagrees with release #{release.pk}'s workflow run"
            )
        run_id = release.workflow_run_id
    if not run_id:
        raise ApprovalRefused("signal.github.run_id is required")
    bound = {"repo": repo, "run_id": int(run_id)}
    if github.get("environment_name"):
        bound["environment_name"] = str(github["environment_name"])
    return bound
