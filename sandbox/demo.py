"""Demo content the GitHub and Argo CD servers share, derived from the demo catalog's names.

`catalog.demo.build_demo_catalog` names service i `"<namespace>-<word>-<i>"` with repository
`https://github.com/example/<name>`; the same formula here gives the sandbox the same services
without a database. Every repository of the owner `example` exists on demand with 5–8 semver
releases chosen deterministically from its name.
"""

import hashlib
import os

from catalog.demo import ENVIRONMENTS, WORDS, demo_service_names

from .github_workflow import example_client
from .registry import SandboxState

DEMO_OWNER = "example"
IMAGE_REGISTRY = "registry.example.com"


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
    """`"5,pause,25,pause:10s,100"` -> Argo Rollouts canary steps. Raises ValueError.

    The shipped client's (examples/github/switchyard_client.py), which the workflow runs.
    """
    return example_client().parse_steps(text)


def rollout_config(strategy: str, steps: str = "") -> dict:
    """The `rollout:` block of values.yaml for a strategy: the shipped client's, as written by
    the workflow's `switchyard_client.py rollout` step."""
    return example_client().rollout_config(strategy, steps)


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


def demo_protos(repository: str) -> dict[str, str]:
    """The .proto files of a demo repository (path -> text), the same for the same name.

    `proto/<service>/v1/<service>.proto` holds a service with 2–3 methods and imports
    `<service>/v1/types.proto`, whose messages it uses: `proto/` is the include root, as in a
    buf module, so fetching `proto/` gives a set that compiles.
    """
    seed = _seed_number(f"protos:{repository}")
    ident = "".join(ch if ch.isalnum() else "_" for ch in repository.lower()).strip("_") or "svc"
    if ident[0].isdigit():
        ident = f"s_{ident}"
    service = "".join(part.capitalize() for part in ident.split("_") if part) + "Service"
    noun = WORDS[seed % len(WORDS)].capitalize()
    package = f"{ident}.v1"
    base = f"{ident}/v1"
    methods = [("Get", noun), ("List", f"{noun}s"), ("Update", noun)][: 2 + seed % 2]
    types = (
        f'syntax = "proto3";\n\npackage {package};\n\n'
        f"// One {noun.lower()} of {repository}.\n"
        f"message {noun} {{\n  string id = 1;\n  string display_name = 2;\n"
        f"  int64 revision = 3;\n}}\n"
    )
    rpcs, messages = [], []
    for verb, subject in methods:
        request, response = f"{verb}{subject}Request", f"{verb}{subject}Response"
        rpc = f"rpc {verb}{subject} ({request}) returns ({response});"
        rpcs.append(f"  // {verb} {subject.lower()}.\n  {rpc}\n")
        field = f"repeated {noun} items = 1;" if verb == "List" else f"{noun} item = 1;"
        messages.append(f"message {request} {{\n  string id = 1;\n}}\n\n")
        messages.append(f"message {response} {{\n  {field}\n}}\n\n")
    main = (
        f'syntax = "proto3";\n\npackage {package};\n\nimport "{base}/types.proto";\n\n'
        f"// The {repository} API.\nservice {service} {{\n{''.join(rpcs)}}}\n\n{''.join(messages)}"
    )
    return {
        f"proto/{base}/{ident}.proto": main.rstrip() + "\n",
        f"proto/{base}/types.proto": types,
    }
