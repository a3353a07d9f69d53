"""ReplicaSets and Pods as the ReplicaSet controller and the kubelet would write them."""

import copy
import hashlib
import random

from .kube_store import now_iso

SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def replicaset_manifest(deployment: dict, pod_hash: str, revision: int) -> dict:
    from .kube_cluster import REVISION, owner_reference

    meta, spec = deployment["metadata"], deployment["spec"]
    template = copy.deepcopy(spec["template"])
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = pod_hash
    selector = copy.deepcopy(spec["selector"])
    selector.setdefault("matchLabels", {})["pod-template-hash"] = pod_hash
    return {
        "metadata": {
            "name": f"{meta['name']}-{pod_hash}",
            "namespace": meta["namespace"],
            "labels": dict(template["metadata"]["labels"]),
            "annotations": {
                REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(spec.get("replicas", 1)),
                "deployment.kubernetes.io/max-replicas": str(spec.get("replicas", 1) + 1),
            },
            "ownerReferences": [owner_reference(deployment)],
        },
        "spec": {"replicas": 0, "selector": selector, "template": template},
    }


def pod_manifest(replicaset: dict, rng: random.Random) -> dict:
    from .kube_cluster import owner_reference

    meta, template = replicaset["metadata"], replicaset["spec"]["template"]
    suffix = "".join(rng.choice(SAFE_ALPHABET) for _ in range(5))
    spec = copy.deepcopy(template.get("spec") or {})
    spec["nodeName"] = f"sandbox-node-{rng.randint(1, 3)}"
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", "default")
    pod = {
        "metadata": {
            "name": f"{meta['name']}-{suffix}",
            "generateName": f"{meta['name']}-",
            "namespace": meta["namespace"],
            "labels": dict((template.get("metadata") or {}).get("labels") or {}),
            "ownerReferences": [owner_reference(replicaset)],
        },
        "spec": spec,
    }
    annotations = (template.get("metadata") or {}).get("annotations")
    if annotations:
        pod["metadata"]["annotations"] = dict(annotations)
    pod["status"] = pending_status(pod, now_iso())
    return pod


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _addresses(pod: dict) -> dict:
    digest = hashlib.sha256(pod["metadata"]["name"].encode()).digest()
    node = int(pod["spec"]["nodeName"].rsplit("-", 1)[-1])
    pod_ip = f"10.244.{digest[0] % 250}.{digest[1] % 250 + 2}"
    return {
        "hostIP": f"172.18.0.{node + 1}",
        "hostIPs": [{"ip": f"172.18.0.{node + 1}"}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
    }


def _conditions(at: str, ready: bool) -> list[dict]:
    value = "True" if ready else "False"
    return [
        {"type": "PodReadyToStartContainers", "status": value, "lastTransitionTime": at},
        {"type": "Initialized", "status": "True", "lastTransitionTime": at},
        {"type": "Ready", "status": value, "lastTransitionTime": at},
        {"type": "ContainersReady", "status": value, "lastTransitionTime": at},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": at},
    ]


def pending_status(pod: dict, at: str) -> dict:
    containers = [
        {
            "name": c["name"],
            "image": c["image"],
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": 0,
            "state": {"waiting": {"reason": "ContainerCreating"}},
        }
        for c in pod["spec"].get("containers") or []
    ]
    return {
        "phase": "Pending",
        "conditions": _conditions(at, False),
        "startTime": at,
        "qosClass": "Burstable",
        "containerStatuses": containers,
    } | _addresses(pod)


def running_status(pod: dict, at: str) -> dict:
    previous = {c["name"]: c for c in (pod.get("status") or {}).get("containerStatuses") or []}
    containers = []
    for container in pod["spec"].get("containers") or []:
        digest = hashlib.sha256(container["image"].encode()).hexdigest()
        status = {
            "name": container["name"],
            "image": container["image"],
            "imageID": f"{container['image'].split(':')[0]}@sha256:{digest}",
            "containerID": f"containerd://{_digest(pod['metadata']['name'] + container['name'])}",
            "ready": True,
            "started": True,
            "restartCount": previous.get(container["name"], {}).get("restartCount", 0),
            "state": {"running": {"startedAt": at}},
        }
        containers.append(status)
    return {
        "phase": "Running",
        "conditions": _conditions(at, True),
        "startTime": (pod.get("status") or {}).get("startTime", at),
        "qosClass": "Burstable",
        "containerStatuses": containers,
    } | _addresses(pod)
