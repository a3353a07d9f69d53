"""CDEvents (spec 0.5.1) for release transitions and incidents: which events, and their JSON.

- queued (created): pipelineRun.queued
- workflow (the run started): pipelineRun.started
- succeeded: pipelineRun.finished (success), then service.deployed (the first version
  there), service.upgraded, or service.rolledback (a rollback or Restore)
- failed: pipelineRun.finished (failure, with the error)
- aborted: pipelineRun.finished (failure); once it had reached the cluster also
  service.rolledback (traffic back to the previous version) or service.removed (none ran)

The pipeline run is the release (subject `release-<id>`); the service is the component, in the
environment. Every event of a release shares one `chainId`.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

SPEC_VERSION = "0.5.1"
TYPES = {
    "pipelinerun.queued": "dev.cdevents.pipelinerun.queued.0.3.0",
    "pipelinerun.started": "dev.cdevents.pipelinerun.started.0.3.0",
    "pipelinerun.finished": "dev.cdevents.pipelinerun.finished.0.3.0",
    "service.deployed": "dev.cdevents.service.deployed.0.3.0",
    "service.upgraded": "dev.cdevents.service.upgraded.0.3.0",
    "service.rolledback": "dev.cdevents.service.rolledback.0.3.0",
    "service.removed": "dev.cdevents.service.removed.0.3.0",
    "incident.detected": "dev.cdevents.incident.detected.0.3.0",
}
CHAIN_NAMESPACE = uuid.UUID("6f1f9a5e-7f39-4a8e-9d43-2b1c0d6a9e11")


@dataclass(frozen=True)
class ReleaseFacts:
    """What the events of one release need, read once inside the transition."""

    id: int
    component: str
    environment: str
    version: str
    previous_version: str
    rollback: bool  # a rollback or Restore
    reached_cluster: bool
    error: str
    url: str


def site(path: str = "") -> str:
    return settings.SITE_URL.rstrip("/") + path


def artifact_id(component: str, version: str) -> str:
    """A package URL naming what runs: pkg:generic/<service>@<version>."""
    return f"pkg:generic/{component}@{version}"


def cdevent(kind: str, *, subject_id: str, source: str, content: dict, chain: str = "") -> dict:
    context = {
        "specversion": SPEC_VERSION,
        "id": str(uuid.uuid4()),
        "source": source,
        "type": TYPES[kind],
        "timestamp": timezone.now().isoformat().replace("+00:00", "Z"),
    }
    if chain:
        context["chainId"] = chain
    return {"context": context, "subject": {"id": subject_id, "source": source, "content": content}}


def release_cdevents(facts: ReleaseFacts, state: str) -> list[dict]:
    """The CDEvents a release reaching `state` emits, in the order they are delivered."""
    chain = str(uuid.uuid5(CHAIN_NAMESPACE, f"release:{facts.id}"))
    source = site(f"/releases/{facts.id}/")
    run = {"pipelineName": f"deploy {facts.component} to {facts.environment}", "uri": facts.url}
    environment = {"id": facts.environment, "source": site("/catalog/")}

    def pipeline(kind, **extra):
        content = {**run, **extra}
        return cdevent(kind, subject_id=f"release-{facts.id}", source=source, content=content,
                       chain=chain)  # fmt: skip

    def service(kind, version=""):
        content = {"environment": environment}
        if version:
            content["artifactId"] = artifact_id(facts.component, version)
        return cdevent(kind, subject_id=facts.component, source=source, content=content,
                       chain=chain)  # fmt: skip

    if state == "queued":
        return [pipeline("pipelinerun.queued")]
    if state == "workflow":
        return [pipeline("pipelinerun.started")]
    if state == "succeeded":
        kind = "service.upgraded" if facts.previous_version else "service.deployed"
        kind = "service.rolledback" if facts.rollback else kind
        return [pipeline("pipelinerun.finished", outcome="success"), service(kind, facts.version)]
    if state == "failed":
        return [pipeline("pipelinerun.finished", outcome="failure", errors=facts.error[:1000])]
    if state == "aborted":
        events = [pipeline("pipelinerun.finished", outcome="failure", errors="aborted")]
        if facts.reached_cluster and facts.previous_version:
            events.append(service("service.rolledback", facts.previous_version))
        elif facts.reached_cluster:
            events.append(service("service.removed"))
        return events
    return []


def incident_cdevent(*, pagerduty_id: str, title: str, component: str, environment: str,
                     url: str) -> dict:  # fmt: skip
    content = {
        "description": title[:500] or "PagerDuty incident",
        "environment": {"id": environment},
        "service": {"id": component},
    }
    return cdevent(
        "incident.detected", subject_id=pagerduty_id, source=url or site("/oncall/"),
        content=content,
    )  # fmt: skip
