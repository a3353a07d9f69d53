"""Release reads reused by several pages."""

from urllib.parse import urlparse

from catalog.models import Component
from integrations.errors import IntegrationError

from .models import Release


def repository_slug(component: Component) -> str:
    """owner/name of the component's GitHub repository (Backstage annotation first)."""
    slug = (component.annotations or {}).get("github.com/project-slug")
    if slug:
        return slug
    path = urlparse(component.repository or "").path.strip("/")
    parts = path.split("/")
    return "/".join(parts[:2]) if len(parts) >= 2 else ""


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


def running_versions(component: Component) -> dict[int, Release]:
    """Per environment id, the last release of `component` that succeeded there."""
    latest: dict[int, Release] = {}
    succeeded = Release.objects.filter(component=component, state="succeeded").order_by(
        "environment_id", "-finished_at"
    )
    # Environments are few; their latest successes are among the most recent ones.
    for release in succeeded.only("id", "environment_id", "version", "finished_at")[:200]:
        latest.setdefault(release.environment_id, release)
    return latest
