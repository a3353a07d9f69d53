"""DORA pages: the organisation, a namespace, a team, a service; each also as CSV."""

import csv

from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from catalog.models import Component, Namespace, Team

from .charts import bar_chart, format_value
from .metrics import DEFINITIONS, Dora
from .selectors import Scope, dora_cached, weeks_param

CSV_COLUMNS = ["week_start", "deployments", "changes", "failed_changes",
               "change_failure_rate_percent", "lead_time_median_hours",
               "time_to_restore_median_hours"]  # fmt: skip


def dora_charts(dora: Dora) -> list:
    labels = [f"{w.start:%d %b}" for w in dora.weeks]
    weeks = dora.weeks
    plan = [
        ("deployments", "Deployment frequency", "", f"{dora.per_week:g} / week",
         [w.deployments for w in weeks]),
        ("lead_time", "Lead time for changes", "h", format_value(dora.lead_time_hours, "h"),
         [w.lead_time_hours for w in weeks]),
        ("failure_rate", "Change failure rate", "%", format_value(dora.failure_rate, "%"),
         [w.failure_rate for w in weeks]),
        ("restore_time", "Time to restore", "h", format_value(dora.restore_time_hours, "h"),
         [w.restore_time_hours for w in weeks]),
    ]  # fmt: skip
    return [
        bar_chart(
            key=key,
            title=title,
            unit=unit,
            headline=headline,
            definition=DEFINITIONS[key],
            values=values,
            labels=labels,
        )  # fmt: skip
        for key, title, unit, headline, values in plan
    ]


def _answer(request, scope: Scope, *, export: bool, subject=None):
    weeks = weeks_param(request.GET.get("weeks"))
    dora = dora_cached(scope, weeks=weeks)
    if export:
        return _csv(scope, dora)
    context = {
        "scope": scope,
        "subject": subject,
        "dora": dora,
        "charts": dora_charts(dora),
        "weeks": weeks,
        "week_choices": (4, 12, 26, 52),
        "csv_url": request.path.rstrip("/") + "/export.csv" + f"?weeks={weeks}",
    }
    return render(request, "deployments/dora/dora_detail.html", context)


def _csv(scope: Scope, dora: Dora) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d")
    slug = "".join(c if c.isalnum() else "-" for c in scope.title.lower())
    response["Content-Disposition"] = f'attachment; filename="dora-{slug}-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for w in dora.weeks:
        writer.writerow(
            [f"{w.start:%Y-%m-%d}", w.deployments, w.changes, w.failures,
             _blank(w.failure_rate), _blank(w.lead_time_hours), _blank(w.restore_time_hours)]
        )  # fmt: skip
    return response


def _blank(value) -> str:
    return "" if value is None else f"{value:g}"


def dora_organisation(request, export=False):
    scope = Scope("organisation", "Organisation", None, key="organisation")
    return _answer(request, scope, export=export)


def dora_namespace(request, mns, name, export=False):
    namespace = get_object_or_404(Namespace, metadata_namespace=mns, name=name)
    scope = Scope("namespace", str(namespace), Q(namespace=namespace), f"namespace:{namespace.pk}")
    return _answer(request, scope, export=export, subject=namespace)


def dora_team(request, mns, name, export=False):
    team = get_object_or_404(Team, metadata_namespace=mns, name=name)
    scope = Scope("team", str(team), Q(owner=team), key=f"team:{team.pk}")
    return _answer(request, scope, export=export, subject=team)


def dora_service(request, pk, export=False):
    component = get_object_or_404(Component, pk=pk)
    scope = Scope("service", str(component), Q(pk=component.pk), key=f"service:{component.pk}")
    return _answer(request, scope, export=export, subject=component)
