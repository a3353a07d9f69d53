"""Train pages: plan, the plan's picture and live progress (htmx), move a service, start,
cancel."""

import rules
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django_htmx.http import HttpResponseStopPolling

from portal.audit import AuditContext
from portal.decorators import mutating, mutating_form
from portal.errors import PermissionDenied, PortalError

from . import services
from .forms import TrainMoveForm, TrainPlanForm
from .models import Train, TrainApproval, TrainService
from .parts import train_approval_decide, train_part_ask_again
from .picture import train_picture
from .selectors import train_edges, train_freezes, train_waves


def train_list(request):
    trains = Train.objects.select_related("environment", "created_by")[:100]
    return render(request, "deployments/trains/train_list.html", {"trains": trains})


@mutating_form
def train_new(request):
    if request.method == "GET" and not rules.has_perm("deployments.add_train", request.user):
        raise PermissionDenied("Only members of a team and SREs may plan trains.")
    form = TrainPlanForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            train = services.train_create(
                actor=request.user,
                environment=data["environment"],
                title=data["title"],
                items=data["services"],
                respect_event=data["respect_event"],
                respect_data=data["respect_data"],
                strategy=data["strategy"] or "canary",
                approval_mode=data["approval_mode"],
                context=AuditContext.from_request(request),
            )
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(train)
    return render(request, "deployments/trains/train_new.html", {"form": form})


def _train(pk) -> Train:
    return get_object_or_404(Train.objects.select_related("environment", "created_by"), pk=pk)


def train_detail(request, pk):
    train = _train(pk)
    waves = train_waves(train)
    ids = [s.component_id for wave in waves for s in wave.services]
    kinds = train.edge_kinds
    edges = [e for e in train_edges(ids, kinds) if e.kind == "sync" or e.kind in kinds]
    frozen_now = []
    if train.state == Train.State.PLANNING:
        # The plan shows every freeze now or ahead; a start is refused while one holds.
        now = timezone.now()
        freezes = train_freezes(train.environment, ids, now=now, upcoming=True)
        for wave in waves:
            for service in wave.services:
                service.freezes = freezes.get(service.component_id, [])
                for freeze in service.freezes:
                    freeze.active = freeze.starts_at <= now
                if any(freeze.active for freeze in service.freezes):
                    frozen_now.append(service)
    parts = list(train.approvals.select_related("team", "decided_by"))
    for part in parts:
        part.train = train
        part.may_decide = part.is_open and rules.has_perm(
            "deployments.decide_trainapproval", request.user, part
        )
        part.may_ask_again = (
            part.state == TrainApproval.State.EXPIRED
            and train.state == Train.State.RUNNING
            and rules.has_perm("deployments.reask_train", request.user, train)
        )
    context = {
        "train": train,
        "parts": parts,
        "waves": waves,
        "frozen_now": frozen_now,
        "picture": train_picture(waves, edges),
        "can_change": rules.has_perm("deployments.change_train", request.user, train),
        "can_cancel": not train.is_terminal
        and rules.has_perm("deployments.cancel_train", request.user, train),
    }
    if request.htmx:
        response = render(request, "deployments/trains/train_detail.html#progress", context)
        if train.is_terminal:
            return HttpResponseStopPolling(response.content)
        return response
    return render(request, "deployments/trains/train_detail.html", context)


@mutating
def train_move(request, pk):
    train = _train(pk)
    form = TrainMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Pick a service and a wave number.")
        return redirect(train)
    service = get_object_or_404(TrainService, train=train, pk=form.cleaned_data["service"])
    try:
        services.train_move(
            actor=request.user,
            train=train,
            service=service,
            wave=form.cleaned_data["wave"] - 1,
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(train)


@mutating
def train_start(request, pk):
    train = _train(pk)
    try:
        services.train_start(
            actor=request.user, train=train, context=AuditContext.from_request(request)
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(train)


@mutating
def train_cancel(request, pk):
    train = _train(pk)
    try:
        services.train_cancel(
            actor=request.user,
            train=train,
            reason=request.POST.get("reason", ""),
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(train)


def _part(train, pk) -> TrainApproval:
    part = get_object_or_404(TrainApproval.objects.select_related("team"), train=train, pk=pk)
    part.train = train
    return part


@mutating
def train_approval(request, pk, part):
    train = _train(pk)
    part = _part(train, part)
    try:
        train_approval_decide(
            actor=request.user,
            part=part,
            decision=request.POST.get("decision", ""),
            comment=request.POST.get("comment", ""),
            context=AuditContext.from_request(request),
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    return redirect(train)


@mutating
def train_approval_again(request, pk, part):
    """Ask a team again for its part, which expired unanswered while the train waits."""
    train = _train(pk)
    part = _part(train, part)
    try:
        part = train_part_ask_again(
            actor=request.user, part=part, context=AuditContext.from_request(request)
        )
    except PortalError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, f"{part.team} is asked again: decide by {part.expires_at:%H:%M} UTC."
        )
    return redirect(train)
