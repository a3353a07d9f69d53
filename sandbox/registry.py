"""The sandbox servers: each speaks one external system's real HTTP API on loopback.

A server module registers itself with `register(name, factory)`; `factory(state)` returns a WSGI
application. `state` is a `SandboxState` shared by all servers of one sandbox, so that, for example,
the Argo CD server can see the Rollouts held by the Kubernetes server.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WsgiApp = Callable[..., Any]


@dataclass
class SandboxState:
    """What the servers of one running sandbox share."""

    directory: Path
    endpoints: dict[str, str] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerSpec:
    name: str
    factory: Callable[[SandboxState], WsgiApp]
    description: str


_SERVERS: dict[str, ServerSpec] = {}

# Modules that define servers; importing one registers its server.
SERVER_MODULES: list[str] = [
    "sandbox.github",
    "sandbox.argocd",
    "sandbox.prometheus",
]


def register(name: str, factory: Callable[[SandboxState], WsgiApp], description: str) -> None:
    _SERVERS[name] = ServerSpec(name=name, factory=factory, description=description)


def servers() -> dict[str, ServerSpec]:
    import importlib

    for module in SERVER_MODULES:
        importlib.import_module(module)
    return dict(_SERVERS)
