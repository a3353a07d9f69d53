"""deployments rows of the RBAC matrix (format: portal/tests/rbac_world.py)."""

from django.urls import reverse

from deployments.models import Release

RELEASERS = {"owner_member", "owner_lead", "sre"}


def _release(state, **extra):
    def setup(w):
        w.extra["release"] = Release.objects.create(
            component=w.component,
            environment=w.production,
            version="v2.0.0",
            previous_version="v1.9.0",
            strategy="canary",
            canary_steps=[5, 25, 50, 100],
            state=state,
            requested_by=w.users["owner_member"],
            **extra,
        )

    return setup


def _url(name):
    return lambda w: reverse(name, args=[w.extra["release"].pk])


RBAC_CASES = [
    {
        "url_name": "deployments:release_start",
        "url": lambda w: reverse("deployments:release_start", args=[w.component.pk]),
        "data": lambda w: {"environment": w.staging.pk, "version": "v1.0.0", "strategy": "rolling"},
        "allowed": RELEASERS,
    },
    {
        "url_name": "deployments:release_promote",
        "url": _url("deployments:release_promote"),
        "setup": _release("paused", current_step=0, set_weight=5),
        "allowed": RELEASERS,
    },
    {
        "url_name": "deployments:release_abort",
        "url": _url("deployments:release_abort"),
        "data": lambda w: {"reason": "error rate climbing"},
        "setup": _release("paused", current_step=0, set_weight=5),
        "allowed": RELEASERS,
    },
    {
        "url_name": "deployments:release_rollback",
        "url": _url("deployments:release_rollback"),
        "data": lambda w: {"reason": "v2.0.0 breaks exports"},
        "setup": _release("failed"),
        "allowed": RELEASERS,
    },
]
