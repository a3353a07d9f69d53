"""Release reads reused by several pages."""

from dataclasses import dataclass

from catalog.models import Component
from integrations.errors import IntegrationError

from .models import Release


def repository_slug(component: Component) -> str:
    """owner/name of the component's GitHub repository (Backstage annotation first)."""
    from integrations.github import repo_full_name

    slug = (component.annotations or {}).get("github.com/project-slug")
    if slug:
        return slug
    try:
        return repo_full_name(component.repository) if component.repository else ""
    except IntegrationError:
        return ""


def release_versions(component: Component) -> tuple[list, str]:
    """The repository's versions, newest first, or ([], what went wrong and what to do)."""
    from integrations.github import github_client

    slug = repository_slug(component)
    if not slug:
        return [], "This component has no GitHub repository in the catalog: type the version."
    try:
        return list(github_client().versions_list(slug)), ""
    except IntegrationError as exc:
        return [], f"GitHub could not list versions ({exc}). Type the version, or try again later."


@dataclass(frozen=True)
class Sparkline:
    label: str
    version: str
    points: str  # SVG polyline points, already scaled
    last_percent: float | None
    peak_percent: float


SPARK_WIDTH, SPARK_HEIGHT = 240, 48


def error_rate_sparklines(release: Release, *, minutes: int = 15) -> tuple[list[Sparkline], str]:
    """Error rate of the new and the stable version over the last minutes, ready to draw.

    Returns (sparklines, problem): Prometheus being down is a message, not an exception.
    """
    from integrations.prometheus import prometheus_client

    wanted = [("new", release.version)]
    if release.previous_version:
        wanted.append(("stable", release.previous_version))
    try:
        by_version = prometheus_client().error_rate_series_by_version(
            release.component.name,
            [version for _, version in wanted],
            minutes,
            environment=release.environment.name,
        )  # one query for both versions: the card's budget is 50 ms
    except IntegrationError as exc:
        return [], f"Prometheus could not be asked ({exc.message}); error rates are unknown."
    series = {label: by_version[version] for label, version in wanted}
    peak = max([s.value for samples in series.values() for s in samples] + [0.01])
    lines = []
    for label, version in wanted:
        samples = series[label]
        lines.append(
            Sparkline(
                label,
                version,
                _points(samples, peak),
                samples[-1].value * 100 if samples else None,
                peak * 100,
            )
        )
    return lines, ""


def _points(samples, peak: float) -> str:
    if len(samples) < 2:
        return ""
    start, end = samples[0].timestamp, samples[-1].timestamp
    span = max(end - start, 1)
    return " ".join(
        f"{(s.timestamp - start) / span * SPARK_WIDTH:.1f},"
        f"{SPARK_HEIGHT - s.value / peak * (SPARK_HEIGHT - 4):.1f}"
        for s in samples
    )


def live_version(target) -> str:
    """The version a ComponentEnvironment runs now (the image tag of its healthy pods, as Argo
    CD sees them), or "" when nobody can tell or more than one version runs."""
    from integrations.argocd import argocd_client

    if not target.argocd_application:
        return ""
    try:
        images = argocd_client().running_images(target.argocd_application)
    except IntegrationError:
        return ""
    tags = {image.rsplit(":", 1)[1] for image in images if ":" in image.rsplit("/", 1)[-1]}
    return tags.pop() if len(tags) == 1 else ""


def environment_gated(environment) -> bool:
    """True when going past a pause in `environment` needs an approval (an approval policy
    exists for it). Asked through the ORM relation, so releases import nothing of approvals:
    approvals depends on deployments, never the reverse (docs/architecture.md)."""
    from catalog.models import Environment

    return Environment.objects.filter(pk=environment.pk, approval_policy__isnull=False).exists()


def release_summary(component, *, window: int = 500) -> tuple[dict[int, Release], dict[int, str]]:
    """In one query, per environment id: what runs (the last release that succeeded there) and
    the version Restore would bring back (restore.restore_plan: the newest succeeded version that
    is not the latest release's). Environments are few: their answers are among the component's
    most recent `window` releases."""
    running, restorable, _ = _summary(_window(component, window))
    return running, restorable


@dataclass(frozen=True)
class ReleaseOverview:
    running: dict  # environment id -> the release that runs there
    restorable: dict  # environment id -> the version Restore would bring back
    active: list  # the component's active releases, in environment order
    recent: list  # its newest releases, newest first


def release_overview(component, *, recent: int = 5, window: int = 500) -> ReleaseOverview:
    """The service page's releases card in two queries: the summary window (narrow rows), then
    the full rows of the active releases and of the `recent` newest ones together. Active
    releases are asked for by state, so one older than the window is still found."""
    from django.db.models import Q

    running, restorable, newest = _summary(_window(component, window))
    if not newest:  # no release at all: nothing is active either
        return ReleaseOverview(running, restorable, [], [])
    recent_ids = [r.id for r in newest[:recent]]
    rows = list(
        Release.objects.filter(component=component)
        .filter(Q(state__in=Release.ACTIVE_STATES) | Q(pk__in=recent_ids))
        .select_related("environment", "requested_by", "component__owner")
        .order_by("-created_at")
    )
    active = sorted(
        (r for r in rows if r.state in Release.ACTIVE_STATES),
        key=lambda r: (r.environment.order, -r.created_at.timestamp()),
    )
    wanted = set(recent_ids)
    return ReleaseOverview(running, restorable, active, [r for r in rows if r.id in wanted])


def _window(component, window: int) -> list:
    return list(
        Release.objects.filter(component=component)
        .order_by("-created_at")
        .only("id", "environment_id", "version", "state", "created_at", "finished_at")[:window]
    )


def _summary(rows: list) -> tuple[dict[int, Release], dict[int, str], list]:
    latest: dict[int, str] = {}
    for release in rows:
        latest.setdefault(release.environment_id, release.version)
    succeeded = sorted(
        (r for r in rows if r.state == Release.State.SUCCEEDED and r.finished_at),
        key=lambda r: r.finished_at,
        reverse=True,
    )
    running: dict[int, Release] = {}
    restorable: dict[int, str] = {}
    for release in succeeded:
        running.setdefault(release.environment_id, release)
        if release.version != latest[release.environment_id]:
            restorable.setdefault(release.environment_id, release.version)
    return running, restorable, rows
