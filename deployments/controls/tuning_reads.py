"""What a service picks up from its runtime ConfigMap, read from its live pod template.

A key Switchyard writes is useless unless the deployment reads it: as an environment variable
(`env[].valueFrom.configMapKeyRef` or `envFrom`, read once when a pod starts) or as a file of a
mounted ConfigMap volume (refreshed in place by the kubelet, except a `subPath` mount). The
tuning page shows, per key, which of these apply, and the keys the service reads that nobody
manages here (the old `features` blob next to the new toggles).
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass

from catalog.models import ComponentEnvironment
from catalog.selectors import environment_kube_contexts
from integrations.errors import IntegrationError
from integrations.kubernetes import DeploymentInfo, kubernetes_adapter

from .selectors import control_live
from .tuning_machine import configmap_name

# What a shell (and most programs' env helpers) accept as a variable name.
SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ReadWay:
    """One way the service sees a key: `kind` "env" or "file", `name` the variable or path."""

    kind: str
    name: str
    container: str  # named only when the pod has several
    refreshed: bool  # a change is seen without restarting the pods
    note: str = ""


@dataclass(frozen=True)
class KeyRead:
    key: str
    managed: bool  # a runtime key declared in Switchyard (it writes it)
    ways: tuple[ReadWay, ...]

    @property
    def read(self) -> bool:
        return bool(self.ways)

    @property
    def needs_restart(self) -> bool:
        """Read, but only when a pod starts: a change reaches the service after a restart."""
        return self.read and not any(way.refreshed for way in self.ways)


def configmap_reads(
    *, info: DeploymentInfo, configmap: str, managed: Iterable[str], present: Iterable[str]
) -> list[KeyRead]:
    """Every managed key, and every key now in the ConfigMap that the service reads, with how."""
    managed = set(managed)
    reads = []
    for key in sorted(managed | set(present)):
        several = len(info.containers) > 1  # then each way names its container
        ways = tuple(
            way
            for c in info.containers
            for way in _ways(c, c.name if several else "", configmap, key)
        )
        if key in managed or ways:
            reads.append(KeyRead(key=key, managed=key in managed, ways=ways))
    return reads


def _ways(container, label: str, configmap: str, key: str):
    for var in container.env:
        if var.source == "configmap" and (var.ref_name, var.ref_key) == (configmap, key):
            yield ReadWay("env", var.name, label, refreshed=False)
    for source in container.env_from:
        if source.kind == "configmap" and source.name == configmap:
            name = source.prefix + key
            note = "" if SHELL_NAME.match(name) else "not a valid shell variable name"
            yield ReadWay("env", name, label, refreshed=False, note=note)
    for mount in container.config_mounts:
        if mount.name != configmap:
            continue
        paths = [path for k, path in mount.items if k == key] if mount.items else [key]
        for path in paths:
            if mount.sub_path:
                if mount.sub_path == path:
                    note = "mounted with subPath: the kubelet does not refresh it"
                    yield ReadWay("file", mount.path, label, refreshed=False, note=note)
                continue
            full = f"{mount.path.rstrip('/')}/{path}"
            yield ReadWay("file", full, label, refreshed=True)


@dataclass(frozen=True)
class TargetReads:
    configmap: str
    reads: list[KeyRead]
    error: str = ""  # the live deployment could not be read
    note: str = ""  # the ConfigMap could not be read: only the managed keys are listed


def tuning_reads(target: ComponentEnvironment) -> TargetReads:
    """Read the live pod template (and the ConfigMap's key names, never shown as values)."""
    configmap = configmap_name(target)
    live = control_live(target)
    if not live.known:
        return TargetReads(configmap, [], error=live.error)
    managed = list(target.component.tuning_keys.values_list("key", flat=True))
    environment, note = target.environment, ""
    try:
        present = kubernetes_adapter(contexts=environment_kube_contexts()).configmap_get(
            environment.name, environment.kube_namespace or "default", configmap
        )
        keys = list(present.data)
    except IntegrationError as exc:
        keys, note = [], f"{configmap} could not be read ({exc.message}): managed keys only."
    reads = configmap_reads(info=live.info, configmap=configmap, managed=managed, present=keys)
    return TargetReads(configmap, reads, note=note)
