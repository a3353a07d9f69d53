"""Every write on trains made by a person: plan, move a service, start, cancel. Each checks
permission, writes the audit row in the same transaction and schedules work on commit."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Component, ComponentEnvironment, Environment
from portal.audit import AuditContext, audit_record
from portal.permissions import permission_require

from ..releases.models import Release
from ..releases.services import VERSION_RE, _active_freeze
from . import tasks
from .errors import TrainRefused
from .models import Train, TrainApproval, TrainEvent, TrainService
from .parts import train_approval_mode, train_parts_build
from .planner import MoveRefused, plan_move, plan_waves
from .selectors import train_edges, train_plan

MAX_SERVICES = 500


def train_create(
    *,
    actor,
    environment: Environment,
    title: str,
    items: list[tuple[Component, str]],
    respect_event: bool = False,
    respect_data: bool = False,
    strategy: str = "canary",
    approval_mode: str = "",
    context: AuditContext | None = None,
) -> Train:
    """Plan a train of (component, version) pairs to `environment`; refused on a cycle.
    `approval_mode` ("train" or "wave") is a choice where the environment's policy allows it."""
    permission_require(
        actor=actor,
        perm="deployments.add_train",
        action="train.create",
        environment=environment.name,
        context=context,
        message="Only members of a team and SREs may plan trains.",
    )
    _check_items(items)
    if strategy not in Release.Strategy.values:
        raise TrainRefused(f"Unknown strategy “{strategy}”.")
    mode = train_approval_mode(environment, approval_mode)
    kinds = tuple(k for k, on in (("event", respect_event), ("data", respect_data)) if on)
    ids = [component.pk for component, _ in items]
    plan = plan_waves(nodes=ids, edges=train_edges(ids, kinds), kinds=kinds)
    if not plan.ok:
        raise TrainRefused(_cycles_message(plan, {c.pk: c.name for c, _ in items}))
    wave_of = plan.wave_of()
    with transaction.atomic():
        train = Train.objects.create(
            environment=environment,
            title=title.strip() or f"Train to {environment}",
            respect_event=respect_event,
            respect_data=respect_data,
            strategy=strategy,
            approval_mode=mode,
            created_by=actor,
        )
        TrainService.objects.bulk_create(
            TrainService(train=train, component=c, version=v.strip(), wave=wave_of[c.pk])
            for c, v in items
        )
        _event(
            train,
            f"{actor.get_username()} planned {len(items)} services in {len(plan.waves)} waves",
        )
        audit_record(
            actor=actor,
            action="train.create",
            target=train,
            environment=environment.name,
            after={
                "services": {c.name: v for c, v in items},
                "kinds": list(kinds),
                "strategy": strategy,
                "approvals": mode,
            },
            context=context,
        )
    return train


def _check_items(items) -> None:
    if not items:
        raise TrainRefused("A train needs at least one service.")
    if len(items) > MAX_SERVICES:
        raise TrainRefused(f"A train holds at most {MAX_SERVICES} services.")
    seen = set()
    for component, version in items:
        if component.pk in seen:
            raise TrainRefused(f"{component} is in the train twice: keep one version.")
        seen.add(component.pk)
        if not VERSION_RE.match((version or "").strip()):
            raise TrainRefused(f"“{version}” is not a version for {component}: use a tag.")


def _cycles_message(plan, names) -> str:
    names = {**_via_names(plan.cycles), **names}

    def step(edge) -> str:
        via = f" (through {names.get(edge.via, '?')})" if edge.via is not None else ""
        return f"{names.get(edge.consumer, '?')}{via}"

    loops = [
        " → ".join([names.get(c[0].provider, "?")] + [step(e) for e in c]) for c in plan.cycles
    ]
    return (
        "These services depend on each other in a circle, so no order releases providers "
        "first: " + "; ".join(loops) + ". Ignore event or data edges, or split the train."
    )


def _via_names(groups) -> dict[int, str]:
    """Names of the outside services that implied edges pass through (one query)."""
    ids = {edge.via for group in groups for edge in group if edge.via is not None}
    return dict(Component.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}


def _event(train: Train, message: str, data: dict | None = None) -> None:
    TrainEvent.objects.create(
        train=train, state=train.state, message=message[:500], data=data or {}
    )


def train_move(
    *, actor, train: Train, service: TrainService, wave: int, context: AuditContext | None = None
) -> Train:
    """Put `service` in `wave` (0-based). Later is allowed (its consumers follow); earlier than
    one of its providers is refused with the reason. Only while the train is being planned."""
    permission_require(
        actor=actor,
        perm="deployments.change_train",
        obj=train,
        action="train.move",
        environment=train.environment.name,
        context=context,
        message="Only whoever planned this train and SREs may reorder it.",
    )
    services = list(train.services.select_related("component"))
    plan = train_plan(train, services)
    names = {**_via_names([plan.edges]), **{s.component_id: s.component.name for s in services}}
    try:
        pins = plan_move(plan=plan, node=service.component_id, wave=wave, names=names)
    except MoveRefused as exc:
        raise TrainRefused(str(exc)) from None
    ids = [s.component_id for s in services]
    moved = plan_waves(nodes=ids, edges=plan.edges, kinds=train.edge_kinds, pins=pins)
    wave_of = moved.wave_of()
    with transaction.atomic():
        if not Train.objects.filter(pk=train.pk, state=Train.State.PLANNING).exists():
            raise TrainRefused("This train has started: its plan can no longer change.")
        for s in services:
            s.pin, s.wave = pins[s.component_id], wave_of[s.component_id]
        TrainService.objects.bulk_update(services, ["pin", "wave"])
        _event(train, f"{actor.get_username()} moved {service.component} to wave {wave + 1}")
        audit_record(
            actor=actor,
            action="train.move",
            target=train,
            component=service.component,
            environment=train.environment.name,
            before={"wave": service.wave + 1},
            after={"wave": wave_of[service.component_id] + 1},
            context=context,
        )
    return train


def train_start(*, actor, train: Train, context: AuditContext | None = None) -> Train:
    """Start the train: no freeze on any component and no other train running in the
    environment. Services the starter may not release wait for their owners to approve their
    part, as every service does under the environment's approval policy (`parts`)."""
    permission_require(
        actor=actor,
        perm="deployments.start_train",
        obj=train,
        action="train.start",
        environment=train.environment.name,
        context=context,
        message="Only whoever planned this train and SREs may start it.",
    )
    services = list(train.services.select_related("component__owner"))
    parts = train_parts_build(actor=actor, train=train, services=services, context=context)
    _check_startable(train, services)
    now = timezone.now()
    try:
        with transaction.atomic():
            moved = Train.objects.filter(pk=train.pk, state=Train.State.PLANNING).update(
                state=Train.State.RUNNING, started_by=actor, started_at=now, current_wave=0
            )
            if not moved:
                raise TrainRefused("This train was started already.")
            train.refresh_from_db()
            TrainApproval.objects.bulk_create(parts)
            _event(train, f"{actor.get_username()} started the train" + _asks(parts))
            audit_record(
                actor=actor,
                action="train.start",
                target=train,
                environment=train.environment.name,
                after={"approvals": [f"{p.team.name}: {p.scope}" for p in parts]},
                context=context,
            )
            transaction.on_commit(lambda: tasks.train_tick.delay(train.pk))
            if parts:
                # The approvers are told once the start is committed; a failure there never
                # fails the start (the page and the train list show the parts anyway).
                transaction.on_commit(lambda: _parts_notify(parts), robust=True)
    except IntegrityError:
        other = Train.objects.filter(
            environment=train.environment, state__in=Train.ACTIVE_STATES
        ).first()
        raise TrainRefused(
            f"Another train is running in {train.environment}"
            + (f" (“{other.title}”)" if other else "")
            + ": one train per environment at a time."
        ) from None
    return train


def _parts_notify(parts) -> None:
    from notifications.events import train_parts_requested_notify

    train_parts_requested_notify(parts)


def _asks(parts) -> str:
    if not parts:
        return ""
    teams = sorted({str(part.team) for part in parts})
    return f"; waiting for the approval of {', '.join(teams)} for their parts"


def _check_startable(train: Train, services: list[TrainService]) -> None:
    plan = train_plan(train, services)
    if not plan.ok:
        raise TrainRefused(
            _cycles_message(plan, {s.component_id: str(s.component) for s in services})
        )
    targets = set(
        ComponentEnvironment.objects.filter(
            environment=train.environment, component__in=[s.component_id for s in services]
        ).values_list("component_id", flat=True)
    )
    for service in services:
        if service.component_id not in targets:
            raise TrainRefused(f"{service.component} does not run in {train.environment}.")
        freeze = _active_freeze(service.component, train.environment)
        if freeze:
            raise TrainRefused(
                f"{service.component} is frozen in {train.environment} until "
                f"{freeze.ends_at:%Y-%m-%d %H:%M} UTC: {freeze.reason}"
            )
    busy = (
        Release.objects.filter(
            environment=train.environment,
            component__in=[s.component_id for s in services],
            state__in=Release.ACTIVE_STATES,
        )
        .select_related("component")
        .first()
    )
    if busy:
        raise TrainRefused(f"{busy.component} has a release in progress: wait for it first.")


def train_cancel(
    *, actor, train: Train, reason: str = "", context: AuditContext | None = None
) -> Train:
    """Cancel a train. Before it starts, nothing was released: it ends "cancelled". Running,
    it is stopped like a failed wave: the canaries in flight are aborted and the waves already
    released restored in reverse order; it ends "rolled back" with the reason."""
    permission_require(
        actor=actor,
        perm="deployments.cancel_train",
        obj=train,
        action="train.cancel",
        environment=train.environment.name,
        context=context,
        message="Only whoever planned or started this train, SREs and, while it runs, the "
        "owning teams of its services may cancel it.",
    )
    reason = (reason or "").replace("\x00", "").strip()[:300]
    who = actor.get_username()
    because = f": {reason}" if reason else ""
    with transaction.atomic():
        before = Train.objects.select_for_update().get(pk=train.pk).state
        if before == Train.State.PLANNING:
            Train.objects.filter(pk=train.pk, state=before).update(
                state=Train.State.CANCELLED, finished_at=timezone.now(), reason=reason
            )
            message = f"{who} cancelled the train before it started{because}"
        elif before == Train.State.RUNNING:
            Train.objects.filter(pk=train.pk, state=before).update(
                state=Train.State.ROLLING_BACK,
                reason=reason,
                failure_reason=f"Cancelled by {who}{because}",
            )
            message = f"{who} cancelled the train{because}; rolling back"
        elif before == Train.State.ROLLING_BACK:
            raise TrainRefused("This train is rolling back already.")
        else:
            raise TrainRefused(f"This train is {train.get_state_display().lower()}: it is over.")
        train.refresh_from_db()
        _event(train, message)
        audit_record(
            actor=actor,
            action="train.cancel",
            target=train,
            environment=train.environment.name,
            before={"state": before},
            after={"state": train.state},
            reason=reason,
            context=context,
        )
        if train.state == Train.State.ROLLING_BACK:
            transaction.on_commit(lambda: tasks.train_tick.delay(train.pk))
    return train
