"""Writes owned by the portal app itself: heartbeats, team memberships, SSO group mapping."""

from dataclasses import dataclass, field

from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Team

from .audit import AuditContext, audit_record
from .errors import ValidationFailed
from .models import SsoGroupMapping, SsoRoleGrant, TeamMembership, WorkerHeartbeat
from .permissions import permission_require
from .rules import PLATFORM_ADMIN_GROUP, SRE_GROUP

_ROLE_RANK = {TeamMembership.Role.MEMBER: 0, TeamMembership.Role.LEAD: 1}


def heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    """Record that the worker on `hostname` is alive (machine action: no user, no audit row)."""
    with transaction.atomic():
        beat, created = WorkerHeartbeat.objects.select_for_update().get_or_create(
            hostname=hostname, defaults={"beats": 1}
        )
        if not created:
            WorkerHeartbeat.objects.filter(pk=beat.pk).update(
                last_seen=timezone.now(), beats=F("beats") + 1
            )
            beat.refresh_from_db()
    return beat


@dataclass
class SsoChanges:
    """What one SSO login changed, as readable strings ("+ payments (lead)", "- sre")."""

    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)


def _wanted_from_claim(groups: list[str]) -> tuple[dict[int, str], set[str]]:
    """Team id -> strongest role, and platform roles, that the claimed groups map to."""
    teams: dict[int, str] = {}
    platform_roles: set[str] = set()
    for mapping in SsoGroupMapping.objects.filter(group__in=set(groups)):
        if mapping.team_id:
            current = teams.get(mapping.team_id)
            if current is None or _ROLE_RANK[mapping.team_role] > _ROLE_RANK[current]:
                teams[mapping.team_id] = mapping.team_role
        else:
            platform_roles.add(mapping.platform_role)
    return teams, platform_roles


def sso_groups_apply(*, user, groups: list[str], context: AuditContext | None = None) -> SsoChanges:
    """Bring `user`'s SSO-granted team memberships and platform roles in line with `groups`.

    Called on every SSO login with the identity provider's groups claim (the provider vouches for
    it, so there is no permission check). Memberships and roles set by hand are never touched;
    SSO-granted ones that the claim no longer supports are removed. Every change is audited as
    the user, in the same transaction.
    """
    wanted_teams, wanted_roles = _wanted_from_claim([str(g) for g in groups or []])
    changes = SsoChanges()
    with transaction.atomic():
        _apply_team_memberships(user, wanted_teams, changes, context)
        _apply_platform_roles(user, wanted_roles, changes, context)
    for attr in ("_switchyard_team_ids", "_switchyard_lead_team_ids", "_perm_cache"):
        user.__dict__.pop(attr, None)
    return changes


def _audit_membership(user, action, membership, before, after, context) -> None:
    audit_record(
        actor=user,
        action=action,
        target=membership,
        before=before,
        after=after,
        reason="SSO groups claim",
        context=context,
    )


def _apply_team_memberships(user, wanted: dict[int, str], changes, context) -> None:
    current = {
        m.team_id: m for m in user.team_memberships.select_for_update().select_related("team")
    }
    for membership in current.values():
        if membership.source != TeamMembership.Source.SSO:
            continue
        state = {"team": membership.team.name, "role": membership.role, "source": "sso"}
        if membership.team_id not in wanted:
            _audit_membership(user, "identity.membership_remove", membership, state, None, context)
            membership.delete()
            changes.removed.append(f"{membership.team.name} ({state['role']})")
        elif wanted[membership.team_id] != membership.role:
            membership.role = wanted[membership.team_id]
            membership.save(update_fields=["role"])
            after = {**state, "role": membership.role}
            _audit_membership(user, "identity.membership_change", membership, state, after, context)
            changes.changed.append(f"{membership.team.name} ({membership.role})")
    teams = Team.objects.in_bulk([team_id for team_id in wanted if team_id not in current])
    for team_id, team in teams.items():
        membership = TeamMembership.objects.create(
            user=user, team=team, role=wanted[team_id], source=TeamMembership.Source.SSO
        )
        after = {"team": team.name, "role": membership.role, "source": "sso"}
        _audit_membership(user, "identity.membership_add", membership, None, after, context)
        changes.added.append(f"{team.name} ({membership.role})")


def _apply_platform_roles(user, wanted: set[str], changes, context) -> None:
    granted = {grant.role: grant for grant in user.sso_role_grants.select_for_update()}
    held = set(user.groups.values_list("name", flat=True))
    for role, grant in granted.items():
        if role not in wanted:
            user.groups.remove(*Group.objects.filter(name=role))
            grant.delete()
            audit_record(
                actor=user,
                action="identity.role_remove",
                target=user,
                before={"role": role, "source": "sso"},
                reason="SSO groups claim",
                context=context,
            )
            changes.removed.append(role)
    for role in sorted(wanted - set(granted)):
        if role in held:
            continue  # granted by hand: leave it to whoever granted it
        group, _ = Group.objects.get_or_create(name=role)
        user.groups.add(group)
        SsoRoleGrant.objects.create(user=user, role=role)
        audit_record(
            actor=user,
            action="identity.role_add",
            target=user,
            after={"role": role, "source": "sso"},
            reason="SSO groups claim",
            context=context,
        )
        changes.added.append(role)
    _staff_follow_roles(user, context)


def _staff_follow_roles(user, context) -> None:
    """SREs and platform admins work in the Django admin, so SSO gives them (and only them)
    staff access; superusers keep theirs."""
    staff = (
        user.is_superuser or user.groups.filter(name__in=[SRE_GROUP, PLATFORM_ADMIN_GROUP]).exists()
    )
    if user.is_staff == staff:
        return
    user.is_staff = staff
    user.save(update_fields=["is_staff"])
    audit_record(
        actor=user,
        action="identity.staff_add" if staff else "identity.staff_remove",
        target=user,
        after={"is_staff": staff},
        reason="SSO platform roles",
        context=context,
    )


def membership_add(
    *, actor, team: Team, user, role: str, context: AuditContext | None = None
) -> TeamMembership:
    """Add `user` to `team` by hand (source "manual"). Team leads and platform admins may."""
    permission_require(
        actor=actor,
        perm="portal.add_teammembership",
        obj=team,
        action="identity.membership_add",
        context=context,
        message=f"Only a lead of {team} or a platform admin can add members.",
    )
    if role not in TeamMembership.Role.values:
        raise ValidationFailed(f"Unknown role {role!r}: choose member or lead.")
    with transaction.atomic():
        if TeamMembership.objects.filter(user=user, team=team).exists():
            raise ValidationFailed(f"{user} is already in {team}.")
        membership = TeamMembership.objects.create(user=user, team=team, role=role)
        audit_record(
            actor=actor,
            action="identity.membership_add",
            target=membership,
            after={
                "user": user.get_username(),
                "team": team.name,
                "role": role,
                "source": "manual",
            },
            context=context,
        )
    return membership


def membership_remove(
    *, actor, membership: TeamMembership, context: AuditContext | None = None
) -> None:
    """Take a person out of a team by hand. SSO memberships come back at the next login unless
    the identity provider's group changes too, which the message says."""
    permission_require(
        actor=actor,
        perm="portal.delete_teammembership",
        obj=membership,
        action="identity.membership_remove",
        context=context,
        message=f"Only a lead of {membership.team} or a platform admin can remove members.",
    )
    with transaction.atomic():
        before = {
            "user": membership.user.get_username(),
            "team": membership.team.name,
            "role": membership.role,
            "source": membership.source,
        }
        audit_record(
            actor=actor,
            action="identity.membership_remove",
            target=membership,
            before=before,
            context=context,
        )
        membership.delete()


def audit_export_begin(*, actor, params, context: AuditContext | None = None):
    """Start an export of the audit log: checks the rule (PermissionDenied, the refusal
    audited, for anyone but SREs and platform admins), applies the filters in `params`
    (ValidationFailed with every problem, nothing recorded), records the export in its own
    committed row, and returns (events up to the checkpoint, applied filters, checkpoint)."""
    from .audit import audit_checkpoint
    from .selectors import audit_events_filter

    permission_require(
        actor=actor,
        perm="portal.export_auditevent",
        action="audit.export",
        context=context,
        message="Only SREs and platform admins can export the audit log.",
    )
    events, applied, errors = audit_events_filter(params)
    if errors:
        raise ValidationFailed(" ".join(errors))
    with transaction.atomic():
        audit_record(actor=actor, action="audit.export", after=applied, context=context)
    checkpoint = audit_checkpoint()
    return events.filter(id__lte=checkpoint.head_id), applied, checkpoint
