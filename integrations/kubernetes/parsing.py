"""Turning Kubernetes API objects (plain dicts) into our dataclasses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kubernetes.client.exceptions import ApiException

from .types import (
    RESTARTED_AT,
    SECRET_NAME,
    ConfigMapInfo,
    ConfigMapMount,
    ContainerInfo,
    DeploymentInfo,
    EnvFrom,
    EnvVar,
    HpaInfo,
    MetricValue,
    PodInfo,
    PodRestart,
    Resources,
    RolloutInfo,
    ScaleInfo,
)


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and body.get("message"):
        return f"{body['message']} (HTTP {exc.status})"
    return f"HTTP {exc.status} {exc.reason or ''}".strip()


def _split_image(image: str) -> tuple[str, str]:
    if "@" in image:
        return image.split("@", 1)[0], image.split("@", 1)[1]
    repository, _, tag = image.rpartition(":")
    if not repository or "/" in tag:
        return image, "latest"
    return repository, tag


def _env_var(item: dict) -> EnvVar:
    name = item["name"]
    source = item.get("valueFrom") or {}
    if "secretKeyRef" in source:
        ref = source["secretKeyRef"]
        return EnvVar(name, None, "secret", ref.get("name", ""), ref.get("key", ""), redacted=True)
    if "configMapKeyRef" in source:
        ref = source["configMapKeyRef"]
        return EnvVar(name, None, "configmap", ref.get("name", ""), ref.get("key", ""))
    if "fieldRef" in source:
        return EnvVar(name, None, "field", ref_key=source["fieldRef"].get("fieldPath", ""))
    if "resourceFieldRef" in source:
        return EnvVar(
            name, None, "resource", ref_key=source["resourceFieldRef"].get("resource", "")
        )
    if SECRET_NAME.search(name):
        return EnvVar(name, None, "value", redacted=True)
    return EnvVar(name, item.get("value", ""))


def _config_mounts(item: dict, volumes: dict) -> tuple[ConfigMapMount, ...]:
    """The container's mounts of ConfigMap volumes (`volumes`: the pod's, by name)."""
    mounts = []
    for mount in item.get("volumeMounts") or []:
        source = (volumes.get(mount.get("name")) or {}).get("configMap")
        if source is None:
            continue
        items = tuple((i.get("key", ""), i.get("path", "")) for i in source.get("items") or [])
        mounts.append(
            ConfigMapMount(
                source.get("name", ""), mount.get("mountPath", ""), items, mount.get("subPath", "")
            )
        )
    return tuple(mounts)


def _container(item: dict, volumes: dict | None = None) -> ContainerInfo:
    resources = item.get("resources") or {}
    requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
    env_from = []
    for source in item.get("envFrom") or []:
        for key, kind in (("configMapRef", "configmap"), ("secretRef", "secret")):
            if key in source:
                env_from.append(
                    EnvFrom(kind, source[key].get("name", ""), source.get("prefix", ""))
                )
    _, tag = _split_image(item["image"])
    return ContainerInfo(
        name=item["name"],
        image=item["image"],
        tag=tag,
        resources=Resources(
            requests.get("cpu"), limits.get("cpu"), requests.get("memory"), limits.get("memory")
        ),
        env=tuple(_env_var(env) for env in item.get("env") or []),
        env_from=tuple(env_from),
        config_mounts=_config_mounts(item, volumes or {}),
    )


def _deployment_info(env: str, deployment: dict, hpa: dict | None, pods: list) -> DeploymentInfo:
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    template = spec.get("template") or {}
    pod_spec = template.get("spec") or {}
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    containers = tuple(_container(c, volumes) for c in pod_spec.get("containers") or [])
    strategy = spec.get("strategy") or {}
    rolling = strategy.get("rollingUpdate") or {}
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    first = containers[0] if containers else None
    return DeploymentInfo(
        environment=env,
        namespace=meta["namespace"],
        name=meta["name"],
        image=first.image if first else "",
        tag=first.tag if first else "",
        containers=containers,
        replicas_desired=spec.get("replicas", 1),
        replicas_ready=status.get("readyReplicas", 0),
        replicas_available=status.get("availableReplicas", 0),
        replicas_updated=status.get("updatedReplicas", 0),
        replicas_current=status.get("replicas", 0),
        strategy=strategy.get("type")
        or ("Canary" if "canary" in strategy else "BlueGreen" if "blueGreen" in strategy else "")
        or "RollingUpdate",
        max_surge=str(rolling["maxSurge"]) if "maxSurge" in rolling else None,
        max_unavailable=str(rolling["maxUnavailable"]) if "maxUnavailable" in rolling else None,
        hpa=_hpa_info(hpa) if hpa else None,
        restarts=_restarts(pods),
        restarted_at=annotations.get(RESTARTED_AT) or spec.get("restartAt"),
        generation=meta.get("generation", 1),
        observed_generation=int(status.get("observedGeneration") or 0),
        kind=deployment.get("kind") or "Deployment",
        running_tags=_running_tags(pods),
        pods=_pods(pods),
    )


def _running_tags(pods: list[dict]) -> tuple[str, ...]:
    tags = set()
    for pod in pods:
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            if container.get("ready"):
                tags.add(_split_image(container.get("image", ""))[1])
    return tuple(sorted(tags))


def _pods(pods: list[dict]) -> tuple[PodInfo, ...]:
    """Name, version, ready containers, restarts and age of each pod, newest first."""
    found = []
    for pod in pods:
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        images = [c.get("image", "") for c in spec.get("containers") or []]
        tag = _split_image(images[0])[1] if images else ""
        statuses = status.get("containerStatuses") or []
        found.append(
            PodInfo(
                name=pod["metadata"]["name"], version=tag,
                ready=sum(1 for c in statuses if c.get("ready")), containers=len(images),
                restarts=sum(c.get("restartCount", 0) for c in statuses),
                phase=status.get("phase", ""),
                created_at=_parse_time(pod["metadata"].get("creationTimestamp")),
            )
        )  # fmt: skip
    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda p: (p.created_at or epoch, p.name), reverse=True)
    return tuple(found)


def _restarts(pods: list[dict]) -> tuple[PodRestart, ...]:
    found = []
    for pod in pods:
        for container in (pod.get("status") or {}).get("containerStatuses") or []:
            if not container.get("restartCount"):
                continue
            terminated = (container.get("lastState") or {}).get("terminated") or {}
            finished = terminated.get("finishedAt")
            found.append(
                PodRestart(
                    pod=pod["metadata"]["name"],
                    container=container["name"],
                    restart_count=container["restartCount"],
                    last_reason=terminated.get("reason", ""),
                    last_finished_at=_parse_time(finished),
                )
            )
    epoch = datetime.min.replace(tzinfo=UTC)
    found.sort(key=lambda r: r.last_finished_at or epoch, reverse=True)
    return tuple(found)


def _parse_time(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _with_cpu_target(spec: dict, utilization: int) -> list[dict]:
    metrics = [dict(m) for m in spec.get("metrics") or []]
    cpu = {
        "type": "Resource",
        "resource": {
            "name": "cpu",
            "target": {"type": "Utilization", "averageUtilization": utilization},
        },
    }
    for index, metric in enumerate(metrics):
        if metric.get("type") == "Resource" and (metric.get("resource") or {}).get("name") == "cpu":
            metrics[index] = cpu
            return metrics
    return [*metrics, cpu]


def _hpa_info(hpa: dict) -> HpaInfo:
    spec, status = hpa["spec"], hpa.get("status") or {}
    current = {
        m["resource"]["name"]: m["resource"].get("current") or {}
        for m in status.get("currentMetrics") or []
        if m.get("type") == "Resource" and m.get("resource")
    }
    metrics = []
    for metric in spec.get("metrics") or []:
        resource = metric.get("resource") or {}
        if metric.get("type") != "Resource" or not resource.get("name"):
            continue
        now = current.get(resource["name"], {})
        metrics.append(
            MetricValue(
                name=resource["name"],
                target_utilization=(resource.get("target") or {}).get("averageUtilization"),
                current_utilization=now.get("averageUtilization"),
                current_average=now.get("averageValue"),
            )
        )
    cpu = next((m for m in metrics if m.name == "cpu"), None)
    return HpaInfo(
        name=hpa["metadata"]["name"],
        min_replicas=spec.get("minReplicas", 1),
        max_replicas=spec["maxReplicas"],
        target_cpu_utilization=cpu.target_utilization if cpu else None,
        current_cpu_utilization=cpu.current_utilization if cpu else None,
        current_replicas=status.get("currentReplicas", 0),
        desired_replicas=status.get("desiredReplicas", 0),
        metrics=tuple(metrics),
        last_scale_time=str(status["lastScaleTime"]) if status.get("lastScaleTime") else None,
    )


def _scale_info(scale: dict) -> ScaleInfo:
    status = scale.get("status") or {}
    return ScaleInfo(
        name=scale["metadata"]["name"],
        replicas=(scale.get("spec") or {}).get("replicas", 0),
        current_replicas=status.get("replicas", 0),
        selector=status.get("selector", ""),
    )


def _configmap_info(configmap: dict) -> ConfigMapInfo:
    meta = configmap["metadata"]
    return ConfigMapInfo(
        namespace=meta["namespace"],
        name=meta["name"],
        data=dict(configmap.get("data") or {}),
        resource_version=meta.get("resourceVersion", ""),
    )


def _rollout_info(rollout: dict) -> RolloutInfo:
    meta, spec, status = rollout["metadata"], rollout.get("spec") or {}, rollout.get("status") or {}
    steps = ((spec.get("strategy") or {}).get("canary") or {}).get("steps") or []
    weights = (status.get("canary") or {}).get("weights") or {}
    return RolloutInfo(
        namespace=meta["namespace"],
        name=meta["name"],
        phase=status.get("phase", ""),
        message=status.get("message", ""),
        replicas=spec.get("replicas", 1),
        steps=tuple(steps),
        current_step_index=status.get("currentStepIndex"),
        paused=bool(spec.get("paused")) or bool(status.get("pauseConditions")),
        pause_reasons=tuple(p.get("reason", "") for p in status.get("pauseConditions") or []),
        aborted=bool(status.get("abort")),
        promote_full=bool(status.get("promoteFull")),
        stable_rs=status.get("stableRS", ""),
        current_pod_hash=status.get("currentPodHash", ""),
        canary_weight=(weights.get("canary") or {}).get("weight", 0),
        stable_weight=(weights.get("stable") or {}).get("weight", 100),
        resource_version=meta.get("resourceVersion", ""),
        status=status,
    )
