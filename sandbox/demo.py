"""Demo content the GitHub and Argo CD servers share, derived from the demo catalog's names.

`catalog.demo.build_demo_catalog` names service i `"<namespace>-<word>-<i>"` with repository
`https://github.com/example/<name>`; the same formula here gives the sandbox the same services
without a database. Every repository of the owner `example` exists on demand with 5–8 semver
releases chosen deterministically from its name.
"""

import hashlib
import os

from catalog.demo import ENVIRONMENTS, NAMESPACES, WORDS

from .registry import SandboxState

DEMO_OWNER = "example"
IMAGE_REGISTRY = "registry.example.com"
DEFAULT_CANARY_STEPS = "5,pause,25,pause:10s,50,pause:10s,100"


def demo_service_names(count: int) -> list[str]:
    names = []
    for index in range(count):
        namespace = NAMESPACES[(index % (len(NAMESPACES) * 2)) // 2]
        names.append(f"{namespace}-{WORDS[index % len(WORDS)]}-{index}")
    return names


def _seed_number(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def demo_versions(repository: str) -> list[str]:
    """5–8 semver versions, oldest first, the same for the same repository name."""
    seed = _seed_number(repository)
    count = 5 + seed % 4
    major, minor, patch = 1 + seed % 3, seed % 7, 0
    versions = []
    for step in range(count):
        if (seed >> step) % 3 == 0:
            minor, patch = minor + 1, 0
        else:
            patch += 1
        versions.append(f"{major}.{minor}.{patch}")
    return versions


def parse_steps(text: str) -> list[dict]:
    """`"5,pause,25,pause:10s,100"` -> Argo Rollouts canary steps. Raises ValueError."""
    steps: list[dict] = []
    for token in (t.strip() for t in text.split(",") if t.strip()):
        if token == "pause":
            steps.append({"pause": {}})
        elif token.startswith("pause:"):
            duration = token.removeprefix("pause:")
            if not duration.rstrip("smh").isdigit():
                raise ValueError(f"pause duration {duration!r} must look like 30s, 5m or 1h")
            steps.append({"pause": {"duration": duration}})
        elif token.isdigit() and 0 <= int(token) <= 100:
            steps.append({"setWeight": int(token)})
        else:
            raise ValueError(f"canary step {token!r} must be a weight 0-100, pause or pause:30s")
    return steps


def rollout_config(strategy: str, steps: str = "") -> dict:
    """The `rollout:` block of values.yaml for a strategy (canary, bluegreen or rolling)."""
    if strategy == "canary":
        return {"strategy": "canary", "steps": parse_steps(steps or DEFAULT_CANARY_STEPS)}
    if strategy == "bluegreen":
        return {"strategy": "bluegreen", "autoPromotionEnabled": False}
    if strategy == "rolling":
        return {"strategy": "canary", "steps": []}
    raise ValueError(f"strategy {strategy!r} must be canary, bluegreen or rolling")


def app_values(service: str, environment: str, version: str, release_id: str, rollout: dict):
    return {
        "service": service,
        "environment": environment,
        "image": {"repository": f"{IMAGE_REGISTRY}/{service}", "tag": version},
        "release": {"id": release_id},
        "rollout": rollout,
    }


def gitops_seed(state: SandboxState) -> dict[tuple[str, str], dict]:
    """Every demo service in every environment, running an older release so there is news."""
    count = int(state.shared.get("demo_services", os.environ.get("SANDBOX_DEMO_SERVICES", 220)))
    seed = {}
    for index, service in enumerate(demo_service_names(count)):
        versions = demo_versions(service)
        for env_index, (environment, _order, is_production) in enumerate(ENVIRONMENTS):
            # dev runs the second newest, staging the third, prod the fourth.
            version = versions[-2 - env_index]
            if is_production:
                rollout = rollout_config("bluegreen" if index % 7 == 3 else "canary")
            else:
                rollout = rollout_config("rolling")
            seed[(service, environment)] = app_values(service, environment, version, "", rollout)
    return seed
